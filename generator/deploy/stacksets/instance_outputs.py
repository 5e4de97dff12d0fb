"""StackSet instances have no outputs of their own (StackInstance carries none): each instance's stack is read
in its own account and region, with credentials of the execution role there (sts:AssumeRole; the role
trusts the administrator account), or the caller's own when the account is the caller's."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from generator.config import Config
from generator.deploy.clients import AWS_FAULTS, AwsClients, fault_text
from generator.deploy.parallel import run_parallel
from generator.deploy.stack_states import describe_stack, stack_outputs
from generator.deploy.stacksets.instance_states import StackSetState
from generator.deploy.stacksets.specs import Instance

StackSetInstance = tuple[str, Instance]  # (StackSet name, (account, region))


def read_instance_outputs(
    clients: AwsClients, config: Config, states: Iterable[StackSetState], max_parallel: int
) -> tuple[dict[StackSetInstance, dict[str, str]], dict[StackSetInstance, str]]:
    """Every instance's stack outputs, and the instances whose stack could not be read, with why (one line).
    An instance without a stack (a create that failed) is in neither."""
    assert config.stacksets is not None
    role = config.stacksets.execution_role_name
    wanted: dict[str, tuple[StackSetInstance, str]] = {}
    for state in states:
        for instance, summary in state.instances.items():
            if summary.get("StackId"):
                wanted["|".join((state.name, *instance))] = ((state.name, instance), summary["StackId"])

    def read(key: StackSetInstance, stack_id: str) -> dict[str, str] | str:
        (account, region) = key[1]
        try:
            return stack_outputs(describe_stack(clients.cloudformation_in(account, role, region), stack_id))
        except AWS_FAULTS as error:
            return f"cannot read its stack through role {role} of account {account}: {fault_text(error)}"

    tasks = {name: (lambda k=key, s=stack_id: read(k, s)) for name, (key, stack_id) in wanted.items()}
    found = run_parallel(tasks, max_parallel, threading.Event(), lambda: [])
    outputs: dict[StackSetInstance, dict[str, str]] = {}
    unreadable: dict[StackSetInstance, str] = {}
    for name, (key, _) in wanted.items():
        value: Any = found[name]
        if isinstance(value, str):
            unreadable[key] = value
        else:
            outputs[key] = value
    return outputs, unreadable
