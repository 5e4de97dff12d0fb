"""The config is composed by libyaml when PyYAML has it, and by PyYAML's own composer when libyaml refuses: a
user sees the same values, lines, spelled values, refusals and messages whichever of the two read the file."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import yaml

from generator.config import yaml_source
from generator.errors import ConfigError
from tests.support.checkout import DEFAULT_CONFIG

TRICKY = [
    DEFAULT_CONFIG.read_text(encoding="utf-8"),
    "# café\r\nregions:\r\n  - 'eu-west-1'   # ü\r\n  - \"us-east-1\"\r\nname: x\r\n",
    "nested: {a: [1, 2], b: ~}\nblock: |\n  é\n  z\nfolded: >-\n  one\n  two\n",
    "anchor: &a {k: v}\nref: *a\nmerged: {<<: *a, extra: 1}\n",
    "enabled: on\ncount: 0755\nage: 1:30\nrate: 1e-3\nquoted: '1e-3'\nnan: .nan\n",
    "emoji: \U0001f600\ntab:\t'x'\nempty:\nlist: []\nmap: {}\n",
    "broken: [1, 2\n",
    "a: 1\n a: 2\n",
    'key: "\\ud800"\n',
    "- just\n- a list\n",
    # where libyaml alone would differ: a tab before a comment (PyYAML refuses it), a byte order mark (libyaml's
    # marks leave it out), a tab inside a block scalar (libyaml refuses it)
    "key: value\t# comment\n",
    "\ufeffregions: [eu-west-1]\nname: x\n",
    "a: |\n \tb\n",
    "a: 'x\n  y'\nb: \"x\\\n  y\"\nc: 0x1F\nd: +12_000\ne: 2001-12-14\n",
]


def read_with(loader: type, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(yaml_source, "_FAST_LOADER", loader)
    path = tmp_path / "config.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        document = yaml_source.load_yaml_document(path, "config.yaml")
    except ConfigError as error:
        return [str(problem) for problem in error.problems]
    return {
        "data": document.data,
        "lines": document.lines,
        "spans": {path: asdict(span) for path, span in document.spans.items()},
        "problems": [str(problem) for problem in document.problems],
        "spelled": document.spelled,
    }


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_libyaml_and_pyyaml_give_the_same_reading_and_the_same_messages(text, tmp_path, monkeypatch):
    fast = read_with(yaml.CSafeLoader, text, tmp_path, monkeypatch)
    reference = read_with(yaml.SafeLoader, text, tmp_path, monkeypatch)
    assert fast == reference
