"""Every command works from the folder the user is in: --config is ./config.yaml when there is one, else the
packaged default config; --out is ./out. Run from empty folders outside the checkout."""

from __future__ import annotations

import json

from generator.config import load_config
from generator.render import render_templates
from tests.support.checkout import CHECKOUT, DEFAULT_CONFIG
from tests.support.cli import run_cli, snapshot
from tests.support.config_files import write_config

RENDERED = "wrote out/global.template.json\nwrote out/regional.template.json\n"


def test_render_in_an_empty_folder_writes_the_default_config_to_out_there_and_nothing_in_the_checkout(tmp_path):
    checkout_out = CHECKOUT / "out"
    before = snapshot(checkout_out) if checkout_out.exists() else None
    result = run_cli("render", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, RENDERED), result.stderr
    expected = {f"{t.name}.json": t.to_json().encode() for t in render_templates(load_config(DEFAULT_CONFIG))}
    assert snapshot(tmp_path) == {f"out/{name}": text for name, text in expected.items()}
    assert (snapshot(checkout_out) if checkout_out.exists() else None) == before


def test_a_config_yaml_in_the_folder_is_the_one_every_command_reads(tmp_path):
    write_config(tmp_path, lambda c: c.update(name_prefix="here-and-now", regions=["eu-west-1"]))
    validated = run_cli("validate", cwd=tmp_path)
    assert (validated.returncode, validated.stdout) == (0, "config.yaml: valid (1 regions, routing bind)\n")
    rendered = run_cli("render", cwd=tmp_path)
    assert (rendered.returncode, rendered.stdout) == (0, RENDERED), rendered.stderr
    assert "here-and-now-global" in (tmp_path / "out" / "global.template.json").read_text()


def test_a_config_yaml_that_is_not_a_file_is_reported_never_passed_over(tmp_path):
    (tmp_path / "config.yaml").mkdir()
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("config.yaml: ")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.yaml"]  # no out/


def test_smoke_reads_the_outputs_of_out_in_the_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "outputs.json").write_text(json.dumps({"Domain": "127.0.0.1", "Port": "abc"}))
    result = run_cli("smoke", "-n", "1", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "out/outputs.json: Port: expected a port number, got 'abc'\n")
