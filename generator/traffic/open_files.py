"""How many sockets this process may open, and what running out of them is.

Every client socket of the smoke client and every probe of the canary is an open file. The process may hold at
most its open-file limit (RLIMIT_NOFILE, the soft one: `ulimit -n`), and a few files are always open besides
(the interpreter's own, a selector, the local gateway's pipes). Running out (EMFILE for this process, ENFILE for
the whole machine) is this tool asking for too much, never a fault of the service it measures.
"""

from __future__ import annotations

import contextlib
import errno
import resource

# Files kept for everything else than the sockets asked for: the interpreter, selectors, a local gateway.
SPARE_FILES = 64
# However high the open-file limit, more client sockets than this measure nothing more (each is a source port).
MAX_SOCKETS = 10_000
OUT_OF_FILES = (errno.EMFILE, errno.ENFILE)


def open_file_limit() -> int | None:
    """This process's open-file limit (the soft RLIMIT_NOFILE, as `ulimit -n` shows it); None when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def sockets_allowed() -> int:
    """The most sockets one command may ask for: MAX_SOCKETS, or the open-file limit less SPARE_FILES."""
    limit = open_file_limit()
    return MAX_SOCKETS if limit is None else max(0, min(MAX_SOCKETS, limit - SPARE_FILES))


def is_out_of_files(error: BaseException) -> bool:
    """True for the OSError of a process (EMFILE) or a machine (ENFILE) that has no file left to open."""
    return isinstance(error, OSError) and error.errno in OUT_OF_FILES


def out_of_files_advice(what: str) -> str:
    """`what` (e.g. "lower --clients") and how to raise the limit, with the limit now."""
    limit = open_file_limit()
    now = "unlimited" if limit is None else f"{limit:,}"
    return f"{what}, or raise the open-file limit (`ulimit -n`, now {now})"


def allow_open_files(needed: int) -> None:
    """Raise this process's soft open-file limit to `needed` where the hard limit allows (macOS starts at 256)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else min(needed, hard), hard)
        )


def open_files_note() -> str:
    """Where the socket bound comes from, for a message: 'each an open file: `ulimit -n` is 1,024, less 64 ...'."""
    limit = open_file_limit()
    if limit is None or limit - SPARE_FILES >= MAX_SOCKETS:
        return f"more than {MAX_SOCKETS:,} sockets measure nothing more"
    return f"each an open file: `ulimit -n` is {limit:,}, less {SPARE_FILES} kept for other files"
