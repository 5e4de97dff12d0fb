"""Running the command line as a user does, and proving a failed run changed nothing."""

from __future__ import annotations

import contextlib
import io
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.cli import main
from tests.support.checkout import CHECKOUT


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def __iter__(self):  # status, out, err = run_cli(...)
        return iter((self.returncode, self.stdout, self.stderr))


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    timeout: float = 50,  # inside a test's own 60 s bound (pyproject.toml): a hang fails here, the process killed
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    in_process: bool = False,
    open_files: int | None = None,
) -> CliResult:
    """`python -m generator ARGS` in `cwd` (by default the checkout, or this process's folder in_process): in a
    real subprocess (`env` added to this environment; with `open_files`, its open-file limit, soft and hard, as
    `ulimit -n` sets it), or, with in_process, in this process (`env` must be None: set variables with
    monkeypatch), which lets a test reach a local cloud running in this process and interrupt the command with
    Ctrl-C, and saves the interpreter's start (~0.4 s of CPU). A subprocess is for what only a process shows:
    its environment from scratch, signals, its open-file limit, what it prints before the parser is built."""
    words = [str(arg) for arg in args]
    if in_process:
        assert env is None and open_files is None, "in_process runs in this process; use monkeypatch.setenv"
        with contextlib.chdir(cwd) if cwd else contextlib.nullcontext():
            return _run_in_process(words, stdin)
    completed = subprocess.run(
        [sys.executable, "-m", "generator", *words],
        cwd=cwd or CHECKOUT,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT), **(env or {})},
        preexec_fn=None if open_files is None else lambda: limit_open_files(open_files),
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def limit_open_files(limit: int) -> None:
    """This process's open-file limit, soft and hard (it cannot be raised again): for a child process."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def run_cli_in_process(*args: str | Path, stdin: str | None = None, cwd: Path | None = None) -> CliResult:
    """run_cli(..., in_process=True); with `cwd`, in that folder (this process's, for the command's run)."""
    return run_cli(*args, stdin=stdin, cwd=cwd, in_process=True)


def _run_in_process(words: list[str], stdin: str | None) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:  # else the test's own stdin (a terminal it made, say) stays
        sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(words)
            except SystemExit as exited:  # argparse refusing the command line: what the process would exit with
                status = _exit_status(exited.code)
    finally:
        sys.stdin = old_stdin
    return CliResult(int(status), out.getvalue(), err.getvalue())


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # as the interpreter does with sys.exit("message")
    return 1


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: to prove a failed run changed nothing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
