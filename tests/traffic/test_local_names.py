"""The local cloud's listener names resolve for our own clients (from the hosts files of the local clouds that
run for this user, or PACKET_COUNTER_HOSTS's), and for any other program through `local-names -- COMMAND`,
which never changes the machine's /etc/hosts; where no private mount namespace can be made it says which lines
to add instead."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from generator.local.gateway.lambda_runtime import HOSTS_VARIABLE as RUNTIME_HOSTS_VARIABLE
from generator.traffic.local_names import (
    HOSTS_VARIABLE,
    HostsFile,
    hosts_file_path,
    local_addresses,
    parse_hosts,
    running_hosts_files,
)
from generator.traffic.names_namespace import namespace_hosts_text
from generator.traffic.smoke import resolve
from tests.support.cli import run_cli

NAME = "lst0123456789ab.proxylity.com"


def write_hosts(directory: Path, port: int, names: tuple[str, ...], pid: int | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = hosts_file_path(port, directory)
    text = HostsFile(path, f"http://127.0.0.1:{port}", names).text()
    if pid is not None:
        text = text.replace(f"# pid {os.getpid()}", f"# pid {pid}")
    path.write_text(text)
    return path


def test_a_running_local_clouds_names_resolve_to_loopback_and_a_dead_ones_do_not(tmp_path, monkeypatch):
    runtime = tmp_path / "run"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv(HOSTS_VARIABLE, raising=False)
    write_hosts(runtime / "packet-counter", 4566, (NAME,))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    write_hosts(runtime / "packet-counter", 4567, ("lstdead.proxylity.com",), pid=int(dead.stdout))

    assert [path.name for path in running_hosts_files()] == ["local-cloud-4566.hosts"]
    assert local_addresses(NAME.upper() + ".") == ("127.0.0.1", "::1")
    assert local_addresses("lstdead.proxylity.com") == ()
    assert resolve(NAME, 2000) == (socket.AF_INET, ("127.0.0.1", 2000))
    assert resolve(NAME, 2000, socket.AF_INET6)[1][:2] == ("::1", 2000)


def test_a_names_directory_others_may_write_is_not_read(tmp_path, monkeypatch):
    runtime = tmp_path / "run"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv(HOSTS_VARIABLE, raising=False)
    write_hosts(runtime / "packet-counter", 4566, (NAME,))
    (runtime / "packet-counter").chmod(0o777)
    assert running_hosts_files() == [] and local_addresses(NAME) == ()


def test_the_variable_names_one_file_for_us_and_the_functions_alike(tmp_path, monkeypatch):
    path = tmp_path / "hosts"
    path.write_text(f"127.0.0.1 {NAME} other.example  # a comment\n# 10.0.0.1 commented.example\n")
    monkeypatch.setenv(HOSTS_VARIABLE, str(path))
    assert HOSTS_VARIABLE == RUNTIME_HOSTS_VARIABLE
    assert local_addresses("other.example") == ("127.0.0.1",)
    assert parse_hosts(path.read_text()) == {NAME: ("127.0.0.1",), "other.example": ("127.0.0.1",)}


def test_the_namespace_keeps_the_machines_own_lines_and_adds_the_listeners():
    text = namespace_hosts_text([NAME], "127.0.0.1 localhost")
    assert text.splitlines()[0] == "127.0.0.1 localhost"
    assert parse_hosts(text)[NAME] == ("127.0.0.1", "::1")


def test_local_names_prints_the_lines_and_without_a_namespace_says_which_to_add(tmp_path):
    runtime = tmp_path / "run"
    write_hosts(runtime / "packet-counter", 4566, (NAME,))
    environment = {"XDG_RUNTIME_DIR": str(runtime), HOSTS_VARIABLE: ""}
    etc_hosts = Path("/etc/hosts").read_bytes()

    printed = run_cli("local-names", env=environment)
    no_unshare = run_cli("local-names", "--", "true", env={**environment, "PATH": str(tmp_path / "empty")})

    assert printed.returncode == 0 and printed.stdout.splitlines() == [f"127.0.0.1 {NAME}", f"::1 {NAME}"]
    assert no_unshare.returncode == 1
    assert no_unshare.stderr.splitlines() == [
        "local-names: cannot give true a hosts file of its own here (there is no `unshare` command here "
        f"(util-linux)); add these lines to /etc/hosts yourself (and remove them after): 127.0.0.1 {NAME}; ::1 {NAME}"
    ]
    assert Path("/etc/hosts").read_bytes() == etc_hosts


def test_local_names_without_a_local_cloud_says_so(tmp_path):
    ran = run_cli("local-names", env={"XDG_RUNTIME_DIR": str(tmp_path / "none"), HOSTS_VARIABLE: ""})
    assert ran.returncode == 2
    where = tmp_path / "none" / "packet-counter"
    assert ran.stderr == f"local-names: no local cloud runs for this user (no listener names in {where})\n"
