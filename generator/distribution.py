"""The installed distribution, from its metadata: its version, and how to add one of its optional extras."""

from __future__ import annotations

import json
import os
import shlex
from importlib import metadata
from urllib.parse import unquote, urlparse

DISTRIBUTION = "packet-counter-generator"  # pyproject.toml's [project] name


def version() -> str:
    """The installed version (`packet-counter --version`)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # source on PYTHONPATH with nothing installed
        return "unknown (not installed: running from a source tree)"


def missing_extra(extra: str, module: str | None) -> str:
    """What a command says when it needs an optional extra that is not installed: which extra, which module is
    missing, and the pip command that adds it to this install."""
    missing = f"{module.partition('.')[0]} is not installed" if module else "it is not installed"  # the package
    return f"needs the '{extra}' extra of {DISTRIBUTION} ({missing}): {install_command(extra)}"


def install_command(extra: str) -> str:
    """`pip install` of this distribution with `extra`, from where it was installed (PEP 610's direct_url.json):
    the same folder (-e again for an editable install) or wheel file while it is still there; else by name."""
    source = _installed_from()
    if source is None:
        return f"pip install {shlex.quote(f'{DISTRIBUTION}[{extra}]')}"
    path, editable = source
    return f"pip install {'-e ' if editable else ''}{shlex.quote(f'{path}[{extra}]')}"


def _installed_from() -> tuple[str, bool] | None:
    """(the local folder or wheel file this distribution was installed from, editable), when pip recorded one."""
    try:
        recorded = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
        document = json.loads(recorded) if recorded else None
    except (metadata.PackageNotFoundError, ValueError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("url"), str):
        return None
    url = urlparse(document["url"])
    path = unquote(url.path)
    if url.scheme != "file" or not os.path.exists(path):  # an index, a VCS, a wheel since deleted: by name
        return None
    directory = document.get("dir_info")
    return path, isinstance(directory, dict) and directory.get("editable") is True
