"""Every file the package ships, found through importlib.resources: the one module that knows where they are.

The same code runs from the checkout and from an installed wheel:

- In a wheel, the checkout's top-level folders are mapped into the package at build time (pyproject.toml,
  [tool.setuptools.package-dir]): templates.j2/ is generator/shipped/templates/, config/ is
  generator/shipped/config/, handler/ is generator/shipped/handler/.
- In the checkout (an editable install, or `python -m generator` with PYTHONPATH=checkout) there is no
  generator/shipped/: they are the folders beside generator/, where users and the design card expect them.

The JSON tables and the local Lambda runtime are files of the package's own rooms in both. Every location is
a Path: pip and pipx install a wheel unpacked, so the package is a folder on disk (the local gateway runs
lambda_runtime.py as a script, and --config, --prices and --latency-table take a path).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

PACKAGE = "generator"
# The package's folder that holds the mapped top-level folders in a wheel (see the docstring).
SHIPPED_FOLDER = "shipped"
# Each shipped folder: its name inside generator/shipped/ in a wheel, and its name in the checkout.
TEMPLATES = ("templates", "templates.j2")
CONFIG = ("config", "config")
HANDLER = ("handler", "handler")

DEFAULT_CONFIG_NAME = "config.yaml"
SCHEMA_NAME = "config.schema.json"


@cache
def package_folder() -> Path:
    """The folder of the generator package, wherever it was imported from."""
    folder = files(PACKAGE)
    if not isinstance(folder, Path):  # a zip import: none of pip's or pipx's installs makes one
        raise RuntimeError(f"the {PACKAGE} package must be installed unpacked, as pip installs it; found {folder}")
    return folder


def shipped_folder(folder: tuple[str, str]) -> Path:
    """One of the shipped folders (TEMPLATES, CONFIG, HANDLER): the package's copy in a wheel, else the checkout's."""
    in_package, in_checkout = folder
    packaged = package_folder() / SHIPPED_FOLDER / in_package
    return packaged if packaged.is_dir() else package_folder().parent / in_checkout


def template_file(name: str) -> Path:
    """A Jinja template of templates.j2/ by file name (`regional.template.json.j2`)."""
    return shipped_folder(TEMPLATES) / name


def default_config_file() -> Path:
    """config/config.yaml: the default config (the starter `init` writes)."""
    return shipped_folder(CONFIG) / DEFAULT_CONFIG_NAME


def schema_file() -> Path:
    """config/config.schema.json: the config's JSON Schema."""
    return shipped_folder(CONFIG) / SCHEMA_NAME


def packet_counter_handler_file() -> Path:
    """handler/packet_counter.py: the function's code, embedded verbatim."""
    return shipped_folder(HANDLER) / "packet_counter.py"


def canary_handler_file() -> Path:
    """handler/canary.py: the canary function's code, embedded verbatim, and run once from here by `canary`."""
    return shipped_folder(HANDLER) / "canary.py"


def latency_table_file() -> Path:
    """The inter-region round trip table of the local gateway's routing (estimates; its "source" says how)."""
    return package_folder() / "local" / "gateway" / "region_latency.json"


def price_table_file() -> Path:
    """The Lambda price table of `tune` (dated, its source named)."""
    return package_folder() / "tune" / "lambda_prices.json"


def lambda_runtime_script() -> Path:
    """lambda_runtime.py, which each local function process runs as a script."""
    return package_folder() / "local" / "gateway" / "lambda_runtime.py"


def is_package_file(path: Path) -> bool:
    """Whether `path` is a file of the package itself (in a wheel, the shipped default config is one), which a
    command must never edit: an upgrade would replace it, and every user of that install shares it. The
    checkout's config/config.yaml lies beside the package, not in it: the user's to edit, as it always was."""
    return Path(path).resolve().is_relative_to(package_folder().resolve())
