"""The user's own directory for what only they may use: the local gateway's control sockets, the local cloud's
list of listener names. $XDG_RUNTIME_DIR/packet-counter when the session has one (a per-user tmpfs), else
<tempdir>/packet-counter-<uid>; mode 0700, of this uid, never a link (anyone can create <tempdir>/... first)."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from generator.errors import ControlError, Problem


def user_runtime_directory(environ: Mapping[str, str] = os.environ) -> Path:
    """$XDG_RUNTIME_DIR/packet-counter when the session has one, else <tempdir>/packet-counter-<uid>."""
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(runtime):  # the XDG spec: a relative value is to be ignored
        return Path(runtime) / "packet-counter"
    return Path(tempfile.gettempdir()) / f"packet-counter-{os.getuid()}"


def check_private_directory(path: Path) -> None:
    """Refuse `path` unless it is a real directory (not a link) of this uid that nobody else may use.

    Anyone can create <tempdir>/packet-counter-<uid> first; such a directory, or a link to one,
    would let them read or replace what is in it. FileNotFoundError when there is nothing there.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ControlError([Problem(str(path), f"cannot check: {error.strerror or error}")]) from None
    uid = os.getuid()
    if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077:
        return
    kind = (
        "a directory" if stat.S_ISDIR(info.st_mode) else "a link" if stat.S_ISLNK(info.st_mode) else "not a directory"
    )
    raise ControlError(
        [
            Problem(
                str(path),
                f"expected a directory of uid {uid} that only it may use (mode 0700); found {kind} of uid "
                f"{info.st_uid} with mode {stat.S_IMODE(info.st_mode):04o}: remove it (or set XDG_RUNTIME_DIR)",
            )
        ]
    )


def make_private_directory(path: Path, purpose: str = "the control socket's directory") -> None:
    """Create `path` with mode 0700, or accept it as it is when check_private_directory does."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as error:
        raise ControlError([Problem(str(path), f"cannot create {purpose}: {error.strerror or error}")]) from None
    else:
        path.chmod(0o700)  # mkdir's mode is narrowed by the umask; it must be exactly 0700 to be usable
    check_private_directory(path)
