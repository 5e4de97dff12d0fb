"""`python -m generator render|validate`: files written whole, deterministic, in JSON or YAML; limits enforced."""

from __future__ import annotations

import json
import os

import cfn_flip
import pytest

import generator.atomic_files
import generator.render.inline_code
from generator.config import load_config
from generator.errors import GeneratorError
from generator.render import MAX_TEMPLATE_BODY_BYTES, render_templates
from generator.render.files import write_templates
from tests.support.checkout import DEFAULT_CONFIG
from tests.support.cli import run_cli, run_cli_in_process, snapshot


def test_render_writes_both_templates_byte_identical_on_every_run(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    result = run_cli("render", "--out", first)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {first / 'global.template.json'}",
        f"wrote {first / 'regional.template.json'}",
    ]
    assert run_cli("render", "--out", second).returncode == 0
    assert snapshot(first) == snapshot(second)
    assert sorted(snapshot(first)) == ["global.template.json", "regional.template.json"]  # no temporary files left
    for text in snapshot(first).values():
        json.loads(text)


def test_yaml_format_is_the_same_template(tmp_path):
    assert run_cli_in_process("render", "--out", tmp_path / "j").returncode == 0
    assert run_cli_in_process("render", "--format", "yaml", "--out", tmp_path / "y").returncode == 0
    for name in ("global.template", "regional.template"):
        yaml_text = (tmp_path / "y" / f"{name}.yaml").read_text()
        assert json.loads(cfn_flip.to_json(yaml_text)) == json.loads((tmp_path / "j" / f"{name}.json").read_text())


def test_validate_says_what_it_checked():
    result = run_cli_in_process("validate", "--config", DEFAULT_CONFIG)
    assert result.returncode == 0
    assert result.stdout.endswith(": valid (3 regions, routing bind)\n")


def test_a_template_over_cloudformations_size_limit_is_refused_and_nothing_written(tmp_path, write_config):
    out = tmp_path / "out"
    out.mkdir()
    (out / "global.template.json").write_text("previous\n")
    domains = [f"client-{i:05d}.example.com" for i in range(2000)]
    config_path = write_config(lambda c: c["listener"].update(client_domains=domains))
    result = run_cli_in_process("render", "--config", config_path, "--out", out)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config_path}: renders global.template.json at ")
    assert f"CloudFormation accepts at most {MAX_TEMPLATE_BODY_BYTES:,} inline" in line
    assert snapshot(out) == {"global.template.json": b"previous\n"}


@pytest.mark.parametrize(
    "aws_environment",
    [
        {"AWS_PROFILE": "nope"},
        {"AWS_CONFIG_FILE": "BROKEN", "AWS_SHARED_CREDENTIALS_FILE": "BROKEN"},
    ],
    ids=["missing-profile", "broken-aws-config"],
)
def test_offline_commands_need_no_aws_account_or_config(tmp_path, aws_environment):
    broken = tmp_path / "aws-config"
    broken.write_text("[profile x\nthis is = not [an ini file\n")
    environment = {name: str(broken) if value == "BROKEN" else value for name, value in aws_environment.items()}
    for command in (("validate",), ("render", "--out", tmp_path / "out")):
        result = run_cli(*command, env=environment)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    assert sorted(snapshot(tmp_path / "out")) == ["global.template.json", "regional.template.json"]


def test_a_directory_in_the_way_of_a_template_changes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "global.template.json").write_text("previous\n")
    (out / "regional.template.json").mkdir()
    result = run_cli_in_process("render", "--out", out)
    assert result.returncode == 2
    assert result.stderr == (
        f"{out / 'regional.template.json'}: cannot write templates: a directory is in the way of the file;"
        " nothing was changed\n"
    )
    assert snapshot(out) == {"global.template.json": b"previous\n"}
    assert sorted(path.name for path in out.iterdir()) == ["global.template.json", "regional.template.json"]


def test_a_write_failing_part_way_puts_every_file_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_templates(render_templates(load_config(DEFAULT_CONFIG)), out, "yaml")
    before = snapshot(out)
    real_replace = os.replace
    calls = []

    def replace_failing_the_second_time(source, target):  # a disk that fills up after the first file
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(generator.atomic_files.os, "replace", replace_failing_the_second_time)
    with pytest.raises(GeneratorError) as raised:
        write_templates(render_templates(load_config(DEFAULT_CONFIG)), out, "json")
    monkeypatch.undo()
    assert "No space left on device; nothing was changed" in str(raised.value)
    assert snapshot(out) == before  # the first JSON file is gone again, the YAML files are back


def test_rendering_one_format_removes_the_other_formats_templates(tmp_path):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "outputs.json").write_text("{}\n")  # not a template: kept
    assert run_cli_in_process("render", "--out", out, "--format", "yaml").returncode == 0
    assert run_cli_in_process("render", "--out", out).returncode == 0
    assert sorted(snapshot(out)) == ["global.template.json", "outputs.json", "regional.template.json"]
    assert run_cli_in_process("render", "--out", out, "--format", "yaml").returncode == 0
    assert sorted(snapshot(out)) == ["global.template.yaml", "outputs.json", "regional.template.yaml"]
