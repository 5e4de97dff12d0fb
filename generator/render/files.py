"""Rendered templates -> files in the output folder, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import cfn_flip

from generator.atomic_files import FileTransaction, check_replaceable, folder_made
from generator.errors import GeneratorError, Problem
from generator.render.templates import RenderedTemplate

FORMATS = ("json", "yaml")


def template_text(template: RenderedTemplate, output_format: str) -> str:
    """The file content of `template` in `output_format` (json, or yaml through cfn-flip)."""
    if output_format == "yaml":
        return _yaml_text(template.document)
    return template.to_json()


# YAML reads NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR as line breaks, and PyYAML (under cfn-flip) writes
# them raw inside quotes, so a value holding one would read back changed. In a double-quoted scalar they
# can be written as the escapes \N, \L and \P.
_YAML_LINE_BREAK_ESCAPES = {"\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}
_PRIVATE_USE = range(0xE000, 0xF900)


def _yaml_text(document: dict) -> str:
    """cfn-flip's YAML of `document`, checked to read back as the same template.

    Each YAML line break character in a value is first swapped for a marker holding a NUL (which makes
    PyYAML double-quote the string and write the NUL as \\0) around a private-use character the template
    does not contain; the emitted marker is then replaced by the escape of the character it stands for.
    """
    json_text = json.dumps(document, ensure_ascii=False)
    free = (chr(code) for code in _PRIVATE_USE if chr(code) not in json_text)
    markers = {char: f"\x00{next(free)}\x00" for char in _YAML_LINE_BREAK_ESCAPES if char in json_text}
    for char, marker in markers.items():
        json_text = json_text.replace(char, json.dumps(marker)[1:-1])
    text = cfn_flip.to_yaml(json_text)
    for char, marker in markers.items():
        text = text.replace(marker.replace("\x00", "\\0"), _YAML_LINE_BREAK_ESCAPES[char])
    if json.loads(cfn_flip.to_json(text)) != document:  # a bug here, never the user's input: say so loudly
        raise AssertionError("the YAML written for a template does not read back as the same template")
    return text


def template_path(out_dir: Path, name: str, output_format: str) -> Path:
    """Where the template `name` (a file stem from paths.py) goes in `out_dir` in `output_format`."""
    return Path(out_dir) / f"{name}.{output_format}"


def template_paths(out_dir: Path, templates: list[RenderedTemplate], output_format: str) -> list[Path]:
    """Where `templates` go in `out_dir` in `output_format`."""
    return [template_path(out_dir, template.name, output_format) for template in templates]


def write_templates(templates: list[RenderedTemplate], out_dir: Path, output_format: str = "json") -> list[Path]:
    """Write every template, all or nothing: either each file is replaced, or none is and the folder is
    as it was. The same templates in the other format are removed, so out/ holds one current render
    (linting out/ would otherwise count a template twice, one of them stale)."""
    out_dir = Path(out_dir)
    targets = template_paths(out_dir, templates, output_format)
    others = [
        path
        for other in FORMATS
        if other != output_format
        for path in template_paths(out_dir, templates, other)
        if path.is_file() or path.is_symlink()
    ]
    try:
        with folder_made(out_dir):  # a folder made for a failed write is removed again
            for target in targets:
                check_replaceable(target)
            with FileTransaction(out_dir) as transaction:
                for template, target in zip(templates, targets, strict=True):
                    transaction.replace(target, template_text(template, output_format))
                for stale in others:
                    transaction.remove(stale)
    except OSError as error:
        where = error.filename or out_dir
        raise GeneratorError(
            [Problem(str(where), f"cannot write templates: {error.strerror or error}; nothing was changed")]
        ) from None
    return targets
