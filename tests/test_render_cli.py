"""`python -m generator render|validate`: files written whole, deterministic, in JSON or YAML; limits enforced."""

from __future__ import annotations

import json

import cfn_flip
import pytest

import generator.context
from generator.config import load_config
from generator.errors import RenderError
from generator.paths import DEFAULT_CONFIG
from generator.render import MAX_TEMPLATE_BODY_BYTES, render_templates
from tests.conftest import run_cli, snapshot


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
    assert run_cli("render", "--out", tmp_path / "j").returncode == 0
    assert run_cli("render", "--format", "yaml", "--out", tmp_path / "y").returncode == 0
    for name in ("global.template", "regional.template"):
        yaml_text = (tmp_path / "y" / f"{name}.yaml").read_text()
        assert json.loads(cfn_flip.to_json(yaml_text)) == json.loads((tmp_path / "j" / f"{name}.json").read_text())


def test_validate_says_what_it_checked():
    result = run_cli("validate", "--config", DEFAULT_CONFIG)
    assert result.returncode == 0
    assert result.stdout.endswith(": valid (3 regions, routing bind)\n")


def test_a_template_over_cloudformations_size_limit_is_refused_and_nothing_written(tmp_path, write_config):
    out = tmp_path / "out"
    out.mkdir()
    (out / "global.template.json").write_text("previous\n")
    domains = [f"client-{i:05d}.example.com" for i in range(2000)]
    config_path = write_config(lambda c: c["listener"].update(client_domains=domains))
    result = run_cli("render", "--config", config_path, "--out", out)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config_path}: renders global.template.json at ")
    assert f"CloudFormation accepts at most {MAX_TEMPLATE_BODY_BYTES:,} inline" in line
    assert snapshot(out) == {"global.template.json": b"previous\n"}


def test_a_handler_too_long_for_inline_code_is_refused(tmp_path, monkeypatch):
    big_handler = tmp_path / "packet_counter.py"
    big_handler.write_text("# padding\n" * 500)
    monkeypatch.setattr(generator.context, "HANDLER_FILE", big_handler)
    with pytest.raises(RenderError) as caught:
        render_templates(load_config(DEFAULT_CONFIG))
    assert str(caught.value) == (
        f"{big_handler}: is 5,000 characters; Lambda inline code (Code.ZipFile) allows at most 4,096"
    )


def test_the_real_handler_fits_inline_code_with_room_to_spare():
    assert len(generator.context.read_handler_code()) < 4096 * 0.75
