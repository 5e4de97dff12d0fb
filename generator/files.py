"""Rendered templates -> files in the output folder, all or nothing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cfn_flip
import yaml

from generator.errors import GeneratorError, Problem
from generator.render import RenderedTemplate

FORMATS = ("json", "yaml")


def template_text(template: RenderedTemplate, output_format: str) -> str:
    """The file content of `template` in `output_format` (json, or yaml through cfn-flip)."""
    text = template.to_json()
    if output_format == "yaml":
        return _yaml_text(text, template.document)
    return text


def _yaml_text(json_text: str, document: dict) -> str:
    """cfn-flip's YAML, checked to read back as the same template.

    PyYAML writes a few characters raw (NEL, U+0085) that YAML then reads as a line break; when
    that changes a value, write every non-ASCII character as an escape instead.
    """
    text = cfn_flip.to_yaml(json_text)
    if json.loads(cfn_flip.to_json(text)) == document:
        return text
    data, _ = cfn_flip.load(json_text)
    return yaml.dump(
        cfn_flip.cfn_literal_parser(data),
        Dumper=cfn_flip.get_dumper(False, False),
        default_flow_style=False,
        allow_unicode=False,
        width=cfn_flip.config.max_col_width,
    )


def write_templates(templates: list[RenderedTemplate], out_dir: Path, output_format: str = "json") -> list[Path]:
    """Write every template atomically; a file is replaced only once all are written in full."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[str, Path]] = []
        try:
            for template in templates:
                target = out_dir / f"{template.name}.{output_format}"
                staged.append((_stage(out_dir, template_text(template, output_format)), target))
            for temporary, target in staged:
                os.replace(temporary, target)
        finally:
            for temporary, _ in staged:
                if os.path.exists(temporary):
                    os.unlink(temporary)
    except OSError as error:
        raise GeneratorError([Problem(str(out_dir), f"cannot write templates: {error.strerror or error}")]) from None
    return [target for _, target in staged]


def write_text_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` whole or not at all: a reader never sees half a file."""
    temporary = _stage(path.parent, text)
    try:
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _stage(out_dir: Path, text: str) -> str:
    """`text` in a new file beside its target, flushed to disk; its name, for os.replace."""
    descriptor, temporary = tempfile.mkstemp(dir=out_dir, prefix=".staged-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary
