"""Run a program that resolves names itself (the seed's packet_counter_test.py calls getaddrinfo) so that the
local cloud's listener names resolve for it alone: in a private mount namespace, with a hosts file bind-mounted
over /etc/hosts (this machine's /etc/hosts plus the listeners' lines), for that command and its children only.
The machine's /etc/hosts is never changed.

`unshare -m` as root; otherwise `unshare -rm`, a user namespace in which the command runs as its root (mapped to
the user: what it writes is the user's). Where neither works (no util-linux, user namespaces switched off, not
Linux) the lines to add to /etc/hosts by hand are the answer instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from generator.traffic.local_names import LOOPBACK_ADDRESSES

SYSTEM_HOSTS = Path("/etc/hosts")
# In the namespace: the file over /etc/hosts, then the command ("$@" after the file), run in sh's place.
_MOUNT_THEN_RUN = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'
PROBE_SECONDS = 10.0


class NamespaceRefused(Exception):
    """A private mount namespace cannot be made here; `reason` says what refused it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hosts_lines(names: Sequence[str]) -> list[str]:
    """The /etc/hosts lines that make `names` resolve to the loopback addresses the local cloud serves."""
    return [f"{address} {name}" for name in names for address in LOOPBACK_ADDRESSES]


def namespace_hosts_text(names: Sequence[str], system_hosts: str) -> str:
    """What the command sees as /etc/hosts: the machine's own lines (localhost and the rest), then the names'."""
    own = system_hosts if not system_hosts or system_hosts.endswith("\n") else system_hosts + "\n"
    return (
        own
        + "# the local cloud's listeners (a stand-in for Proxylity, on loopback)\n"
        + "\n".join(hosts_lines(names))
        + "\n"
    )


def namespace_prefix(hosts_file: Path, as_root: bool, unshare: str) -> list[str]:
    """The words before the command: a private mount namespace, `hosts_file` over /etc/hosts in it."""
    return [unshare, "-m" if as_root else "-rm", "sh", "-c", _MOUNT_THEN_RUN, "sh", str(hosts_file)]


def run_with_names(names: Sequence[str], command: Sequence[str]) -> int:
    """Run `command` with `names` resolving to loopback; its exit status (128 + N when a signal N ended it).
    NamespaceRefused, before the command runs, when no private mount namespace can be made here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise NamespaceRefused("there is no `unshare` command here (util-linux)")
    try:
        system_hosts = SYSTEM_HOSTS.read_text(encoding="utf-8", errors="replace")
    except OSError:
        system_hosts = ""
    with tempfile.TemporaryDirectory(prefix="packet-counter-names-") as folder:
        hosts_file = Path(folder) / "hosts"
        hosts_file.write_text(namespace_hosts_text(names, system_hosts), encoding="utf-8")
        hosts_file.chmod(0o644)
        Path(folder).chmod(0o755)  # readable by the command, whoever it runs as in its namespace
        prefix = namespace_prefix(hosts_file, os.geteuid() == 0, unshare)
        _probe(prefix)
        return _run(prefix + list(command))


def _probe(prefix: list[str]) -> None:
    """Make the namespace once with `true` as the command: a refusal is told apart from the command's failure."""
    try:
        probe = subprocess.run(
            [*prefix, "true"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PROBE_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NamespaceRefused(str(error)) from None
    if probe.returncode != 0:
        said = " ".join((probe.stderr or probe.stdout).split()) or f"exit status {probe.returncode}"
        raise NamespaceRefused(said)


def _run(words: list[str]) -> int:
    """Run to the end; Ctrl-C reaches the command (it shares the terminal's process group) and ends it, not us."""
    process = subprocess.Popen(words)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        status = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - status if status < 0 else status
