"""Read a YAML file into plain data, remembering the line of every key path.

Bounded: only a regular file is read, up to a size limit, and alias expansion is capped, so a
hostile or mistaken file fails with a clear problem instead of hanging or eating the machine.

Scalars are read as YAML 1.2 reads them (what editors and most tools assume): `1e-3` is a
number. Where PyYAML's YAML 1.1 would silently read something else than the user sees
(`1:30` as 90, `010` as 8) the value is refused with a problem saying so, as are values no
template can carry (NaN and infinity, unpaired surrogates, numbers of thousands of digits).

Lines are as an editor counts them, by \n. YAML 1.1 also breaks lines at NEL (U+0085), LINE
SEPARATOR (U+2028), PARAGRAPH SEPARATOR (U+2029) and a carriage return not followed by \n, which
editors, diffs and terminals do not show as line breaks: in a comment or a value one could start a
key no reviewer sees. A raw one is refused anywhere in the file, before anything is read, naming its
line and column (as an escape inside double quotes, the character is still possible). Refused rather
than read as YAML 1.2 (where the first three are ordinary characters): a raw one is invisible in a
value too, and every other YAML 1.1 reader of the file (PyYAML in scripts) would still break the line.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import ConfigError, Problem, shown

MAX_FILE_BYTES = 1_000_000
# libyaml's composer when PyYAML was built with it (the wheels are): the same YAML 1.1 nodes, marks and tags as
# PyYAML's own, about seven times faster. A document it does not read is read again by PyYAML's pure-Python
# composer, whose errors (and whose reading, should the two ever differ) are the ones we report.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 100_000

KeyPath = tuple[str | int, ...]

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = (_INT_TAG, _FLOAT_TAG)
_PLAIN_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
# A date (2001-12-14) is a timestamp to YAML 1.1 and text to YAML 1.2; the other scalar types (null, bool, the
# numbers, text) are JSON's, and any other tag (!!binary, ...) reads as a value no config setting can hold.
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_PLAIN_SCALAR_TAGS = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", *_NUMBER_TAGS, _STR_TAG, _TIMESTAMP_TAG}
# YAML 1.1 only: base 60 (1:30 is 90) and octal by a leading zero (010 is 8).
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
_LEADING_ZERO_OCTAL = re.compile(r"[-+]?0[0-7_]+\Z")
# YAML 1.2 core schema floats with an exponent, which PyYAML leaves as text (it wants a dot and a sign).
_YAML12_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A key is shown bare in a key path when it reads unambiguously; else quoted (spaces, dots, newlines...).
_BARE_KEY = re.compile(r"[A-Za-z0-9_:/=+@-]+\Z")
_LONGEST_KEY_SHOWN = 130  # a tag key may have 128 characters; longer ones are cut


@dataclass(frozen=True)
class TextSpan:
    """Where a value is written in the file's text: characters [start, end), starting at `column` of its
    line; `flow` for a collection written {...} or [...] rather than as an indented block."""

    start: int
    end: int
    column: int
    flow: bool = False


@dataclass
class YamlDocument:
    """The data of one YAML file, the line of each key path, and the problems found reading it."""

    source: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    # Where each key path's value is written (the first place, for a value reached through an alias),
    # in `text`, the file as read: what a targeted edit of one value needs.
    spans: dict[KeyPath, TextSpan] = field(default_factory=dict)
    text: str = ""
    problems: list[Problem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # key paths whose values could not be read
    # How a plain scalar was written when that differs from the value read (`on` read as true).
    spelled: dict[KeyPath, str] = field(default_factory=dict)
    # The file a key path's value was written in, where that is not `source`: a document laid over another
    # (generator.config.overlay) keeps each value's own file beside its line. Keyed as `lines` is.
    sources: dict[KeyPath, str] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that the file has."""
        return self.where(path)[1]

    def where(self, path: KeyPath) -> tuple[str, int | None]:
        """(file, line) of `path`, or of its nearest ancestor that the document has: where a problem with
        the value is reported."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.sources.get(path, self.source), self.lines[path]
            path = path[:-1]
        return self.source, None


def format_key_path(path: KeyPath) -> str:
    """`destination.batching.count`, `regions[2]`, `tags["cost center"]`: how a user finds a key in the file."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _BARE_KEY.match(part) and len(part) <= _LONGEST_KEY_SHOWN:
            text += f".{part}" if text else part
        else:
            text += f"[{shown(part, limit=_LONGEST_KEY_SHOWN, as_json=True)}]"
    return text


EXPECTED_SETTINGS = "a mapping of settings"


def load_yaml_document(path: Path, source: str, expected: str = EXPECTED_SETTINGS) -> YamlDocument:
    """Parse the file at `path`; `source` is how messages name it, `expected` what an empty file should have
    held. Raises ConfigError."""
    text = _read_text(path, source)
    hidden = list(_HIDDEN_LINE_BREAK.finditer(text))
    if hidden:
        raise ConfigError(_hidden_line_break_problems(text, source, hidden))
    return _parse(text, source, expected)


def _parse(text: str, source: str, expected: str = EXPECTED_SETTINGS) -> YamlDocument:
    places = _Places(text)
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = places.line(mark.index) if mark else None
        reason = error.problem or error.context or "cannot be parsed"
        if error.context and reason.startswith("but "):  # "expected X" + "but found Y"
            reason = f"{error.context}, {reason}"
        raise ConfigError([Problem(source, f"YAML syntax error: {reason}", line=line)]) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (its position: an index in text)
        code = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "\0")
        message = (
            f"YAML syntax error: the character U+{code:04X} at column {places.column(error.position) + 1} is a "
            "control character YAML does not allow; remove it"
        )
        raise ConfigError([Problem(source, message, line=places.line(error.position))]) from None
    except yaml.YAMLError as error:
        raise ConfigError([Problem(source, f"YAML syntax error: {error}")]) from None
    except RecursionError:
        raise ConfigError([Problem(source, "YAML is nested too deeply to be a config file")]) from None
    if root is None:
        raise ConfigError([Problem(source, f"the file is empty; expected {expected}")])
    document = YamlDocument(source=source, data=None, text=text)
    builder = _Builder(document, places)
    try:
        document.data = builder.build(root, ())
    except _TooManyNodes:
        raise ConfigError(
            [Problem(source, f"YAML expands to more than {MAX_NODES:,} values (aliases?); a config is far smaller")]
        ) from None
    except RecursionError:
        raise ConfigError([Problem(source, "YAML is nested too deeply to be a config file")]) from None
    return document


def _compose(text: str) -> yaml.Node | None:
    # Where the two are known to differ, PyYAML alone reads: libyaml takes a tab before a comment that PyYAML
    # refuses, and leaves a byte order mark out of its marks (every span after it would be one character off).
    if "\t" in text or "\ufeff" in text:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except Exception:  # any refusal, or a lone surrogate libyaml cannot encode: PyYAML words it
        return yaml.compose(text, Loader=yaml.SafeLoader)


# What YAML 1.1 (PyYAML) reads as a line break and editors do not show as one; \r\n is one ordinary line end.
_HIDDEN_LINE_BREAK = re.compile("[\x85\u2028\u2029]|\r(?!\n)")
_INVISIBLE = "editors and diffs show no line break there"
# What each is, what a reader sees of it, and its escape inside double quotes.
_HIDDEN_LINE_BREAKS = {
    "\x85": ("U+0085 NEXT LINE (NEL)", _INVISIBLE, "\\N (or \\x85)"),
    "\u2028": ("U+2028 LINE SEPARATOR", _INVISIBLE, "\\L (or \\u2028)"),
    "\u2029": ("U+2029 PARAGRAPH SEPARATOR", _INVISIBLE, "\\P (or \\u2029)"),
    "\r": (
        "carriage return (U+000D) without a line feed after it",
        "diffs show no line break there, and a terminal prints what follows over the start of the line",
        "\\r",
    ),
}
_MOST_HIDDEN_LINE_BREAKS_LISTED = 20


def _hidden_line_break_problems(text: str, source: str, found: list[re.Match[str]]) -> list[Problem]:
    """One problem for each raw hidden line break (the first few of many), at its line and column as an editor
    counts them, under the key path of the value it is in when the file, read as an editor shows it, has one.
    A file whose every line ends in CR alone (old Mac OS) is one problem: its line endings."""
    if "\n" not in text and all(match.group() == "\r" for match in found):
        return [
            Problem(
                source,
                "has CR-only (old Mac OS) line endings, which some editors, diffs and terminals do not show as line "
                "breaks; convert its line endings to LF (or CRLF)",
                line=1,
            )
        ]
    places = _Places(text)
    where = _value_paths_as_shown(text, source, found)
    problems = []
    for match in found[:_MOST_HIDDEN_LINE_BREAKS_LISTED]:
        name, unseen, escape = _HIDDEN_LINE_BREAKS[match.group()]
        problems.append(
            Problem(
                source,
                f"a raw {name} at column {places.column(match.start()) + 1}: YAML 1.1 reads it as a line break, "
                f"but {unseen}, so what follows could be read as a key nobody sees; remove it, or if the "
                f"character is meant in a value, write it as the escape {escape} inside double quotes",
                key_path=where.get(match.start(), ""),
                line=places.line(match.start()),
            )
        )
    if len(found) > _MOST_HIDDEN_LINE_BREAKS_LISTED:
        more = len(found) - _MOST_HIDDEN_LINE_BREAKS_LISTED
        problems.append(Problem(source, f"and {more:,} more such characters after line {problems[-1].line}"))
    return problems


def _value_paths_as_shown(text: str, source: str, found: list[re.Match[str]]) -> dict[int, str]:
    """{index of a hidden line break: key path of the scalar it is written in}, read from the file as editors
    show it (each hidden line break as a space); a break outside any scalar (in a comment) has none."""
    shown_text = _HIDDEN_LINE_BREAK.sub(" ", text)  # one character for one: indexes stay
    try:
        document = _parse(shown_text, source)
    except ConfigError:
        return {}
    scalars = sorted(
        (span.start, span.end, path)
        for path, span in document.spans.items()
        if path and not isinstance(_value_at(document.data, path), dict | list)
    )
    starts = [start for start, _, _ in scalars]
    paths = {}
    for match in found[:_MOST_HIDDEN_LINE_BREAKS_LISTED]:
        at = bisect.bisect_right(starts, match.start()) - 1
        if at >= 0 and scalars[at][0] <= match.start() < scalars[at][1]:
            paths[match.start()] = format_key_path(scalars[at][2])
    return paths


def _value_at(data: Any, path: KeyPath) -> Any:
    for key in path:
        data = data[key]
    return data


class _Places:
    """Line and column of a character of the text as an editor counts them: lines end at \n only."""

    def __init__(self, text: str) -> None:
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def line(self, index: int) -> int:
        """1-based."""
        return bisect.bisect_right(self.line_starts, index)

    def column(self, index: int) -> int:
        """0-based, in characters."""
        return index - self.line_starts[self.line(index) - 1]


class _Yaml12SafeDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, which writes YAML 1.1, made to quote every string that a YAML 1.2 reader (this
    module) would read as something else: PyYAML leaves `0E0`, `1e3` or `0o17` plain because YAML 1.1 reads them
    as text, and YAML 1.2 reads the first two as numbers."""


# The YAML 1.2 core schema's plain scalars that are not strings (https://yaml.org/spec/1.2.2/#1032-tag-resolution),
# added to the 1.1 ones PyYAML already quotes: a string matching any of them is written quoted.
_YAML12_CORE = {
    "tag:yaml.org,2002:null": (r"~|null|Null|NULL", "~nN"),
    "tag:yaml.org,2002:bool": (r"true|True|TRUE|false|False|FALSE", "tTfF"),
    "tag:yaml.org,2002:int": (r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    "tag:yaml.org,2002:float": (
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+.0123456789",
    ),
}
for _tag, (_pattern, _first) in _YAML12_CORE.items():
    _Yaml12SafeDumper.add_implicit_resolver(_tag, re.compile(rf"(?:{_pattern})\Z"), list(_first))


def yaml_text(data: Any, sort_keys: bool = False, allow_unicode: bool = True) -> str:
    """`data` as YAML that load_yaml_document reads back as `data`, as a user would write it (non-ASCII characters
    as they are unless not `allow_unicode`; keys in their order unless `sort_keys`): a string YAML 1.2 would read
    as a number, a boolean or
    null is quoted, and as PyYAML's emitter would write a YAML 1.1 line break such as NEL raw, which is refused
    here, such a text has every non-ASCII character written as an escape."""
    text = yaml.dump(data, Dumper=_Yaml12SafeDumper, sort_keys=sort_keys, allow_unicode=allow_unicode)
    if allow_unicode and _HIDDEN_LINE_BREAK.search(text):
        text = yaml.dump(data, Dumper=_Yaml12SafeDumper, sort_keys=sort_keys, allow_unicode=False)
    return text


def _read_text(path: Path, source: str) -> str:
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; it is refused below.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ConfigError([Problem(source, "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(source, "is a directory; expected a YAML file")]) from None
    except OSError as error:
        raise ConfigError([Problem(source, f"cannot be read: {error.strerror or error}")]) from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise ConfigError([Problem(source, "is a directory; expected a YAML file")])
        raise ConfigError([Problem(source, f"is {_file_kind(mode)}, not a regular file; expected a YAML file")])
    with os.fdopen(descriptor, "rb") as stream:
        try:
            raw = stream.read(MAX_FILE_BYTES + 1)
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


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISCHR: "a character device", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "a special file")


class _TooManyNodes(Exception):
    pass


class _Unreadable(Exception):
    """A value that cannot be used as written; the message says why."""


def _shown_number(text: str) -> str:
    special = {".nan": "not a number", ".inf": "infinity", "+.inf": "infinity", "-.inf": "minus infinity"}
    meaning = special.get(text.lower())
    return f"{text} is {meaning}" if meaning else f"{text} is too large to be a number (it reads as infinity)"


class _Builder:
    """Turns composed YAML nodes into dicts, lists and scalars, recording lines on the way."""

    def __init__(self, document: YamlDocument, places: _Places) -> None:
        self.document = document
        self.places = places  # lines from PyYAML's marks would count YAML 1.1's other line breaks too
        self.scalars = yaml.SafeLoader("")
        self.visited = 0

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooManyNodes
        self.document.lines.setdefault(path, self._line(node))
        flow = isinstance(node, yaml.CollectionNode) and bool(node.flow_style)
        start, end = node.start_mark.index, node.end_mark.index
        self.document.spans.setdefault(path, TextSpan(start, end, self.places.column(start), flow))
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_COLLECTION_TAGS:
            return self._unreadable(path, node, f"cannot be read: the YAML tag {node.tag!r} is not supported here")
        if isinstance(node, yaml.MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        try:
            return self._scalar(node, path)
        except _Unreadable as reason:
            return self._unreadable(path, node, str(reason))

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        """A scalar as YAML 1.2 reads it; what YAML 1.1 would silently misread raises _Unreadable."""
        plain = not node.style  # None from PyYAML's composer, "" from libyaml's
        if plain and node.tag in _NUMBER_TAGS and _SEXAGESIMAL.match(node.value):
            value = self._construct(node)
            raise _Unreadable(
                f"{node.value} is read by YAML 1.1 as the base-60 number {value:g}; "
                f"write the number you mean (e.g. {value:g}), or quote it to mean text"
            )
        if plain and node.tag == _INT_TAG and _LEADING_ZERO_OCTAL.match(node.value):
            raise _Unreadable(
                f"{node.value} is read by YAML 1.1 as the octal number {self._construct(node)}; "
                "write it without the leading zero, or quote it to mean text"
            )
        if node.tag not in _PLAIN_SCALAR_TAGS:
            raise _Unreadable(f"cannot be read: the YAML tag {node.tag!r} is not supported here")
        if plain and node.tag == _STR_TAG and _YAML12_FLOAT.match(node.value):
            value: Any = float(node.value)  # 1e-3, 1.5e3: numbers in YAML 1.2, text to PyYAML's YAML 1.1
        elif node.tag == _TIMESTAMP_TAG:
            value = node.value  # as written: YAML 1.2 has no timestamps
        else:
            value = self._construct(node)
        if isinstance(value, float) and not math.isfinite(value):
            raise _Unreadable(f"{_shown_number(node.value)}; expected a finite number")
        if isinstance(value, str) and (surrogate := _SURROGATE.search(value)):
            raise _Unreadable(
                f"contains an unpaired surrogate (\\u{ord(surrogate.group()):04x}), which is not a character; remove it"
            )
        if plain and not isinstance(value, str) and node.value != json.dumps(value):
            self.document.spelled[path] = node.value  # `on` read as true: errors can say what was written
        return value

    def _construct(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.scalars.construct_object(node)
        except yaml.YAMLError as error:
            raise _Unreadable(f"cannot be read: {getattr(error, 'problem', None) or error}") from None
        except ValueError:  # int() refuses more than 4,300 digits
            raise _Unreadable(f"a number of {len(node.value):,} digits is far too large") from None

    def _build_mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._build_key(key_node)
            if not isinstance(key, str):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a non-scalar key"
                self._problem(path, key_node, f"key {shown!r} must be a plain string; quote it")
                continue
            if _SURROGATE.search(key):
                self._problem(path, key_node, "a key contains an unpaired surrogate, which is not a character")
                continue
            line = self._line(key_node)
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
        except (yaml.YAMLError, ValueError):
            return None

    def _unreadable(self, path: KeyPath, node: yaml.Node, reason: str) -> None:
        self._problem(path, node, reason)
        self.document.unreadable.add(format_key_path(path))

    def _problem(self, path: KeyPath, node: yaml.Node, message: str) -> None:
        self.document.problems.append(
            Problem(self.document.source, message, key_path=format_key_path(path), line=self._line(node))
        )

    def _line(self, node: yaml.Node) -> int:
        return self.places.line(node.start_mark.index)
