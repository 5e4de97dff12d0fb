"""The local cloud's list of its listeners' names: a hosts-format file in the user's private runtime directory
(generator.traffic.local_names owns the format and where it is), rewritten whole whenever a listener comes or
goes, and removed when the local cloud stops."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from generator.atomic_files import write_atomically
from generator.private_directory import make_private_directory
from generator.traffic.local_names import HostsFile, hosts_file_path


class NamesFile:
    """The hosts file of the local cloud on TCP `port` (at `endpoint_url`)."""

    def __init__(self, port: int, endpoint_url: str, directory: Path | None = None) -> None:
        self.path = hosts_file_path(port, directory)
        self._endpoint_url = endpoint_url
        self._lock = threading.Lock()
        make_private_directory(self.path.parent, "the directory of the local cloud's listener names")

    def write(self, names: list[str]) -> None:
        with self._lock:
            write_atomically(self.path, HostsFile(self.path, self._endpoint_url, tuple(names)).text(), mode=0o600)

    def remove(self) -> None:
        with self._lock, contextlib.suppress(FileNotFoundError):
            self.path.unlink()
