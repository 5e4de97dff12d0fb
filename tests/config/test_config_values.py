"""What the schema accepts must deploy and run: values a template cannot carry, or that YAML reads
otherwise than the user sees, are refused in one line naming file, line and key; whole numbers
written as floats become integers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator.config import load_config
from generator.config.yaml_source import load_yaml_document
from generator.render import render_templates
from tests.support.cli import run_cli, run_cli_in_process, snapshot
from tests.support.config_files import text_problems as problems_of

SEED_HEAD = "regions: [us-west-2, us-east-1]\n"


def render_text(tmp_path: Path, text: str) -> list[dict]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return [template.document for template in render_templates(load_config(path))]


@pytest.mark.parametrize(
    ("key", "written", "expected"),
    [
        ("timeout_in_seconds", ".nan", ".nan is not a number; expected a finite number"),
        ("timeout_in_seconds", ".inf", ".inf is infinity; expected a finite number"),
        ("timeout_in_seconds", "-.inf", "-.inf is minus infinity; expected a finite number"),
        ("size_in_mb", "1e309", "1e309 is too large to be a number (it reads as infinity); expected a finite number"),
        ("size_in_mb", "1.0e+309", "1.0e+309 is too large to be a number (it reads as infinity)"),
        ("count", ".NaN", ".NaN is not a number"),
    ],
)
def test_non_finite_numbers_are_refused(tmp_path, key, written, expected):
    problems = problems_of(tmp_path, f"{SEED_HEAD}destination:\n  batching:\n    {key}: {written}\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"cfg.yaml:4: destination.batching.{key}: {expected}")


def test_non_finite_numbers_are_refused_anywhere_not_only_in_number_fields(tmp_path):
    problems = problems_of(tmp_path, f"{SEED_HEAD}tags: {{team: .nan}}\nfunction: {{memory_mb: .inf}}\n")
    assert problems == [
        "cfg.yaml:2: tags.team: .nan is not a number; expected a finite number",
        "cfg.yaml:3: function.memory_mb: .inf is infinity; expected a finite number",
    ]


def test_a_local_gateway_is_never_started_with_a_non_finite_batching(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"{SEED_HEAD}destination:\n  batching: {{timeout_in_seconds: .nan}}\n")
    result = run_cli_in_process("demo", "--config", config, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert (
        result.stderr
        == f"{config}:3: destination.batching.timeout_in_seconds: .nan is not a number; expected a finite number\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("yaml_text", "key_path"),
    [
        ('name_prefix: "pc\\n"\n', "name_prefix"),
        ('destination: {name: "counter\\n"}\n', "destination.name"),
        ('tags: {"team\\n": x}\n', 'tags["team\\n"]'),
        ('tags: {team: "net\\n"}\n', "tags.team"),
        ('listener: {client_domains: ["client.example.com\\n"]}\n', "listener.client_domains[0]"),
        (
            'listener: {protocols: [wg], wireguard: {peers: [{public_key: "'
            + "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\\n"
            + '", allowed_ips: [10.0.0.2/32]}]}}\n',
            "listener.wireguard.peers[0].public_key",
        ),
    ],
    ids=["name_prefix", "destination-name", "tag-key", "tag-value", "client-domain", "wireguard-key"],
)
def test_a_pattern_must_match_the_whole_string_so_a_trailing_newline_is_refused(tmp_path, yaml_text, key_path):
    problems = problems_of(tmp_path, SEED_HEAD + yaml_text)
    assert len(problems) == 1
    assert problems[0].startswith(f"cfg.yaml:2: {key_path}: expected ")
    assert "\n" not in problems[0]


def test_whole_numbers_written_as_floats_render_as_integers(tmp_path):
    global_template, regional = render_text(
        tmp_path,
        SEED_HEAD + "destination: {batching: {count: 10.0}}\n"
        "function: {memory_mb: 256.0, timeout_seconds: 1e1, reserved_concurrency: 5.0, log_retention_days: 14.0}\n",
    )
    batching = global_template["Resources"]["UdpListener"]["Properties"]["Destinations"][0]["Batching"]
    function = regional["Resources"]["PacketCounterFunction"]["Properties"]
    retention = regional["Resources"]["FunctionLogGroup"]["Properties"]["RetentionInDays"]
    rendered = [
        batching["Count"],
        function["MemorySize"],
        function["Timeout"],
        function["ReservedConcurrentExecutions"],
    ]
    assert rendered == [10, 256, 10, 5]
    assert all(type(value) is int for value in [*rendered, retention])
    assert '"Count": 10,' in json.dumps(batching, indent=1) + ","  # 10, not 10.0, in the template text


def test_a_fraction_where_an_integer_is_expected_is_refused(tmp_path):
    assert problems_of(tmp_path, SEED_HEAD + "destination: {batching: {count: 10.5}}\n") == [
        "cfg.yaml:2: destination.batching.count: expected an integer; got 10.5"
    ]


def test_yaml_1_2_exponent_numbers_are_numbers(tmp_path):
    global_template, _ = render_text(tmp_path, SEED_HEAD + "destination: {batching: {timeout_in_seconds: 5e-1}}\n")
    batching = global_template["Resources"]["UdpListener"]["Properties"]["Destinations"][0]["Batching"]
    assert batching["TimeoutInSeconds"] == 0.5


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1:30", "1:30 is read by YAML 1.1 as the base-60 number 90; write the number you mean (e.g. 90)"),
        ("010", "010 is read by YAML 1.1 as the octal number 8; write it without the leading zero"),
        ("0128", "expected an integer; got '0128' (a leading zero makes YAML read it as text"),
    ],
)
def test_numbers_yaml_1_1_reads_otherwise_than_written_are_refused_saying_so(tmp_path, written, expected):
    problems = problems_of(tmp_path, SEED_HEAD + f"function:\n  timeout_seconds: {written}\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"cfg.yaml:3: function.timeout_seconds: {expected}")


def test_a_yaml_1_1_boolean_where_text_is_expected_says_how_it_was_read(tmp_path):
    assert problems_of(tmp_path, SEED_HEAD + "tags: {enabled: on}\n") == [
        "cfg.yaml:2: tags.enabled: expected a string; got true (YAML reads `on` as true; quote it to mean text)"
    ]


def test_a_date_is_text_as_written_as_yaml_1_2_reads_it(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(SEED_HEAD + "tags: {Created: 2001-12-14, At: 2001-12-14t21:59:43.10-05:00}\n", encoding="utf-8")
    assert dict(load_config(path).tags) == {"Created": "2001-12-14", "At": "2001-12-14t21:59:43.10-05:00"}


def test_a_value_of_a_type_no_setting_holds_is_one_line(tmp_path):
    problems = problems_of(tmp_path, SEED_HEAD + "tags: {Blob: !!binary aGk=}\nname_prefix: !!timestamp 2001-12-14\n")
    assert (
        problems[0]
        == "cfg.yaml:2: tags.Blob: cannot be read: the YAML tag 'tag:yaml.org,2002:binary' is not supported here"
    )
    assert problems[1].startswith("cfg.yaml:3: name_prefix: ")  # the text 2001-12-14, checked as any name is
    assert len(problems) == 2


def test_an_unpaired_surrogate_is_refused_in_a_value_and_in_a_key(tmp_path):
    problems = problems_of(tmp_path, SEED_HEAD + 'destination: {description: "a \\ud800 b"}\ntags: {"\\udc00": x}\n')
    assert problems == [
        "cfg.yaml:2: destination.description: contains an unpaired surrogate (\\ud800), which is not a character;"
        " remove it",
        "cfg.yaml:3: tags: a key contains an unpaired surrogate, which is not a character",
    ]


def test_an_integer_of_thousands_of_digits_is_one_line(tmp_path):
    problems = problems_of(tmp_path, SEED_HEAD + "destination: {batching: {count: " + "9" * 5000 + "}}\n")
    assert problems == ["cfg.yaml:2: destination.batching.count: a number of 5,000 digits is far too large"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda path: os.mkfifo(path), "is a FIFO (named pipe), not a regular file; expected a YAML file"),
        (
            lambda path: (os.symlink(path.with_suffix(".b"), path), os.symlink(path, path.with_suffix(".b"))),
            "cannot be read: ",
        ),
    ],
    ids=["fifo", "symlink-loop"],
)
def test_a_config_that_is_not_a_readable_file_is_one_line_and_never_hangs(tmp_path, make, expected):
    config = tmp_path / "config.yaml"
    make(config)
    result = run_cli("render", "--config", config, "--out", tmp_path / "out", timeout=30)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config}: {expected}")
    assert not (tmp_path / "out").exists()


def test_many_long_tags_over_the_size_limit_are_blamed_on_the_tags(tmp_path, write_config):
    tags = {f"key-{index:02d}-" + "k" * 100: "v" * 250 for index in range(40)}
    config = write_config(lambda c: c.update(tags=tags))
    result = run_cli_in_process("render", "--config", config, "--out", tmp_path / "out")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "renders regional.template.json at " in line and "CloudFormation accepts at most 51,200" in line
    assert line.endswith("(shorten or remove some)")
    largest = line.split("the largest settings: ", 1)[1]
    assert largest.startswith("tags ")
    assert "regions" not in largest and "description" not in largest


@pytest.mark.parametrize(
    "yaml_text",
    [
        "destination: {description: VALUE}\n",
        "name_prefix: VALUE\n",
        "home_region: VALUE\n",
        "tags:\n  ? VALUE\n  : x\n",
        "listener: {client_domains: [VALUE]}\n",
        "listener: {client_networks: [VALUE]}\n",
        "routing: VALUE\n",
    ],
    ids=["description", "name-prefix", "region", "tag-key", "domain", "network", "enum"],
)
def test_a_900_kb_value_is_not_echoed_whole(tmp_path, yaml_text):
    huge = "x" * 900_000
    config = tmp_path / "config.yaml"
    config.write_text(SEED_HEAD + yaml_text.replace("VALUE", huge))
    result = run_cli_in_process("validate", "--config", config)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines
    for line in lines:
        assert "x" * 200 not in line, line[:400]  # cut, with its size said instead
        assert "(900,000 characters)" in line
        assert line.startswith(f"{config}:")


@pytest.mark.parametrize(
    ("listener_yaml", "expected"),
    [
        (
            "client_networks: ['fe80::%eth0/64']",
            "listener.client_networks[0]: 'fe80::%eth0/64' names a network interface zone, which means nothing off"
            " one host; write fe80::/64",
        ),
        (
            "client_networks: ['2001:db8::/32', '2001:DB8:0::/32']",
            "listener.client_networks[1]: 2001:DB8:0::/32 is the network 2001:db8::/32 again"
            " (first at listener.client_networks[0], line 3)",
        ),
        (
            "client_networks: [10.0.0.0/8, 10.0.0.0/8]",
            "listener.client_networks: lists '10.0.0.0/8' twice (items 0 and 1)",
        ),
        (
            "client_domains: ['not a domain!!']",
            "listener.client_domains[0]: expected a domain name such as client.example.com",
        ),
        (
            "client_domains: [Client.Example.com, client.example.COM]",
            "listener.client_domains[1]: 'client.example.COM' is the same domain (domain names ignore case) as"
            " listener.client_domains[0], line 3",
        ),
    ],
    ids=["ipv6-zone", "same-network-two-spellings", "same-network-twice", "not-a-domain", "same-domain-two-cases"],
)
def test_networks_and_domains_that_would_be_accepted_but_wrong(tmp_path, listener_yaml, expected):
    problems = problems_of(tmp_path, f"{SEED_HEAD}listener:\n  {listener_yaml}\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"cfg.yaml:3: {expected}")


@pytest.mark.parametrize(
    ("tags_yaml", "expected"),
    [
        (
            "{' team': x}",
            'tags[" team"]: expected a tag key of 1 to 128 letters, digits, spaces or _ . : / = + - @,'
            " not starting or ending with a space; got ' team'",
        ),
        ("{' aws:owner': x}", 'tags[" aws:owner"]: expected a tag key'),
        ("{'AWS:owner': x}", "tags.AWS:owner: tag keys starting with 'aws:' are reserved by AWS"),
        ("{team: 'net '}", "tags.team: expected a tag value of up to 256 letters"),
    ],
    ids=["leading-space", "space-before-aws-prefix", "aws-prefix-any-case", "trailing-space-value"],
)
def test_tag_keys_and_values_aws_would_keep_but_users_would_not_mean(tmp_path, tags_yaml, expected):
    problems = problems_of(tmp_path, f"{SEED_HEAD}tags: {tags_yaml}\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"cfg.yaml:2: {expected}")


@pytest.mark.parametrize(
    ("batching_yaml", "expected"),
    [
        ("size_in_mb: 1e-9", "destination.batching.size_in_mb: 1e-09 is less than the minimum of 0.1"),
        (
            "timeout_in_seconds: 0.000001",
            "destination.batching.timeout_in_seconds: 1e-06 is less than the minimum of 0.01",
        ),
    ],
)
def test_batching_too_small_to_mean_anything_is_refused(tmp_path, batching_yaml, expected):
    assert problems_of(tmp_path, f"{SEED_HEAD}destination:\n  batching: {{{batching_yaml}}}\n") == [
        f"cfg.yaml:3: {expected}"
    ]


def test_a_refused_config_leaves_out_untouched(tmp_path, write_config):
    out = tmp_path / "out"
    assert run_cli_in_process("render", "--config", write_config(name="good.yaml"), "--out", out).returncode == 0
    before = snapshot(out)
    bad = tmp_path / "bad.yaml"
    bad.write_text(SEED_HEAD + 'name_prefix: "pc\\n"\ndestination: {batching: {timeout_in_seconds: .nan}}\n')
    result = run_cli_in_process("render", "--config", bad, "--out", out)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 2
    assert snapshot(out) == before


def test_the_yaml_source_knows_where_each_value_is_written(tmp_path):
    text = "regions: [us-west-2]   # one\ndestination:\n  batching: {count: 10, timeout_in_seconds: 0.5}\n"
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    document = load_yaml_document(path, "cfg.yaml")
    written = {key: text[span.start : span.end] for key, span in document.spans.items()}
    assert written[("regions", 0)] == "us-west-2"
    assert written[("destination", "batching", "count")] == "10"
    assert written[("destination", "batching", "timeout_in_seconds")] == "0.5"
    assert document.spans[("destination", "batching")].flow
    assert not document.spans[("destination",)].flow and document.spans[("destination",)].column == 2
    assert document.text == text


# Proxylity's destination names: letters, digits and hyphens, no underscore (its docs: [a-zA-Z0-9-]+).
@pytest.mark.parametrize("name", ["my_counter", "counter.eu", "counter one", "x" * 65, ""])
def test_a_destination_name_proxylity_would_refuse_is_refused_in_one_line(tmp_path, name):
    problems = problems_of(tmp_path, f'{SEED_HEAD}destination: {{name: "{name}"}}\n')
    assert problems == [
        f"cfg.yaml:2: destination.name: expected 1 to 64 letters, digits or hyphens (Proxylity's destination "
        f"names have no underscore); got {name!r}"
    ]


@pytest.mark.parametrize("name", ["-edge-1", "Counter-EU-2", "9", "x" * 64])
def test_a_destination_name_of_proxylitys_pattern_reaches_the_destination(tmp_path, name):
    global_template, _ = render_text(tmp_path, f'{SEED_HEAD}destination: {{name: "{name}"}}\n')
    assert global_template["Resources"]["UdpListener"]["Properties"]["Destinations"][0]["Name"] == name
