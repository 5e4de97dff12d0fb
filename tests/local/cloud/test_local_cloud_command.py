"""The local cloud as a user starts it: `python -m generator local-cloud --port 0`, whose startup hint
must work exactly as printed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.checkout import CHECKOUT
from tests.support.config_files import write_config
from tests.support.local_process import running_generator

# Only what a shell gives any command: no AWS variable, and a home with no ~/.aws in it.
BARE_VARIABLES = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
STATUS_BOUND = 50.0  # seconds; a bound for a loaded machine, within the test's own


@pytest.mark.timeout(120)  # two interpreters that import moto and boto3: 30 s on a loaded machine
def test_the_startup_hint_works_as_typed_in_a_clean_environment(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    bare = {name: os.environ[name] for name in BARE_VARIABLES if name in os.environ}
    local_cloud = ("local-cloud", "--port", "0", "--delay", "0")
    environment = {**bare, "HOME": str(home)}
    with running_generator(
        *local_cloud, ready="in another terminal:", env=environment, stop_signal=signal.SIGINT
    ) as cloud:
        lines = cloud.started.splitlines(keepends=True)  # all printed (and flushed) before it waits
        banner, hint = lines[0], lines[-1]
        assert "STAND-IN for Proxylity's control plane" in banner and "not the real service" in banner
        listeners, names, schedules = lines[1:-1]
        assert listeners.startswith("listeners: served on 127.0.0.1 and ::1 at the Port each returns; packets enter")
        assert re.match(r"listener names: listed in /\S+/local-cloud-\d+\.hosts, which smoke", names), names
        assert "EventBridge rate schedules (the canary's) run in real time" in schedules
        match = re.fullmatch(r"in another terminal: (?P<command>.+?) make deploy +\(Ctrl-C here to stop\)\n", hint)
        assert match, hint
        variables = dict(word.split("=", 1) for word in match["command"].split())
        assert re.fullmatch(r"http://127\.0\.0\.1:[1-9]\d*", variables["AWS_ENDPOINT_URL"])  # the real port
        assert variables["AWS_ENDPOINT_URL"] in banner

        # As typed in another terminal: a process of its own, in the same bare environment plus the hint's.
        status = subprocess.run(
            [sys.executable, "-m", "generator", "status", "--config", str(write_config(tmp_path))],
            cwd=CHECKOUT,
            env={**environment, **variables},
            capture_output=True,
            text=True,
            timeout=STATUS_BOUND,
        )

    assert status.returncode == 0, status.stderr
    assert status.stderr == ""
    assert re.search(r"^us-west-2\s+packet-counter-global\s+absent\s", status.stdout, re.M)
    assert cloud.returncode == 0, cloud.stderr
    assert cloud.stdout.splitlines()[-1].strip() == "local cloud stopped"


def test_without_moto_it_says_which_extra_to_install_in_one_line():
    # Python's own answer when a package is missing: `import moto` raises ModuleNotFoundError (name 'moto').
    code = "import sys; sys.modules['moto'] = None; from generator.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "local-cloud", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert (result.returncode, result.stdout) == (2, "")
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "local-cloud: needs the 'local' extra of packet-counter-generator (moto is not installed): pip install "
    )
    assert line.endswith("[local]'")


def test_the_installed_commands_hint_names_its_own_deploy(tmp_path):
    console_script = Path(sys.executable).parent / "packet-counter"  # as an install makes it
    local_cloud = ("local-cloud", "--port", "0", "--delay", "0")
    with running_generator(
        *local_cloud, ready="in another terminal:", program=(console_script,), cwd=tmp_path, stop_signal=signal.SIGINT
    ) as cloud:
        hint = cloud.started.splitlines(keepends=True)[-1]
    assert re.fullmatch(
        r"in another terminal: AWS_ENDPOINT_URL=\S+ .* packet-counter deploy +\(Ctrl-C here to stop\)\n", hint
    )
