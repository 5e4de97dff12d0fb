"""The local cloud as a user starts it: `python -m generator local-cloud --port 0`, whose startup hint
must work exactly as printed."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.checkout import CHECKOUT
from tests.support.config_files import write_config

# Only what a shell gives any command: no AWS variable, and a home with no ~/.aws in it.
BARE_VARIABLES = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
STARTUP_BOUND = 60.0  # seconds; a bound for a loaded machine, not a speed goal


def line_reader(stream) -> queue.Queue:
    """The lines of `stream` as they come, read by a thread: a test waits for one with a bound."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def test_the_startup_hint_works_as_typed_in_a_clean_environment(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    bare = {name: os.environ[name] for name in BARE_VARIABLES if name in os.environ}
    cloud = subprocess.Popen(
        [sys.executable, "-m", "generator", "local-cloud", "--port", "0", "--delay", "0"],
        cwd=CHECKOUT,
        env={**bare, "HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = line_reader(cloud.stdout)
        banner = lines.get(timeout=STARTUP_BOUND)  # printed (and flushed) before it waits
        hint = lines.get(timeout=STARTUP_BOUND)
        assert "STAND-IN for Proxylity's control plane" in banner and "not the real service" in banner
        match = re.fullmatch(r"in another terminal: (?P<command>.+?) make deploy +\(Ctrl-C here to stop\)\n", hint)
        assert match, hint
        variables = dict(word.split("=", 1) for word in match["command"].split())
        assert re.fullmatch(r"http://127\.0\.0\.1:[1-9]\d*", variables["AWS_ENDPOINT_URL"])  # the real port
        assert variables["AWS_ENDPOINT_URL"] in banner

        status = subprocess.run(
            [sys.executable, "-m", "generator", "status", "--config", str(write_config(tmp_path))],
            cwd=CHECKOUT,
            env={**bare, "HOME": str(home), **variables},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        cloud.send_signal(signal.SIGINT)
        cloud.wait(timeout=30)

    assert status.returncode == 0, status.stderr
    assert status.stderr == ""
    assert re.search(r"^us-west-2\s+packet-counter-global\s+absent\s", status.stdout, re.M)
    assert cloud.returncode == 0 and lines.get(timeout=STARTUP_BOUND).strip() == "local cloud stopped"


def test_without_moto_it_says_which_extra_to_install_in_one_line():
    # Python's own answer when a package is missing: `import moto` raises ModuleNotFoundError (name 'moto').
    code = "import sys; sys.modules['moto'] = None; from generator.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "local-cloud", "--port", "0"],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (2, "")
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "local-cloud: needs the 'local' extra of packet-counter-generator (moto is not installed): pip install "
    )
    assert line.endswith("[local]'")


def test_the_installed_commands_hint_names_its_own_deploy(tmp_path):
    command = Path(sys.executable).parent / "packet-counter"  # the console script, as an install makes it
    cloud = subprocess.Popen(
        [command, "local-cloud", "--port", "0", "--delay", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = line_reader(cloud.stdout)
        lines.get(timeout=STARTUP_BOUND)
        hint = lines.get(timeout=STARTUP_BOUND)
    finally:
        cloud.send_signal(signal.SIGINT)
        cloud.wait(timeout=30)
    assert re.fullmatch(
        r"in another terminal: AWS_ENDPOINT_URL=\S+ .* packet-counter deploy +\(Ctrl-C here to stop\)\n", hint
    )
