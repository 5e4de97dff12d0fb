"""Inline function code is held to today's limits, not the old 4,096 characters: CloudFormation zips Code.ZipFile
into a package of at most 4 MB, and the template carrying it is at most 51,200 bytes inline, whichever binds first.
"""

from __future__ import annotations

import json

import pytest

import generator.render.inline_code
import generator.render.observability_context
from generator.config import load_config
from generator.errors import RenderError
from generator.render import MAX_TEMPLATE_BODY_BYTES, render_templates
from generator.render.inline_code import read_handler_code

FOUR_MB = 4_000_000  # the stricter reading of CloudFormation's "4MB"


def handler_of(tmp_path, name: str, characters: int) -> str:
    """A valid Python handler of exactly `characters` characters (a docstring padded with comment lines)."""
    body = '"""A handler longer than the old limit."""\n\n\ndef handler(event=None, context=None):\n    return {}\n'
    padding = characters - len(body)
    lines = [("#" + "x" * 78 + "\n")] * (padding // 80)
    text = body + "".join(lines)
    text += "#" * (characters - len(text) - 1) + "\n" if characters > len(text) else ""
    assert len(text) == characters
    (tmp_path / name).write_text(text, encoding="utf-8")
    return text


def regional(templates):
    return next(template for template in templates if template.name == "regional.template")


def test_a_counter_longer_than_the_old_4096_characters_is_embedded_verbatim(tmp_path, write_config, monkeypatch):
    code = handler_of(tmp_path, "packet_counter.py", 6_000)
    monkeypatch.setattr(
        generator.render.inline_code, "packet_counter_handler_file", lambda: tmp_path / "packet_counter.py"
    )

    templates = render_templates(load_config(write_config()))

    function = regional(templates).document["Resources"]["PacketCounterFunction"]["Properties"]
    assert function["Code"]["ZipFile"] == code


def test_a_canary_longer_than_the_old_4096_characters_is_embedded_verbatim(tmp_path, write_config, monkeypatch):
    code = handler_of(tmp_path, "canary.py", 9_000)
    monkeypatch.setattr(generator.render.observability_context, "canary_handler_file", lambda: tmp_path / "canary.py")

    templates = render_templates(load_config(write_config(lambda c: c["observability"]["canary"].update(enabled=True))))

    function = regional(templates).document["Resources"]["CanaryFunction"]["Properties"]
    assert function["Code"]["ZipFile"] == code


def test_code_that_makes_the_template_too_large_is_refused_naming_the_code_as_what_takes_the_room(
    tmp_path, write_config, monkeypatch
):
    code = handler_of(tmp_path, "packet_counter.py", 60_000)
    monkeypatch.setattr(
        generator.render.inline_code, "packet_counter_handler_file", lambda: tmp_path / "packet_counter.py"
    )
    config = load_config(write_config())

    with pytest.raises(RenderError) as caught:
        render_templates(config)

    [problem] = caught.value.problems
    text = str(problem)
    assert text.startswith(f"{config.source}: renders regional.template.json at ")
    assert f"CloudFormation accepts at most {MAX_TEMPLATE_BODY_BYTES:,} inline" in text
    in_template = len(json.dumps(code).encode("utf-8"))  # as the template's JSON writes it
    assert text.endswith(
        f"the functions' inline code takes {in_template:,} bytes (PacketCounterFunction {in_template:,}); "
        "the settings cannot make it smaller"
    )


def test_a_file_over_the_4_mb_package_bound_is_refused_in_one_line_naming_it(tmp_path):
    big = tmp_path / "packet_counter.py"
    big.write_text("#" * (FOUR_MB + 1), encoding="utf-8")

    with pytest.raises(RenderError) as caught:
        read_handler_code(big)

    assert str(caught.value) == (
        f"{big}: makes an inline code package of at least 4,000,001 bytes; CloudFormation's package of "
        "Code.ZipFile may be at most 4 MB (4,000,000 bytes)"
    )


def test_a_file_just_under_the_bound_whose_package_is_over_it_is_refused_too(tmp_path):
    big = tmp_path / "packet_counter.py"
    big.write_text("#" * (FOUR_MB - 10), encoding="utf-8")  # the zip's headers add ~100 bytes

    with pytest.raises(RenderError) as caught:
        read_handler_code(big)

    assert "makes an inline code package of at least 4,000,1" in str(caught.value)
