"""The function code a rendered regional template carries, read back from its file.

The regional template is the artifact that gets deployed, so whatever runs the function
locally (the local gateway) runs exactly its Resources.PacketCounterFunction.Properties.Code.ZipFile.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.config import Config
from generator.errors import GeneratorError, Problem
from generator.paths import REGIONAL_TEMPLATE_NAME
from generator.render.files import template_path, write_templates
from generator.render.templates import render_templates

FUNCTION_RESOURCE = "PacketCounterFunction"
CANARY_RESOURCE = "CanaryFunction"  # with observability.canary.enabled


def function_code_from_template(path: Path, resource: str = FUNCTION_RESOURCE) -> str:
    """Code.ZipFile of the packet counter function (or of `resource`) in the regional template at `path`."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise GeneratorError([Problem(str(path), f"cannot read: {error.strerror or error}")]) from None
    except json.JSONDecodeError as error:
        raise GeneratorError([Problem(str(path), f"not valid JSON: {error.msg}", line=error.lineno)]) from None
    return function_code_in(document, str(path), resource)


def function_code_in(document: object, source: str, resource: str = FUNCTION_RESOURCE) -> str:
    """Code.ZipFile of `resource` in a regional template's document; `source` names the template."""
    key_path = f"Resources.{resource}.Properties.Code.ZipFile"
    node = document
    for key in key_path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, str):
        raise GeneratorError([Problem(source, "expected the function's inline code here", key_path=key_path)])
    return node


def render_function_code(config: Config, out_dir: Path) -> tuple[str, Path]:
    """Render `config` into out_dir (as `make render` does, JSON) and read the function code back from the
    written regional template: (the code, the template's path)."""
    write_templates(render_templates(config), out_dir, "json")
    path = template_path(out_dir, REGIONAL_TEMPLATE_NAME, "json")
    return function_code_from_template(path), path


def rendered_function_code(config: Config) -> str:
    """The function code the regional template rendered from `config` carries, with nothing written: the same
    text `render_function_code` reads back from the file (for a command whose only outputs are elsewhere)."""
    regional = next(template for template in render_templates(config) if template.name == REGIONAL_TEMPLATE_NAME)
    return function_code_in(json.loads(regional.to_json()), f"{REGIONAL_TEMPLATE_NAME}.json")
