"""Writing config.yaml: a batching setting (tune's APPLY=1) written in, changing those two values and nothing else.

A targeted edit rather than a YAML round trip: the YAML source (generator.config.yaml_source) records
where each value is written, so the two values are replaced in the text where they stand and every
other byte (comments, layout, quoting, line endings, anchors, aliases and tags) stays as it was. A tag on
a value stays with it; a value that is an alias, or carries an anchor, is refused (editing it would
change what refers to it, or what it refers to), as is a mapping on its path that is. A key the file does
not write (its default applies) is added as a line of its own in its mapping's style. The edited text must
load as the same config with only those two values changed, or nothing is written; it replaces the
file in one step (generator.atomic_files: a reader never sees half a file), keeping the file's permissions.
A read-only file is refused, and so is a file of the installed package (its default config): never edited;
one with line breaks other than LF and CRLF (CR-only, old Mac OS, or the YAML 1.1 ones editors do not show) is
refused by the config reader before any edit, each named as what it is.
"""

from __future__ import annotations

import copy
import os
import re
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TypeVar

import yaml

from generator.atomic_files import write_atomically
from generator.config.environments import Overlay, find_overlay, read_overlay
from generator.config.loader import config_document, load_config
from generator.config.model import Batching, Config
from generator.config.yaml_source import KeyPath, TextSpan, YamlDocument, load_yaml_document, yaml_text
from generator.errors import ConfigError, Problem
from generator.resources import is_package_file

BATCHING = ("destination", "batching")
INDENT = "  "  # for a mapping the edit has to add; existing ones keep their own


class BatchingValues(Protocol):
    """A batching setting to write: tune's Setting is one."""

    @property
    def count(self) -> int: ...

    @property
    def timeout_in_seconds(self) -> float: ...


AnyBatching = TypeVar("AnyBatching", bound=BatchingValues)


@dataclass(frozen=True)
class ValueChange:
    key_path: str
    line: int
    old: str | None  # as written before; None: not written (its default applied)
    new: str


@dataclass(frozen=True)
class ConfigEdit:
    path: Path
    changes: tuple[ValueChange, ...]  # empty: the file holds the setting already; nothing was written


def format_value(value: int | float) -> str:
    """How a number is written: 10, 0.05, 1 (not 1.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def apply_batching(
    path: Path, setting: BatchingValues, source: str | None = None, environment: str | None = None
) -> ConfigEdit:
    """Write `setting` as destination.batching.count and timeout_in_seconds of the config at `path`; with
    `environment`, into that environment's overlay only (the base config and the other environments stay as
    they are), which must then load, laid over the base, as the same config with only those two values changed.

    Raises ConfigError (the file names itself) when the file is not a valid config, or when the
    edit cannot be made safely; the file is then left as it was.
    """
    source = source or str(path)
    before = load_config(path, source=source, environment=environment)
    target = _target(path, source, environment)
    document = target.document
    wanted = {"count": setting.count, "timeout_in_seconds": setting.timeout_in_seconds}
    current = before.destination.batching
    if (current.count, current.timeout_in_seconds) == (setting.count, setting.timeout_in_seconds) and all(
        BATCHING + (key,) in document.spans for key in wanted
    ):
        return ConfigEdit(target.path, ())
    _check_writable(target.path, target.source)
    text, changes = _edited_text(document, {key: format_value(value) for key, value in wanted.items()})
    expected = replace(
        before,
        destination=replace(
            before.destination, batching=Batching(setting.count, setting.timeout_in_seconds, current.size_in_mb)
        ),
    )
    _replace_checked(target.path, document.text, text, expected, target.source, target.load)
    return ConfigEdit(target.path, tuple(changes))


def check_applicable(path: Path, source: str | None = None, environment: str | None = None) -> None:
    """Raise ConfigError now, before minutes of measuring, when a setting could not be written into the
    config at `path` (with `environment`, into its overlay) later: where the two values go cannot be found, or
    the folder cannot be written."""
    source = source or str(path)
    load_config(path, source=source, environment=environment)
    target = _target(path, source, environment)
    _check_writable(target.path, target.source)
    _edited_text(target.document, {"count": "1", "timeout_in_seconds": "1"})
    if not os.access(target.path.parent, os.W_OK):
        raise ConfigError(
            [Problem(target.source, f"cannot write beside it: {target.path.parent} is not writable; nothing to apply")]
        )


@dataclass(frozen=True)
class _Target:
    """The file an edit goes to (the config, or an environment's overlay), read on its own, and how to load the
    whole config with a staged copy of it in its place."""

    path: Path
    source: str
    document: YamlDocument
    load: Callable[[Path], Config]


def _target(path: Path, source: str, environment: str | None) -> _Target:
    if environment is None:
        real = Path(os.path.realpath(path))  # a symlinked config: edit the file it points at
        return _Target(real, source, load_yaml_document(real, source), lambda staged: load_config(staged, source))
    overlay = find_overlay(path, environment, source)
    real = Path(os.path.realpath(overlay.path))  # a link inside the environments folder: edit its file
    return _Target(
        real,
        overlay.source,
        read_overlay(overlay, source),
        lambda staged: load_config(path, source, Overlay(overlay.name, staged, overlay.source)),
    )


def _check_writable(path: Path, source: str) -> None:
    """A read-only config stays read-only: refused, even where this user could replace it (root, or the
    owner of a writable folder). So does the installed package's default config, whatever its mode."""
    if is_package_file(path):
        raise ConfigError.of(
            source,
            "is the installed package's default config, which is never edited; nothing to apply: "
            "`init` writes ./config.yaml to edit (or give --config FILE)",
        )
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise ConfigError([Problem(source, f"cannot be read: {error.strerror or error}")]) from None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise ConfigError(
            [
                Problem(
                    source,
                    f"is read-only (mode {stat.filemode(mode)}); nothing to apply: make it writable "
                    "(chmod u+w) or set destination.batching by hand",
                )
            ]
        )


def settings_the_config_refuses(
    path: Path, settings: Sequence[AnyBatching], environment: str | None = None
) -> dict[AnyBatching, str]:
    """{setting: why} for the settings the config at `path` (with `environment`, its overlay laid over it)
    would refuse once written into it (a check across sections, e.g. the canary's p99 alarm against the
    batching timeout), found before measuring so that none of them is recommended. The config itself must
    load (the command has loaded it)."""
    document = config_document(Path(path), str(path), environment)
    refused: dict[AnyBatching, str] = {}
    with tempfile.TemporaryDirectory(prefix="packet-counter-tune-") as folder:
        trial = Path(folder) / "config.yaml"
        for setting in settings:
            data = copy.deepcopy(document.data)
            destination = data.setdefault("destination", {})
            batching = destination.setdefault("batching", {})
            batching.update(count=setting.count, timeout_in_seconds=setting.timeout_in_seconds)
            trial.write_text(yaml_text(data), encoding="utf-8")
            try:
                load_config(trial, source="config")
            except ConfigError as error:
                refused[setting] = "; ".join(
                    f"{problem.key_path}: {problem.message}" if problem.key_path else problem.message
                    for problem in error.problems
                )
    return refused


def _edited_text(document: YamlDocument, values: dict[str, str]) -> tuple[str, list[ValueChange]]:
    text = document.text
    written = _written_nodes(text)
    _check_path_not_shared(document, written)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the original text
    changes: list[ValueChange] = []
    missing: dict[str, str] = {}
    for key, value in values.items():
        key_path = BATCHING + (key,)
        span = document.spans.get(key_path)
        if span is None:
            missing[key] = value
            continue
        span = _value_itself(document, written, key_path, span)
        _check_in_place(document, key_path, span)
        edits.append(_in_place(text, span, value))
        changes.append(ValueChange(_dotted(key_path), document.lines[key_path], text[span.start : span.end], value))
    if missing:
        edits.append(_insertion(document, written, missing))
        for key, value in missing.items():
            changes.append(ValueChange(_dotted(BATCHING + (key,)), _line_at(text, edits[-1][0]), None, value))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, sorted(changes, key=lambda change: change.line)


@dataclass
class _WrittenNodes:
    """Where the file writes each key path's node (as the parser reports it: an alias is an AliasEvent, not
    the node it refers to), the first key of each mapping, and the anchors some alias refers to."""

    events: dict[KeyPath, yaml.Event] = field(default_factory=dict)
    first_keys: dict[KeyPath, yaml.Event] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)


def _written_nodes(text: str) -> _WrittenNodes:
    """The nodes of the file's (first) document by key path, read from the parser's events."""
    written = _WrittenNodes()
    # One frame per open collection: [key path or None (under a key that is not a plain string),
    # is a mapping, expects a key next, the pending key, the next sequence index].
    frames: list[list] = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.DocumentEndEvent):
            break
        if isinstance(event, yaml.AliasEvent):
            written.referenced.add(event.anchor)
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frames.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        path: KeyPath | None = ()
        if frames:
            frame = frames[-1]
            if frame[1] and frame[2]:  # a key
                if frame[0] is not None:
                    written.first_keys.setdefault(frame[0], event)
                frame[2], frame[3] = False, event.value if isinstance(event, yaml.ScalarEvent) else None
                path = None
            elif frame[1]:  # a key's value
                path = None if frame[0] is None or frame[3] is None else frame[0] + (frame[3],)
                frame[2] = True
            else:  # a sequence item
                path = None if frame[0] is None else frame[0] + (frame[4],)
                frame[4] += 1
        if path is not None:
            written.events.setdefault(path, event)
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            frames.append([path, isinstance(event, yaml.MappingStartEvent), True, None, 0])
    return written


def _check_path_not_shared(document: YamlDocument, written: _WrittenNodes) -> None:
    """Refuse when a mapping on destination.batching's path is an alias (its values are written elsewhere) or
    carries an anchor some alias refers to (an edit would change that alias too)."""
    for depth in range(len(BATCHING) + 1):
        key_path = BATCHING[:depth]
        event = written.events.get(key_path)
        if event is None:
            continue
        if isinstance(event, yaml.AliasEvent):
            raise _shared(document, key_path, f"is an alias (*{event.anchor}): its values are written elsewhere")
        if event.anchor is not None and event.anchor in written.referenced:
            raise _shared(
                document,
                key_path,
                f"carries the anchor &{event.anchor}, which *{event.anchor} refers to: an edit here would change both",
            )


def _value_itself(document: YamlDocument, written: _WrittenNodes, key_path: KeyPath, span: TextSpan) -> TextSpan:
    """The span of the value's own text: after a tag it keeps (`!!int 10`: `10`). An alias, or a value with an
    anchor (which aliases may refer to), is refused, naming it."""
    event = written.events.get(key_path)
    if isinstance(event, yaml.AliasEvent):
        raise _shared(
            document,
            key_path,
            f"the value is not written at its key: it is an alias (*{event.anchor}) of a value written elsewhere",
        )
    if event is None or not isinstance(event, yaml.ScalarEvent):
        return span
    if event.anchor is not None:
        raise _shared(
            document,
            key_path,
            f"the value carries the anchor &{event.anchor}, which aliases may refer to: an edit here would change "
            "them too",
        )
    if event.tag is None:
        return span
    properties = re.match(r"(?:[!&]\S*\s+)*", document.text[span.start : span.end])
    return replace(span, start=span.start + properties.end())  # type: ignore[union-attr]


def _check_in_place(document: YamlDocument, key_path: KeyPath, span: TextSpan) -> None:
    """The value must be written right at its key: not through an alias to a value written elsewhere."""
    if _line_at(document.text, span.start) < document.lines[key_path] or span.end <= span.start:
        raise ConfigError(
            [
                Problem(
                    document.source,
                    "the value is not written at its key (an alias?); set it by hand",
                    key_path=_dotted(key_path),
                    line=document.lines[key_path],
                )
            ]
        )


def _shared(document: YamlDocument, key_path: KeyPath, what: str) -> ConfigError:
    return ConfigError(
        [
            Problem(
                document.source,
                f"{what}; set it by hand",
                key_path=_dotted(key_path) or "(the top level)",
                line=document.lines.get(key_path),
            )
        ]
    )


def _insertion(document: YamlDocument, written: _WrittenNodes, leaves: dict[str, str]) -> tuple[int, int, str]:
    """Add the missing keys to the deepest mapping on destination.batching's path that the file writes."""
    text = document.text
    depth = max(d for d in range(len(BATCHING) + 1) if BATCHING[:d] in document.spans)
    parent = BATCHING[:depth]
    span = document.spans[parent]
    first_key = written.first_keys.get(parent)
    if not span.flow and first_key is not None:
        # A block mapping's text starts at its tag or anchor, if it has one (`destination: !!map`): its
        # keys are on the lines below, from the first one.
        span = replace(span, start=first_key.start_mark.index, column=first_key.start_mark.column)
    if not isinstance(_value_at(document.data, parent), dict):
        raise ConfigError(
            [
                Problem(
                    document.source,
                    "expected a mapping here",
                    key_path=_dotted(parent),
                    line=_line_at(text, span.start),
                )
            ]
        )
    nested = BATCHING[depth:]
    if span.flow:  # {a: 1, b: 2}: the keys go right after the brace
        body = ", ".join(f"{key}: {value}" for key, value in leaves.items())
        for key in reversed(nested):
            body = f"{key}: {{{body}}}"
        empty = not _value_at(document.data, parent)
        return span.start + 1, span.start + 1, body if empty else f"{body}, "
    # A block mapping: new lines at its first key's indentation, just before that key's line.
    line_start = text.rfind("\n", 0, span.start) + 1
    if text[line_start : span.start].strip(" "):
        raise ConfigError(
            [
                Problem(
                    document.source,
                    "cannot add destination.batching here without changing other lines; add it by hand",
                    key_path=_dotted(parent),
                    line=_line_at(text, span.start),
                )
            ]
        )
    newline = "\r\n" if "\r\n" in text else "\n"
    indent = " " * span.column
    lines = []
    for level, key in enumerate(nested):
        lines.append(f"{indent}{INDENT * level}{key}:")
    lines += [f"{indent}{INDENT * len(nested)}{key}: {value}" for key, value in leaves.items()]
    added = newline.join(lines) + newline
    if not parent:
        # At the top level the lines above the first key are the file's header (a schema modeline, a title):
        # the new section goes at the end of the file instead.
        return len(text), len(text), added if not text or text.endswith("\n") else newline + added
    # Inside a mapping, comment lines right above its first key belong to that key: go above them.
    start = line_start
    while start > 0:
        previous = text.rfind("\n", 0, start - 1) + 1
        if not text[previous:start].strip().startswith("#"):
            break
        start = previous
    return start, start, added


def _in_place(text: str, span: TextSpan, value: str) -> tuple[int, int, str]:
    """Replace the value at `span`; a comment after it on its line keeps its column (the spaces before it
    grow or shrink by the change in width, at least one stays), so aligned comments stay aligned."""
    gap_end = span.end
    while gap_end < len(text) and text[gap_end] == " ":
        gap_end += 1
    if gap_end == span.end or not text.startswith("#", gap_end):
        return span.start, span.end, value
    width = (gap_end - span.start) - len(value)
    return span.start, gap_end, value + " " * max(1, width)


def _replace_checked(
    path: Path, original: str, text: str, expected: Config, source: str, load: Callable[[Path], Config]
) -> None:
    """Stage the edited text beside the file, check that the config loads with it (`load`) as `expected`, then
    swap it in."""

    def check(staged: str) -> None:
        try:
            after = load(Path(staged))
        except ConfigError as error:
            raise ConfigError(
                [Problem(source, f"the edit would not load ({error.problems[0].message}); nothing was written")]
            ) from None
        if replace(after, source=expected.source) != expected:
            raise ConfigError([Problem(source, "the edit would change more than the batching; nothing was written")])
        if path.read_bytes() != original.encode("utf-8"):
            raise ConfigError([Problem(source, "the file changed while it was being edited; nothing was written")])

    try:
        write_atomically(path, text, stat.S_IMODE(os.stat(path).st_mode), check=check)
    except OSError as error:
        raise ConfigError([Problem(source, f"cannot write: {error.strerror or error}; nothing was written")]) from None


def _value_at(data: object, key_path: KeyPath) -> object:
    for key in key_path:
        data = data[key]  # type: ignore[index]
    return data


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _dotted(key_path: KeyPath) -> str:
    return ".".join(str(key) for key in key_path)
