"""`python -m generator local ...` (or `local-cloud`) as a user starts it: a real process, waited on until it
says it is ready, and always stopped when the block ends, also when it never got ready.

    with running_generator("local", "--config", config, "--out", out, "--port", "0") as local:
        exchange(local.port, ...)
    assert local.returncode == 0 and "stopped: " in local.stdout
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.checkout import CHECKOUT

READY = "Ctrl-C to stop"  # what `local` prints once it serves
# Seconds; bounds for a loaded machine, not speed goals, inside a test's own 60 s (pyproject.toml) so that a
# process that never gets ready fails here, with what it printed, and is stopped.
START_BOUND = 40.0
STOP_BOUND = 10.0


class GeneratorProcess:
    """A running `python -m generator ...`: its output as it comes, read by threads of its own (a full pipe
    never blocks it), and once stopped its exit status and everything it printed."""

    def __init__(self, process: subprocess.Popen, own_group: bool) -> None:
        self.process = process
        self.own_group = own_group
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(process.stdout, self._stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, self._stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.started = ""  # what it printed up to and including the ready line
        self.returncode: int | None = None

    def _read(self, stream, into: list[str], to_queue: bool) -> None:
        for line in stream:
            into.append(line)
            if to_queue:
                self._lines.put(line)
        if to_queue:
            self._lines.put(None)  # the end of its output

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout(self) -> str:
        return "".join(self._stdout)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    @property
    def port(self) -> int:
        """The UDP port a `local` gateway serves, as its first line says ("local gateway on 127.0.0.1:PORT")."""
        found = re.search(r"local gateway on 127\.0\.0\.1:(\d+)", self.started)
        assert found, f"no gateway address in what it printed:\n{self.started}"
        return int(found.group(1))

    def read_until(self, marker: str, within: float = START_BOUND) -> str:
        """The lines it prints from now up to and including the first holding `marker`; fails (with what it
        printed) if that line has not come within `within` seconds or it ended before."""
        lines: list[str] = []
        deadline = time.monotonic() + within
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                self._lines.put(None)  # ended: so will every later read
                break
            lines.append(line)
            if marker in line:
                return "".join(lines)
        raise AssertionError(
            f"{marker!r} not printed within {within:g} s (exit status {self.process.poll()}); it printed:\n"
            f"{''.join(lines)}\nand on stderr:\n{self.stderr}"
        )

    def send_signal(self, number: int) -> None:
        """Send `number` to it (to its whole process group when it has one, as a terminal's Ctrl-C does)."""
        with contextlib.suppress(ProcessLookupError):
            if self.own_group:
                os.killpg(self.process.pid, number)
            else:
                self.process.send_signal(number)

    def stop(self, number: int = signal.SIGTERM, within: float = STOP_BOUND) -> int:
        """Ask it to stop with `number` (unless it has ended), wait up to `within` seconds, kill it if it is
        still there; its exit status, with all it printed in stdout and stderr."""
        if self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            self.send_signal(number)
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.send_signal(signal.SIGKILL)
            self.process.wait()
        for reader in self._readers:
            reader.join(timeout=STOP_BOUND)  # its output ends with it (or with a child still holding the pipes)
        self.process.stdout.close()
        self.process.stderr.close()
        self.returncode = self.process.returncode
        return self.returncode


@contextlib.contextmanager
def running_generator(
    *args: str | Path,
    ready: str = READY,
    env: dict[str, str] | None = None,
    own_group: bool = False,
    stop_signal: int = signal.SIGTERM,
    within: float = START_BOUND,
    program: tuple[str | Path, ...] = (sys.executable, "-m", "generator"),
    cwd: Path = CHECKOUT,
) -> Iterator[GeneratorProcess]:
    """`python -m generator ARGS` (or `program` ARGS: the installed console script, say) from the checkout (or
    `cwd`), yielded once it has printed a line holding `ready`.

    `env` replaces the environment (default: this one, as the test has set it). With `own_group` it runs in a
    session of its own, as a shell runs a foreground job, and signals go to its whole group. When the block
    ends, or the process never gets ready, it is sent `stop_signal` and, if still there after STOP_BOUND
    seconds, killed with its group.
    """
    process = subprocess.Popen(
        [*map(str, program), *map(str, args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=own_group,
    )
    running = GeneratorProcess(process, own_group)
    try:
        running.started = running.read_until(ready, within)
        yield running
    finally:
        running.stop(stop_signal)
