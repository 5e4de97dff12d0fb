"""Read a YAML file into plain data, remembering the line of every key path.

Bounded: the file is read up to a size limit and alias expansion is capped, so a
hostile or mistaken file fails with a clear problem instead of eating the machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import ConfigError, Problem

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000

KeyPath = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """The data of one YAML file, the line of each key path, and the problems found reading it."""

    source: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # key paths whose values could not be read

    def line_of(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that the file has."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def format_key_path(path: KeyPath) -> str:
    """`destination.batching.count`, `regions[2]`: how a user finds a key in the file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_yaml_document(path: Path, source: str) -> YamlDocument:
    """Parse the file at `path`; `source` is how messages name it. Raises ConfigError."""
    text = _read_text(path, source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = error.problem or error.context or "cannot be parsed"
        if error.context and reason.startswith("but "):  # "expected X" + "but found Y"
            reason = f"{error.context}, {reason}"
        raise ConfigError([Problem(source, f"YAML syntax error: {reason}", line=line)]) from None
    except yaml.YAMLError as error:
        raise ConfigError([Problem(source, f"YAML syntax error: {error}")]) from None
    except RecursionError:
        raise ConfigError([Problem(source, "YAML is nested too deeply to be a config file")]) from None
    if root is None:
        raise ConfigError([Problem(source, "the file is empty; expected a mapping of settings")])
    document = YamlDocument(source=source, data=None)
    builder = _Builder(document)
    try:
        document.data = builder.build(root, ())
    except _TooManyNodes:
        raise ConfigError(
            [Problem(source, f"YAML expands to more than {MAX_NODES:,} values (aliases?); a config is far smaller")]
        ) from None
    except RecursionError:
        raise ConfigError([Problem(source, "YAML is nested too deeply to be a config file")]) from None
    return document


def _read_text(path: Path, source: str) -> str:
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([Problem(source, "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(source, "is a directory; expected a YAML file")]) from None
    except OSError as error:
        raise ConfigError([Problem(source, f"cannot be read: {error.strerror or error}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            [Problem(source, f"the file is larger than {MAX_FILE_BYTES:,} bytes; a config is far smaller")]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([Problem(source, f"is not UTF-8 text (byte {error.start})")]) from None


_PLAIN_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class _TooManyNodes(Exception):
    pass


class _Builder:
    """Turns composed YAML nodes into dicts, lists and scalars, recording lines on the way."""

    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.scalars = yaml.SafeLoader("")
        self.visited = 0

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooManyNodes
        self.document.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_COLLECTION_TAGS:
            return self._unreadable(path, node, f"the YAML tag {node.tag!r} is not supported here")
        if isinstance(node, yaml.MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        try:
            return self.scalars.construct_object(node)
        except yaml.YAMLError as error:
            return self._unreadable(path, node, getattr(error, "problem", None) or str(error))

    def _build_mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._build_key(key_node)
            if not isinstance(key, str):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a non-scalar key"
                self._problem(path, key_node, f"key {shown!r} must be a plain string; quote it")
                continue
            line = key_node.start_mark.line + 1
            if key in first_line:
                self._problem(path + (key,), key_node, f"duplicate key (first at line {first_line[key]})")
            first_line.setdefault(key, line)
            self.document.lines[path + (key,)] = line
            result[key] = self.build(value_node, path + (key,))
        return result

    def _build_key(self, node: yaml.Node) -> Any:
        # Merge keys (<<) are refused: expanding them can blow up, and a config needs none.
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:merge":
            return None
        try:
            return self.scalars.construct_object(node)
        except yaml.YAMLError:
            return None

    def _unreadable(self, path: KeyPath, node: yaml.Node, reason: str) -> None:
        self._problem(path, node, f"cannot be read: {reason}")
        self.document.unreadable.add(format_key_path(path))

    def _problem(self, path: KeyPath, node: yaml.Node, message: str) -> None:
        self.document.problems.append(
            Problem(self.document.source, message, key_path=format_key_path(path), line=node.start_mark.line + 1)
        )
