"""The questions the engines ask (generator.deploy.engine_base.Question), asked of the person at the terminal:
before a deploy widens IAM or replaces a resource, before anything is deleted. YES=1 (--yes) answers yes;
without a terminal, a deletion is answered no (kept) and a widening refuses the command (nothing changed yet),
as `cdk deploy --require-approval broadening` does in CI."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from contextlib import AbstractContextManager
from typing import Protocol

from generator.cli.tables import format_approval, format_destroy_plan
from generator.deploy import Approval, Confirm, DestroyPlan, Question
from generator.errors import DeployError

CONFIRMING_ANSWERS = ("1", "yes", "true")  # YES=... that confirms


class Pausable(Protocol):
    """A live display that stops while the user is asked (cli.progress.ProgressDisplay, e2e's display)."""

    def paused(self) -> AbstractContextManager[None]: ...


def assume_yes(args: argparse.Namespace) -> bool:
    return args.yes or os.environ.get("YES", "").lower() in CONFIRMING_ANSWERS


def on_a_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def refuse_unattended(assume_yes: bool) -> None:
    """Nobody can answer the question when stdin is not a terminal: say how to confirm, before any work."""
    if assume_yes or on_a_terminal():
        return
    raise DeployError.of(
        "destroy",
        "stdin is not a terminal, so there is no one to ask: confirm with YES=1 (make destroy YES=1) "
        "or --yes (python -m generator destroy --yes); nothing was deleted",
    )


def engine_questions(
    assume_yes: bool,
    as_json: bool,
    ask: bool = True,
    display: Pausable | None = None,
    approve: bool = False,
    command: str = "deploy",
) -> tuple[Confirm, list[DestroyPlan]]:
    """The engine's questions, asked on the terminal (stderr with --json), and the deletion plans asked about.

    Before deleting (destroy's; deploy's about what the config no longer has): without `ask` (no terminal, no
    YES=1) the answer is no, and what would have been deleted is listed as kept. Before a deploy widens IAM or
    replaces a resource: with YES=1 what widens is still shown; with no terminal and no YES=1 the deploy is
    refused (nothing changed yet), as `cdk deploy --require-approval broadening` refuses in CI; `approve`
    (--require-approval never) does not ask about widening at all."""
    asked: list[DestroyPlan] = []
    stream = sys.stderr if as_json else sys.stdout

    def answer(prompt: str) -> bool:
        print(prompt, end="", file=stream, flush=True)
        try:
            return input().strip().lower() == "yes"
        except EOFError:
            return False

    def confirm(question: Question) -> bool:
        pause = display.paused() if display is not None else contextlib.nullcontext()
        if isinstance(question, Approval):
            if approve:  # --require-approval never
                return True
            with pause:
                if not assume_yes and not ask:
                    print("This deploy widens:\n" + format_approval(question), file=sys.stderr, flush=True)
                    raise DeployError.of(
                        command,
                        "grants IAM permissions anew or wider, or replaces a resource (listed above), and stdin is "
                        f"not a terminal, so there is no one to ask: confirm with YES=1 (make {command} YES=1) or "
                        f"--yes (python -m generator {command} --yes); nothing was changed",
                    )
                print("This deploy widens:\n" + format_approval(question), file=stream, flush=True)
                return assume_yes or answer("Type 'yes' to deploy: ")
        asked.append(question)
        if not assume_yes and not ask:
            return False
        with pause:
            print("This deletes:\n" + format_destroy_plan(question), file=stream, flush=True)
            return assume_yes or answer("Type 'yes' to delete them: ")

    return confirm, asked
