"""The local cloud's listener names, which no resolver here knows, and how our clients resolve them.

A listener's Domain output is `${Domain}.proxylity.com` (fixed by the templates, as in all of Proxylity's
examples). On AWS Proxylity's DNS answers it; offline the local cloud serves each listener on loopback and lists
its name in a hosts-format file of its own, `local-cloud-PORT.hosts` in the user's private runtime directory
(generator.private_directory; the local cloud prints the path), with its pid. Our clients (smoke, canary, e2e)
look a name up in the files of the local clouds that run, then ask the system resolver; PACKET_COUNTER_HOSTS
names one file to read instead. Any other program resolves them through `local-names -- CMD`, which runs CMD
with the file over /etc/hosts in a mount namespace of its own (generator/cli/local_names_commands.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.private_directory import check_private_directory, user_runtime_directory

# Names one hosts file to read instead of the running local clouds' (the function processes get it too).
HOSTS_VARIABLE = "PACKET_COUNTER_HOSTS"
HOSTS_FILE_PREFIX = "local-cloud-"
HOSTS_FILE_SUFFIX = ".hosts"
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
_PID_LINE = "# pid "


@dataclass(frozen=True)
class HostsFile:
    """A local cloud's list of its listeners' names, all of them on loopback."""

    path: Path
    endpoint_url: str
    names: tuple[str, ...]

    def text(self) -> str:
        """The file: what wrote it (the local cloud's endpoint and pid, read back to skip a file whose cloud is
        gone), then one line per address and name, as /etc/hosts has them."""
        lines = [
            f"# Listeners of the local cloud at {self.endpoint_url}: a stand-in for Proxylity's control plane, "
            "serving each on loopback.",
            f"{_PID_LINE}{os.getpid()}",
        ]
        lines += [f"{address} {name}" for name in self.names for address in LOOPBACK_ADDRESSES]
        return "\n".join(lines) + "\n"


def hosts_file_path(port: int, directory: Path | None = None) -> Path:
    """Where the local cloud on TCP `port` lists its listeners."""
    return (directory or user_runtime_directory()) / f"{HOSTS_FILE_PREFIX}{port}{HOSTS_FILE_SUFFIX}"


def parse_hosts(text: str) -> dict[str, tuple[str, ...]]:
    """name (lower case) -> its addresses in the order given, from hosts-format text (`ADDRESS NAME [ALIAS...]`,
    `#` comments)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        for name in words[1:]:
            found.setdefault(name.lower().rstrip("."), []).append(words[0])
    return {name: tuple(addresses) for name, addresses in found.items()}


def running_hosts_files(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """The hosts files to read: PACKET_COUNTER_HOSTS's when set, else those of the local clouds running for this
    user (a file whose writer's pid is gone is skipped; a directory anyone else could write is not read)."""
    named = environ.get(HOSTS_VARIABLE, "")
    if named:
        return [Path(named)]
    directory = user_runtime_directory(environ)
    try:
        check_private_directory(directory)
        candidates = sorted(directory.glob(f"{HOSTS_FILE_PREFIX}*{HOSTS_FILE_SUFFIX}"))
    except Exception:  # no directory (no local cloud ever ran), or one we must not trust: no local names
        return []
    return [path for path in candidates if _writer_alive(path)]


def local_names(paths: Iterable[Path] | None = None) -> dict[str, tuple[str, ...]]:
    """Every name the local clouds list, with its addresses."""
    names: dict[str, tuple[str, ...]] = {}
    for path in running_hosts_files() if paths is None else paths:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            names |= parse_hosts(path.read_text(encoding="utf-8"))
    return names


def local_addresses(name: str) -> tuple[str, ...]:
    """The addresses a running local cloud gives `name`; () when none lists it (ask the system resolver)."""
    return local_names().get(name.lower().rstrip("."), ())


def _writer_alive(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as file:
            head = [file.readline() for _ in range(2)]
    except (OSError, UnicodeDecodeError):
        return False
    pid_line = next((line for line in head if line.startswith(_PID_LINE)), "")
    pid = pid_line[len(_PID_LINE) :].strip()
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's (its file would not be in this user's directory, but still)
    return True
