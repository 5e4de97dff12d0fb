"""Environments (dev, staging, prod from one repository): the base config, and beside it one overlay per
environment, `environments/<name>.yaml`, whose settings are laid over the base's (generator.config.overlay).

What keeps two environments apart is decided here, in one place:

- the name: 1 to 32 lowercase letters, digits or hyphens. It becomes part of stack, function and log group
  names and of the out folder (out/<name>/), so nothing in it can leave a folder (no `/`, no `..`), and it is
  lowercase so that `Prod` and `prod` are never two environments on a file system that ignores case but one
  set of stacks on AWS, or the other way round;
- the stack names: the environment's name joins the base's name_prefix (`packet-counter` becomes
  `packet-counter-prod`, so its stacks are `packet-counter-prod-global` and `packet-counter-prod-region`),
  unless the overlay sets a name_prefix of its own, which must then differ from the base's and from every
  other environment's: two environments never deploy over each other's stacks, nor over the base's;
- the overlay file: a regular file in the environments folder (a symbolic link is followed only to a file
  inside the folder), holding a mapping; an empty one is refused (`{}` is an overlay that changes nothing but
  the names).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.config.schema import load_schema
from generator.config.yaml_source import YamlDocument, load_yaml_document
from generator.errors import ConfigError, Problem, closest_match, shown

ENVIRONMENTS_FOLDER = "environments"
OVERLAY_SUFFIX = ".yaml"
MAX_NAME_LENGTH = 32
_NAME = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_NAME_LENGTH - 1}}}\Z")
NAME_EXPECTED = (
    f"1 to {MAX_NAME_LENGTH} lowercase letters, digits or hyphens, starting with a letter or digit "
    "(it joins the stack names and names the out folder)"
)
MOST_NAMES_LISTED = 20


@dataclass(frozen=True)
class Overlay:
    """An environment's overlay file: its name, where it is, and how messages name it."""

    name: str
    path: Path
    source: str


def environment_name_problem(name: str) -> str | None:
    """Why `name` cannot name an environment, or None when it can."""
    if _NAME.match(name):
        return None
    if "/" in name or "\\" in name or name in (".", ".."):
        # POSIX shells read a startup file named by $ENV: an exported one reaches `make` as ENV too.
        return (
            f"{shown(name)} is a path, not an environment name; expected {NAME_EXPECTED}. (With make: is ENV "
            "set in your shell to a startup file? `ENV=prod make ...` names the environment)"
        )
    return f"{shown(name)} is not an environment name; expected {NAME_EXPECTED}"


def environments_folder(config_path: Path | str) -> Path:
    """Where the overlays of the config at `config_path` are: `environments/` beside it."""
    return Path(config_path).parent / ENVIRONMENTS_FOLDER


def folder_source(config_source: str) -> str:
    """The environments folder as messages name it: beside the config as the user named it."""
    return os.path.join(os.path.dirname(config_source), ENVIRONMENTS_FOLDER, "")


def environment_names(config_path: Path | str) -> list[str]:
    """The environments beside the config: each `<name>.yaml` of its environments folder whose name is one."""
    try:
        entries = os.listdir(environments_folder(config_path))
    except OSError:
        return []
    names = (entry[: -len(OVERLAY_SUFFIX)] for entry in entries if entry.endswith(OVERLAY_SUFFIX))
    return sorted(name for name in names if _NAME.match(name))


def find_overlay(config_path: Path | str, name: str, config_source: str) -> Overlay:
    """The overlay of environment `name` of the config at `config_path`. Raises ConfigError, one line: a name
    that is not one, an environment that does not exist (listing those that do), a link out of the folder."""
    reason = environment_name_problem(name)
    if reason is not None:
        raise ConfigError.of("--env", reason)
    folder = environments_folder(config_path)
    where = folder_source(config_source)
    path = folder / f"{name}{OVERLAY_SUFFIX}"
    source = os.path.join(where, f"{name}{OVERLAY_SUFFIX}")
    if not os.path.lexists(path):
        raise ConfigError.of("--env", _missing(config_path, name, where, config_source))
    if os.path.islink(path):
        inside = os.path.realpath(folder)
        target = os.path.realpath(path)
        if os.path.commonpath([inside, target]) != inside:
            raise ConfigError.of(
                source,
                f"is a symbolic link to {shown(os.readlink(path), limit=300)}, outside {where}; an environment's "
                "overlay must be a file in that folder",
            )
    return Overlay(name, path, source)


def _missing(config_path: Path | str, name: str, where: str, config_source: str) -> str:
    names = environment_names(config_path)
    if not names:
        return (
            f"no environment {shown(name)}: {where} has none; create {where}{name}{OVERLAY_SUFFIX} with the "
            f"settings that differ from {config_source}"
        )
    close = closest_match(name, names)
    hint = f"did you mean {close!r}? " if close else ""
    other_spelling = environments_folder(config_path) / f"{name}.yml"
    if os.path.lexists(other_spelling):
        hint = f"{name}.yml is there: rename it {name}{OVERLAY_SUFFIX}; " + hint
    listed = ", ".join(names[:MOST_NAMES_LISTED]) + (", ..." if len(names) > MOST_NAMES_LISTED else "")
    return f"no environment {shown(name)} in {where}; {hint}expected one of: {listed}"


def read_overlay(overlay: Overlay, config_source: str) -> YamlDocument:
    """The overlay's YAML, which must be a mapping. Raises ConfigError naming the overlay."""
    wanted = f"the settings that differ from {config_source} (`{{}}` for none)"
    document = load_yaml_document(overlay.path, overlay.source, expected=wanted)
    if not isinstance(document.data, dict):
        raise ConfigError.of(
            overlay.source, f"expected a mapping of {wanted}, got {_kind(document.data)}", line=document.line_of(())
        )
    return document


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"the {type(value).__name__} {shown(value)}"


def own_stack_names(
    merged: YamlDocument, base: YamlDocument, overlay: YamlDocument, environment: Overlay, config_path: Path | str
) -> list[Problem]:
    """Give the environment stack names of its own in `merged` (its name joined to the base's name_prefix,
    unless the overlay sets one), and the problems of an overlay whose name_prefix would share stacks with the
    base or with another environment. The default name_prefix comes from the schema (its one home)."""
    base_prefix = base.data.get("name_prefix", default_name_prefix())
    if not isinstance(base_prefix, str):
        return []  # the schema says what is wrong with it
    written = overlay.data.get("name_prefix")
    if "name_prefix" not in overlay.data:
        merged.data["name_prefix"] = joined_name_prefix(base_prefix, environment.name)
    elif not isinstance(written, str):
        return []
    prefix = merged.data["name_prefix"]
    source, line = overlay.where(("name_prefix",)) if written is not None else (environment.source, None)
    problems = []
    if prefix == base_prefix:
        problems.append(
            Problem(
                source,
                f"{shown(prefix)} is {base.source}'s own name_prefix: this environment would deploy over the base "
                f"config's stacks; choose another, or leave name_prefix out (then it is "
                f"{joined_name_prefix(base_prefix, environment.name)})",
                key_path="name_prefix",
                line=line,
            )
        )
    for other, other_source, other_prefix in _other_prefixes(config_path, environment, base_prefix, base.source):
        if other_prefix == prefix:
            how = "" if written is not None else f" (the environment's name joined to {base.source}'s)"
            problems.append(
                Problem(
                    source,
                    f"{shown(prefix)}{how} is also the name_prefix of environment {other!r} ({other_source}): the "
                    "two would deploy over each other's stacks; give each a name_prefix of its own",
                    key_path="name_prefix",
                    line=line,
                )
            )
    return problems


def own_destination_name(merged: YamlDocument, base: YamlDocument, overlay: YamlDocument, environment: Overlay) -> bool:
    """A destination name the base sets is the environment's own too: its name joined (`counter-prod`), unless
    the overlay sets one. (With StackSets each region binds to its account's destination by name, so two
    environments in one account must not share one.) Whether a name was joined."""
    base_destination, overlay_destination = base.data.get("destination"), overlay.data.get("destination")
    name = base_destination.get("name") if isinstance(base_destination, dict) else None
    if not isinstance(name, str) or (isinstance(overlay_destination, dict) and "name" in overlay_destination):
        return False
    if not isinstance(merged.data.get("destination"), dict):
        return False  # the overlay replaced the section with something else: the schema says what
    merged.data["destination"] = {**merged.data["destination"], "name": joined_name_prefix(name, environment.name)}
    return True


def default_name_prefix() -> str:
    return load_schema()["properties"]["name_prefix"]["default"]


def joined_name_prefix(base_prefix: str, name: str) -> str:
    return f"{base_prefix}-{name}"


def _other_prefixes(
    config_path: Path | str, environment: Overlay, base_prefix: str, config_source: str
) -> list[tuple[str, str, str]]:
    """(name, file, name_prefix) of every other environment whose overlay can be read; one that cannot is
    reported when it is used, not here."""
    found = []
    for name in environment_names(config_path):
        if name == environment.name:
            continue
        try:
            other = find_overlay(config_path, name, config_source)
            document = read_overlay(other, config_source)
        except ConfigError:
            continue
        written = document.data.get("name_prefix")
        if "name_prefix" in document.data and not isinstance(written, str):
            continue
        prefix = written if isinstance(written, str) else joined_name_prefix(base_prefix, name)
        _, line = document.where(("name_prefix",))
        found.append((name, f"{other.source}:{line}" if written is not None and line else other.source, prefix))
    return found
