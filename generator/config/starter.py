"""`init`: a starter config.yaml in a folder of the user's, with the schema its first line names beside it.

The starter is the packaged default config, every setting shown with its default and a comment. Its first line
is the yaml-language-server modeline `# yaml-language-server: $schema=config.schema.json`, a path relative to
the file: editors that read it validate and complete the config against the schema written beside it.
Both files are written together or not at all, and neither is ever written over without `force`.
"""

from __future__ import annotations

import os
from pathlib import Path

from generator.atomic_files import STAGED_PREFIX, FileTransaction, folder_made
from generator.errors import InitError, Problem
from generator.resources import DEFAULT_CONFIG_NAME, SCHEMA_NAME, default_config_file, schema_file

# What init writes: each file's name in the user's folder, and the shipped file it is a copy of.
STARTER_FILES = ((DEFAULT_CONFIG_NAME, default_config_file), (SCHEMA_NAME, schema_file))


def write_starter(folder: Path, force: bool = False) -> list[Path]:
    """Write config.yaml and config.schema.json into `folder` (made when missing); their paths.

    Without `force`, a file already there (whatever it is) raises InitError, one problem per file, and nothing
    is written; with it, both are replaced. Any failure leaves every file as it was."""
    folder = Path(folder)
    contents = {folder / name: shipped().read_bytes() for name, shipped in STARTER_FILES}
    if not force:
        there = [target for target in contents if os.path.lexists(target)]
        if there:
            raise InitError([_refusal(target) for target in there])
    try:
        with folder_made(folder), FileTransaction(folder) as files:
            for target, content in contents.items():
                (files.replace if force else files.create)(target, content)
    except FileExistsError as error:  # one came since it was looked for
        raise InitError([_refusal(_target_of(error, folder))]) from None
    except OSError as error:
        message = f"cannot write: {error.strerror or error}; nothing was written"
        raise InitError.of(str(_target_of(error, folder)), message) from None
    return list(contents)


def _target_of(error: OSError, folder: Path) -> Path:
    """The file (or folder) an error is about: os.link and os.replace name the target second, after the staged
    copy, whose made-up name would mean nothing to the user."""
    named = error.filename2 if error.filename2 is not None else error.filename
    if named is None or Path(named).name.startswith(STAGED_PREFIX):
        return folder
    return Path(named)


def _refusal(target: Path) -> Problem:
    return Problem(str(target), "already exists; nothing was written (--force replaces it)")
