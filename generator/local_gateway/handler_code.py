"""The function code the local gateway runs: taken from the rendered regional template.

The regional template is the artifact that gets deployed, so the gateway runs exactly
its Resources.PacketCounterFunction.Properties.Code.ZipFile, read back from the file
after rendering the config (or from a template file the user names).
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.config import Config
from generator.errors import GeneratorError, Problem
from generator.files import write_templates
from generator.paths import REGIONAL_TEMPLATE_NAME
from generator.render import render_templates

FUNCTION_RESOURCE = "PacketCounterFunction"


def regional_template_path(out_dir: Path) -> Path:
    return Path(out_dir) / f"{REGIONAL_TEMPLATE_NAME}.json"


def handler_code_from_template(path: Path) -> str:
    """Code.ZipFile of the packet counter function in the regional template at `path`."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise GeneratorError([Problem(str(path), f"cannot read: {error.strerror or error}")]) from None
    except json.JSONDecodeError as error:
        raise GeneratorError([Problem(str(path), f"not valid JSON: {error.msg}", line=error.lineno)]) from None
    key_path = f"Resources.{FUNCTION_RESOURCE}.Properties.Code.ZipFile"
    node = document
    for key in key_path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, str):
        raise GeneratorError([Problem(str(path), "expected the function's inline code here", key_path=key_path)])
    return node


def handler_code_for(config: Config, out_dir: Path) -> str:
    """Render `config` into out_dir (as `make render` does), then read the code from the written template."""
    write_templates(render_templates(config), out_dir, "json")
    return handler_code_from_template(regional_template_path(out_dir))
