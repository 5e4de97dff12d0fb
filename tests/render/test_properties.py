"""Property tests: any config the schema allows renders lint-clean, deterministic JSON; any broken one
gets one clear line per problem and leaves out/ byte-for-byte untouched."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import re
import tempfile
from pathlib import Path

import yaml
from cfnlint.api import ManualArgs, lint
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from generator.cli import main
from generator.config import load_config
from generator.config.regions import known_regions
from generator.config.schema import load_schema
from generator.render import render_templates
from tests.support.checkout import DEFAULT_CONFIG

SAMPLE_NETWORKS = ["0.0.0.0/0", "::/0", "10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32"]
SAMPLE_DOMAINS = ["example.com", "client.example.org", "a-1.b-2.example.net", "xn--bcher-kva.example"]


def generation_schema() -> dict:
    """The real schema, narrowed where a schema cannot say what is valid (regions, CIDRs, the same
    domain in two cases), with patterns anchored as our validator reads them (no trailing newline)."""
    schema = _whole_string_patterns(copy.deepcopy(load_schema()))
    properties = schema["properties"]
    properties["regions"].update(items={"enum": list(known_regions())}, uniqueItems=True, maxItems=8)
    properties["home_region"] = {"enum": list(known_regions())}
    listener = properties["listener"]["properties"]
    listener["client_networks"]["items"] = {"enum": SAMPLE_NETWORKS}
    listener["client_domains"].update(items={"enum": SAMPLE_DOMAINS}, maxItems=5)
    listener["wireguard"]["properties"]["peers"]["maxItems"] = 3
    listener["wireguard"]["properties"]["peers"]["items"]["properties"]["allowed_ips"]["items"] = {
        "enum": SAMPLE_NETWORKS
    }
    properties["tags"]["maxProperties"] = 5
    return schema


def _whole_string_patterns(schema):
    """`^...$` as `^...\\Z`: hypothesis would otherwise also generate a trailing newline, which is refused."""
    if isinstance(schema, dict):
        return {
            key: (value[:-1] + "\\Z" if key == "pattern" and value.endswith("$") else _whole_string_patterns(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_whole_string_patterns(item) for item in schema]
    return schema


def _distinct_peer_keys(data: dict) -> bool:
    """A schema cannot say "unique by one field": the same peer key twice is a semantic check."""
    peers = data.get("listener", {}).get("wireguard", {}).get("peers", [])
    keys = [peer["public_key"] for peer in peers]
    return len(keys) == len(set(keys))


def _observability_coherent(data: dict) -> bool:
    """The semantic checks of the observability section (generator/config/checks.py), which a schema cannot say:
    a topic needs alarms; the canary needs a udp listener and no stacksets (every instance would get the same
    endpoint); its p99 alarm must not be breached by its own last batch waiting for the timeout on a quiet service."""
    schema = load_schema()["properties"]
    observability = data.get("observability", {})
    canary = observability.get("canary", {})
    alarms = observability.get("alarms", False)
    if observability.get("alarms_topic_arn") is not None and not alarms:
        return False
    if not canary.get("enabled", False):
        return True
    if isinstance(data.get("stacksets"), dict):
        return False
    protocols = data.get("listener", {}).get("protocols", ["udp"])
    batching = data.get("destination", {}).get("batching", {})
    batching_defaults = schema["destination"]["properties"]["batching"]["properties"]
    canary_defaults = schema["observability"]["properties"]["canary"]["properties"]
    count = batching.get("count", batching_defaults["count"]["default"])
    timeout = batching.get("timeout_in_seconds", batching_defaults["timeout_in_seconds"]["default"])
    packets = canary.get("packets", canary_defaults["packets"]["default"])
    p99 = canary.get("max_p99_ms", canary_defaults["max_p99_ms"]["default"])
    refused_p99 = alarms and packets % count and p99 <= timeout * 1000
    return "udp" in protocols and not refused_p99


valid_configs = from_schema(generation_schema()).filter(_distinct_peer_keys).filter(_observability_coherent)
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each example runs cfn-lint (~0.3 s): report the failing example as found rather than shrink for minutes.
LINT_SETTINGS = settings(SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])


def write_yaml(folder: Path, data: object) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@LINT_SETTINGS
@given(valid_configs)
def test_every_valid_config_renders_lint_clean_deterministic_json(data):
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(write_yaml(Path(folder), data))
    first = [t.to_json() for t in render_templates(config)]
    second = [t.to_json() for t in render_templates(config)]
    assert first == second
    regions = sorted({config.home_region, *config.regions})
    for text in first:
        findings = lint(text, config=ManualArgs(regions=regions))
        assert findings == [], [str(f) for f in findings]


def leaf_paths(value, path=()):
    """Every key path under which the config holds a scalar or a list of scalars."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif path and path != ("tags",):
        yield path


def mapping_paths(value, path=()):
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            if key != "tags":
                yield from mapping_paths(item, (*path, key))


def set_at(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@st.composite
def broken_configs(draw):
    """A valid config with one thing broken in one of the ways users break things."""
    data = copy.deepcopy(draw(valid_configs))
    kind = draw(
        st.sampled_from(
            [
                "wrong-type",
                "unknown-key",
                "range",
                "region",
                "duplicate",
                "cidr",
                "missing",
                "not-finite",
                "trailing-newline",
                "wg-without-peers",
                "same-network",
            ]
        )
    )
    if kind == "wrong-type":
        # Every leaf of the schema is a scalar or a list of scalars: a mapping is wrong anywhere.
        set_at(data, draw(st.sampled_from(sorted(leaf_paths(data)))), {"oops": 1})
    elif kind == "unknown-key":
        parent = draw(st.sampled_from(sorted(mapping_paths(data))))
        target = data
        for key in parent:
            target = target[key]
        target[draw(st.sampled_from(["regoins", "cnt", "extra", "Count"]))] = 1
    elif kind == "range":
        data.setdefault("destination", {}).setdefault("batching", {})["count"] = draw(st.sampled_from([0, -5, 1001]))
    elif kind == "region":
        data["regions"].append(draw(st.sampled_from(["us-west-9", "US-EAST-1", "moon-1", ""])))
    elif kind == "duplicate":
        data["regions"].append(data["regions"][0])
    elif kind == "cidr":
        data.setdefault("listener", {})["client_networks"] = [draw(st.sampled_from(["10.0.0.1/8", "1.2.3.4", "x/1"]))]
    elif kind == "not-finite":
        batching = data.setdefault("destination", {}).setdefault("batching", {})
        batching[draw(st.sampled_from(["timeout_in_seconds", "size_in_mb"]))] = draw(
            st.sampled_from([math.nan, math.inf, -math.inf])
        )
    elif kind == "trailing-newline":
        data["name_prefix"] = draw(st.sampled_from(["pc", "packet-counter"])) + "\n"
    elif kind == "wg-without-peers":
        listener = data.setdefault("listener", {})
        listener["protocols"] = ["wg"]
        listener.pop("wireguard", None)
    elif kind == "same-network":
        data.setdefault("listener", {})["client_networks"] = ["2001:db8::/32", "2001:DB8:0::/32"]
    else:
        del data["regions"]
    return data


# A key path as messages write it: `destination.batching.count`, `regions[2]`, `tags["a: b"]` (any other key
# is quoted as JSON, so a colon inside it cannot be taken for the end of the path).
_SEGMENT = r'(?:\[\d+\]|\["(?:[^"\\]|\\.)*"\])'
_BARE = r"[A-Za-z0-9_:/=+@-]+"  # generator/config/yaml_source.py's _BARE_KEY
KEY_PATH = rf"(?:{_BARE}|{_SEGMENT})(?:\.{_BARE}|{_SEGMENT})*"


@SETTINGS
@given(broken_configs())
def test_every_broken_config_gets_clear_lines_and_out_is_untouched(data):
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        assert main(["render", "--config", str(DEFAULT_CONFIG), "--out", str(out)]) == 0
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        config_path = write_yaml(Path(folder), data)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = main(["render", "--config", str(config_path), "--out", str(out)])
        assert status == 2
        lines = stderr.getvalue().splitlines()
        assert lines
        line_format = re.compile(rf"^{re.escape(str(config_path))}(:\d+)?: {KEY_PATH}: \S.*$")
        for line in lines:
            assert line_format.match(line), line
            assert "Traceback" not in line
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_generation_schema_still_describes_the_real_schema():
    """Guard for the narrowing above: only regions, home_region, list items and sizes may differ."""
    real, narrowed = load_schema(), generation_schema()
    assert set(real["properties"]) == set(narrowed["properties"])
    assert _whole_string_patterns(real["properties"]["destination"]) == narrowed["properties"]["destination"]
    assert json.dumps(real["properties"]["function"]) == json.dumps(narrowed["properties"]["function"])
    assert set(real["properties"]["listener"]["properties"]) == set(narrowed["properties"]["listener"]["properties"])
