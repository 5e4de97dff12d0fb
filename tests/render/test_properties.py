"""Property tests: any config the schema allows renders lint-clean, deterministic JSON; any broken one
gets one clear line per problem and leaves out/ byte-for-byte untouched."""

from __future__ import annotations

import contextlib
import copy
import io
import ipaddress
import json
import math
import re
import tempfile
from pathlib import Path

from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from generator.cli import main
from generator.config import load_config
from generator.config.regions import known_regions
from generator.config.schema import load_schema
from generator.config.yaml_source import yaml_text
from generator.render import render_templates
from tests.support.checkout import DEFAULT_CONFIG
from tests.support.config_files import default_config_data, maximal
from tests.support.lint_tools import cfn_lint_text
from tests.support.properties import PROPERTY_TEST_BOUND
from tests.support.stacksets import ACCOUNTS

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


def _peers_share_no_address(data: dict) -> bool:
    """A schema cannot say "no two items overlap": two peers holding the same addresses is a semantic check."""
    peers = data.get("listener", {}).get("wireguard", {}).get("peers", [])
    networks = [[ipaddress.ip_network(text) for text in peer["allowed_ips"]] for peer in peers]
    return not any(
        a.version == b.version and a.overlaps(b)
        for first, mine in enumerate(networks)
        for theirs in networks[first + 1 :]
        for a in mine
        for b in theirs
    )


valid_configs = (
    from_schema(generation_schema())
    .filter(_distinct_peer_keys)
    .filter(_peers_share_no_address)
    .filter(_observability_coherent)
)
# How many examples: the profile's (tests/conftest.py: 10 in `make test`, 200 in `make test-all`) for the lint
# test, whose examples run cfn-lint (~0.4 s each), beside its explicit ones; three times as many for the cheaper
# broken-config test. Each lint example is reported as found rather than shrunk for minutes.
LINT_SETTINGS = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])
BROKEN_SETTINGS = settings(max_examples=3 * settings().max_examples)


def write_yaml(folder: Path, data: object) -> Path:
    """As a user writes it (PyYAML's emitter would write a generated NEL raw, which the reader refuses)."""
    path = folder / "config.yaml"
    path.write_text(yaml_text(data), encoding="utf-8")
    return path


def _maximal_config() -> dict:
    data = default_config_data()
    maximal(data)
    return data


def _stacksets_config() -> dict:
    data = default_config_data()
    data["regions"] = ["us-west-2", "eu-west-1", "ap-southeast-2"]
    data["stacksets"] = {"accounts": list(ACCOUNTS)}
    data["observability"] = {"alarms": True, "dashboard": True}
    return data


def _map_routing_with_every_region_config() -> dict:
    data = default_config_data()
    data["routing"] = "map"
    data["regions"] = sorted(known_regions())
    return data


# Every option set, stacksets (the canary off), map routing in every region: the corners a few random
# examples may miss, tried on every run.
@PROPERTY_TEST_BOUND
@LINT_SETTINGS
@example(_maximal_config())
@example(_stacksets_config())
@example(_map_routing_with_every_region_config())
@given(valid_configs)
def test_every_valid_config_renders_lint_clean_deterministic_json(data):
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(write_yaml(Path(folder), data))
    first = [t.to_json() for t in render_templates(config)]
    second = [t.to_json() for t in render_templates(config)]
    assert first == second
    regions = sorted({config.home_region, *config.regions})
    for text in first:
        assert cfn_lint_text(text, regions) == []


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


def _with(edit) -> dict:
    data = default_config_data()
    edit(data)
    return data


# A tag key with a colon, found by an earlier run (its key path is quoted: tags["a: b"]); and, on every run
# whatever the examples drawn, a mapping where a number goes, a region twice, NaN, a trailing newline.
@PROPERTY_TEST_BOUND
@BROKEN_SETTINGS
@example(_with(lambda data: data.update(tags={"a: b": {"oops": 1}})))
@example(_with(lambda data: data["destination"]["batching"].update(count={"oops": 1})))
@example(_with(lambda data: data["regions"].append(data["regions"][0])))
@example(_with(lambda data: data["destination"]["batching"].update(timeout_in_seconds=math.nan)))
@example(_with(lambda data: data.update(name_prefix="pc\n")))
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
