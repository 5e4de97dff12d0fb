"""One deploy, plan or destroy at a time per out folder: a lock beside out/outputs.json.

fcntl.flock: the kernel releases it when the holder's process dies, so a crash never leaves a stale lock.
Across machines the stacks' own checks refuse a second concurrent run (stack_states, changesets).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from generator.deploy.stack_states import format_time
from generator.errors import AlreadyRunning, DeployError, Problem

# Beside outputs.json: held (flock) by the deploy, plan or destroy working with that out dir.
LOCK_FILE_NAME = ".deploy.lock"
HOLDER_WAIT = 1.0


@contextlib.contextmanager
def run_lock(out_dir: Path, command: str) -> Iterator[None]:
    """Hold out_dir's lock for `command`, or raise AlreadyRunning naming the run that holds it.

    fcntl.flock: the kernel releases it when the holder's process dies, so a crash never leaves a stale
    lock. An out dir that cannot hold the lock file (a file in its place, no permission) is refused before
    anything is done: a run without the lock could overlap another one."""
    path = Path(out_dir) / LOCK_FILE_NAME
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        descriptor = _open_lock_file(path)
    except OSError as error:
        where = error.filename or out_dir
        raise DeployError.of(
            str(where),
            f"cannot hold the lock that keeps two runs of this out folder apart ({_why(error)}); give --out "
            "(OUT=) a folder you can write; nothing was changed",
        ) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning([Problem(str(path), f"{_holder(path)}; wait for it to finish")]) from None
        holder = {"pid": os.getpid(), "command": command, "started": format_time(datetime.now(UTC))}
        with contextlib.suppress(OSError):  # a read-only lock file still locks; it just cannot say who holds it
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, (json.dumps(holder) + "\n").encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, 0)  # no stale "who" for the next reader
    finally:
        os.close(descriptor)  # releases the lock


def _why(error: OSError) -> str:
    if isinstance(error, FileExistsError | NotADirectoryError):
        return "a file stands where the folder should be"
    return error.strerror or str(error)


def _open_lock_file(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:
        return os.open(path, os.O_RDONLY)  # flock works on a read-only descriptor too


def _holder(path: Path) -> str:
    """Who holds the lock, from what it wrote there. It writes right after locking: a run that started at
    the same moment may read before that, so it looks again for up to HOLDER_WAIT seconds."""
    deadline = time.monotonic() + HOLDER_WAIT
    while True:
        try:
            holder = json.loads(path.read_text(encoding="utf-8"))
            return (
                f"another {holder['command']} is running with this out dir "
                f"(pid {holder['pid']}, started {holder['started']})"
            )
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() >= deadline:
                return "another deploy, plan or destroy is running with this out dir (it has not said which)"
            time.sleep(0.02)
