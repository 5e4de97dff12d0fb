"""The README tells the truth: the two commands up top, a config reference in step with the schema,
an error example that is what the tool prints, and only make targets that exist."""

from __future__ import annotations

import re

from tests.support.checkout import CHECKOUT
from tests.support.cli import run_cli
from tools.config_reference import BEGIN, END, config_reference_markdown

README = (CHECKOUT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (CHECKOUT / "Makefile").read_text(encoding="utf-8")


def test_first_screen_holds_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:12])
    assert re.search(r"^make render\b", first_screen, re.MULTILINE)
    assert re.search(r"^make test\b", first_screen, re.MULTILINE)


def test_config_reference_is_generated_from_the_current_schema():
    block = README.split(BEGIN, 1)[1].split(END, 1)[0]
    assert block == "\n" + config_reference_markdown(), "run `python -m tools.config_reference` to update README.md"


def test_every_setting_of_the_default_config_is_in_the_reference():
    reference = config_reference_markdown()
    for key in ("regions", "routing", "destination.batching.count", "function.reserved_concurrency", "tags"):
        assert f"`{key}`" in reference


def test_the_error_example_is_what_the_tool_prints():
    example = README.split("$ make render CONFIG=tests/data/broken.yaml\n", 1)[1].split("```", 1)[0]
    result = run_cli("render", "--config", "tests/data/broken.yaml", "--out", "/nonexistent/never-written")
    assert result.returncode == 2
    assert result.stderr == example


def test_every_make_target_the_readme_names_exists():
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", MAKEFILE, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z0-9-]*)", README))
    named |= set(re.findall(r"^(?:\$ )?make ([a-z][a-z0-9-]*)", README, re.M))
    assert named, "expected the README to name make targets"
    assert named <= targets, f"README names missing targets: {sorted(named - targets)}"
