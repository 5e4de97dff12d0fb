"""Where the project's own files live, relative to this checkout."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_CONFIG = CONFIG_DIR / "config.yaml"
SCHEMA_FILE = CONFIG_DIR / "config.schema.json"
TEMPLATES_DIR = PROJECT_ROOT / "templates.j2"
HANDLER_FILE = PROJECT_ROOT / "handler" / "packet_counter.py"
CANARY_HANDLER_FILE = PROJECT_ROOT / "handler" / "canary.py"
DEFAULT_OUT_DIR = PROJECT_ROOT / "out"

GLOBAL_TEMPLATE_NAME = "global.template"
REGIONAL_TEMPLATE_NAME = "regional.template"
