"""The canary on its schedule beside the local gateway, as the Events rule runs it in every region: once at start,
then every `every_seconds`, from a thread of its own; each run's CanaryRun goes to `on_run`.

Locally every probe enters at the gateway's one ingress region, so a run is labelled with that region (where a
deployed canary would be labelled with its own). The code run is the regional template's CanaryFunction code.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from generator.observe.canary import CanaryRun

LOG = logging.getLogger("generator.local.gateway")


class CanarySchedule:
    """`with CanarySchedule(run, every_seconds, on_run):` runs `run()` at once and then every `every_seconds`
    until the block ends (a run in progress is finished first: it ends by its own deadline)."""

    def __init__(self, run: Callable[[], CanaryRun], every_seconds: float, on_run: Callable[[CanaryRun], None]) -> None:
        self._run = run
        self._every = every_seconds
        self._on_run = on_run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gateway-canary", daemon=True)

    def __enter__(self) -> CanarySchedule:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._on_run(self._run())
            except Exception as error:  # a canary that breaks must not take the gateway down: said, then next run
                LOG.warning("canary run failed: %s: %s", type(error).__name__, error)
            if self._stop.wait(self._every):
                return
