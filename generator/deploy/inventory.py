"""`status` in change-set mode: what is deployed where, orphans from older configs included.

Orphans are regional stacks in regions the config no longer lists; finding them means asking every region
botocore knows. Regions that refuse (opt-in regions not enabled, no permission) are reported and skipped,
never fatal.
"""

from __future__ import annotations

import threading

from generator.config import Config
from generator.config.regions import known_regions
from generator.deploy.clients import AWS_FAULTS, AwsClients, aws_errors, fault_text
from generator.deploy.parallel import run_parallel
from generator.deploy.reports import ABSENT, Inventory, StackState
from generator.deploy.stack_states import describe_stack, format_time, stack_outputs


def _state(clients: AwsClients, region: str, name: str, orphan: bool = False) -> StackState:
    # Orphan candidates are every other region: the scan's quick client, so a blocked endpoint cannot stall.
    stack = describe_stack(clients.cloudformation(region, scan=orphan), name)
    if stack is None:
        return StackState(region, name, ABSENT, orphan=orphan)
    updated = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    drift = stack.get("DriftInformation") or {}
    checked = drift.get("LastCheckTimestamp")
    return StackState(
        region,
        name,
        stack["StackStatus"],
        last_update=format_time(updated) if updated else "",
        function_arn=stack_outputs(stack).get("FunctionArn", ""),
        endpoint=stack_outputs(stack).get("Endpoint", ""),
        orphan=orphan,
        stack_id=stack["StackId"],
        drift_status=drift.get("StackDriftStatus", "") if checked else "",
        last_drift_check=format_time(checked) if checked else "",
    )


def stack_inventory(config: Config, clients: AwsClients, max_parallel: int, scan_orphans: bool = True) -> Inventory:
    """The global stack, each configured region's stack, and (scan_orphans) stacks in every other region."""
    others = [region for region in known_regions() if region not in config.regions] if scan_orphans else []
    clients.prepare([config.home_region, *config.regions])
    clients.prepare(others, scan=True)
    name = config.regional_stack_name
    with aws_errors(f"stack {config.global_stack_name} in {config.home_region}"):
        result = Inventory([_state(clients, config.home_region, config.global_stack_name)])
    stop = threading.Event()

    def look(region: str, orphan: bool) -> StackState | str:
        try:
            return _state(clients, region, name, orphan)
        except AWS_FAULTS as error:
            return fault_text(error)

    tasks = {region: (lambda r=region: look(r, False)) for region in config.regions}
    tasks.update({region: (lambda r=region: look(r, True)) for region in others})
    found = run_parallel(tasks, max_parallel, stop, lambda: [])
    for region in [*config.regions, *others]:
        state = found[region]
        if isinstance(state, str):
            result.unreachable[region] = state
        elif not state.orphan or state.status != ABSENT:
            result.stacks.append(state)
    return result
