"""Where a command's own files are: relative to the folder it runs in, wherever the package is installed.

The files the package ships (templates, schema, default config, handler code, tables) are generator.resources'.
"""

from __future__ import annotations

import os
from pathlib import Path

from generator.resources import DEFAULT_CONFIG_NAME, default_config_file

# Relative: read against the current folder when used, so `out/` is the one where the command runs.
DEFAULT_OUT_DIR = Path("out")

GLOBAL_TEMPLATE_NAME = "global.template"
REGIONAL_TEMPLATE_NAME = "regional.template"


def default_out_dir(environment: str | None = None) -> Path:
    """Where a command's files go without --out: ./out, or ./out/<environment> for an environment (its own
    outputs.json, templates and reports, never another environment's)."""
    return DEFAULT_OUT_DIR / environment if environment else DEFAULT_OUT_DIR


def default_config() -> Path:
    """The config a command reads without --config: ./config.yaml when there is one (whatever it is: a directory
    or a broken link there is reported, never silently passed over), else the packaged default config."""
    here = Path(DEFAULT_CONFIG_NAME)
    return here if os.path.lexists(here) else default_config_file()
