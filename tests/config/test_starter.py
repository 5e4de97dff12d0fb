"""`init`: a starter config.yaml and the schema its first line names, written together or not at all, and never
over a file that is there without --force."""

from __future__ import annotations

import os

import pytest

from generator.resources import default_config_file, schema_file
from tests.support.cli import run_cli_in_process, snapshot

MODELINE = "# yaml-language-server: $schema=config.schema.json"
REFUSED = "already exists; nothing was written (--force replaces it)"


def test_init_writes_the_commented_default_config_and_the_schema_its_modeline_names(tmp_path):
    result = run_cli_in_process("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["wrote config.yaml", "wrote config.schema.json"]
    config = (tmp_path / "config.yaml").read_text(encoding="utf-8")
    assert config == default_config_file().read_text(encoding="utf-8")
    assert config.splitlines()[0] == MODELINE  # a path relative to config.yaml: the schema beside it
    assert (tmp_path / "config.schema.json").read_bytes() == schema_file().read_bytes()
    assert sum(line.lstrip().startswith("#") for line in config.splitlines()) > 20  # commented, not bare
    # Every command now reads it without --config.
    validated = run_cli_in_process("validate", cwd=tmp_path)
    assert (validated.returncode, validated.stdout) == (0, "config.yaml: valid (3 regions, routing bind)\n")


@pytest.mark.parametrize(
    "there",
    [("config.yaml",), ("config.schema.json",), ("config.yaml", "config.schema.json")],
)
def test_init_refuses_a_file_that_is_there_one_line_each_and_writes_nothing(tmp_path, there):
    for name in there:
        (tmp_path / name).write_text("mine\n")
    before = snapshot(tmp_path)
    result = run_cli_in_process("init", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"{name}: {REFUSED}" for name in there]
    assert result.stdout == ""
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", ["dangling link", "directory"])
def test_init_refuses_whatever_holds_the_name(tmp_path, kind):
    target = tmp_path / "config.yaml"
    if kind == "directory":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "nowhere.yaml")
    result = run_cli_in_process("init", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"config.yaml: {REFUSED}\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.yaml"]
    assert target.is_dir() if kind == "directory" else os.readlink(target) == str(tmp_path / "nowhere.yaml")


def test_init_force_replaces_both(tmp_path):
    for name in ("config.yaml", "config.schema.json"):
        (tmp_path / name).write_text("mine\n")
    result = run_cli_in_process("init", "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "config.yaml").read_bytes() == default_config_file().read_bytes()
    assert (tmp_path / "config.schema.json").read_bytes() == schema_file().read_bytes()


def test_init_force_that_cannot_write_one_file_leaves_the_other_as_it_was(tmp_path):
    (tmp_path / "config.yaml").write_text("mine\n")
    (tmp_path / "config.schema.json").mkdir()  # a directory no file can replace
    result = run_cli_in_process("init", "--force", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("config.schema.json: cannot write: ") and line.endswith("; nothing was written")
    assert (tmp_path / "config.yaml").read_text() == "mine\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.schema.json", "config.yaml"]  # no temporaries


def test_init_makes_the_folder_it_is_given(tmp_path):
    result = run_cli_in_process("init", "project/settings", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "wrote project/settings/config.yaml",
        "wrote project/settings/config.schema.json",
    ]
    assert run_cli_in_process("validate", "--config", "project/settings/config.yaml", cwd=tmp_path).returncode == 0


def test_init_into_a_folder_that_is_a_file_says_so_in_one_line_and_makes_nothing(tmp_path):
    (tmp_path / "taken").write_text("a file\n")
    result = run_cli_in_process("init", "taken/inside", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("taken") and "cannot write: " in line and line.endswith("; nothing was written")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]
