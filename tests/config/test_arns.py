"""ARNs are checked as AWS reads them: a known partition (home_region's), the service, for SNS a region of
that partition, a 12-digit account, a role or topic name within IAM's or SNS's rules; each wrong part is a
line of its own saying what was expected."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.config import load_config
from generator.config.arns import arn_pattern, arn_problems
from generator.config.regions import partition_of, partitions
from generator.config.schema import load_schema
from generator.config.yaml_source import yaml_text
from generator.errors import ConfigError
from tests.support.cli import run_cli
from tests.support.config_files import text_problems as problems_of

WIDE_DIGITS = "".join(chr(0xFF10 + int(digit)) for digit in "123456789012")  # digits, but not ASCII ones
TOPIC_KEY = "observability.alarms_topic_arn"
ROLE_KEY = "stacksets.administration_role_arn"


def config_text(topic: str | None = None, role: str | None = None, home_region: str = "us-west-2") -> str:
    text = f"regions: [us-west-2]\nhome_region: {home_region}\n"
    if topic is not None:
        text += f"observability:\n  alarms: true\n  alarms_topic_arn: {json.dumps(topic)}\n"  # line 5
    if role is not None:
        text += f"stacksets:\n  accounts: ['111111111111']\n  administration_role_arn: {json.dumps(role)}\n"
    return text


def topic_problems(tmp_path: Path, topic: str) -> list[str]:
    """The messages about the topic ARN (each checked to be on its line, under its key path)."""
    problems = problems_of(tmp_path, config_text(topic=topic))
    assert all(problem.startswith(f"cfg.yaml:5: {TOPIC_KEY}: ") for problem in problems), problems
    return [problem.removeprefix(f"cfg.yaml:5: {TOPIC_KEY}: ") for problem in problems]


def role_problems(tmp_path: Path, role: str) -> list[str]:
    problems = problems_of(tmp_path, config_text(role=role))
    assert all(problem.startswith(f"cfg.yaml:5: {ROLE_KEY}: ") for problem in problems), problems
    return [problem.removeprefix(f"cfg.yaml:5: {ROLE_KEY}: ") for problem in problems]


@pytest.mark.parametrize(
    ("topic", "role"),
    [
        ("arn:aws:sns:us-west-2:123456789012:alerts", "arn:aws:iam::123456789012:role/Admin"),
        (
            "arn:aws:sns:ap-southeast-2:000000000000:A-b_9",
            "arn:aws:iam::123456789012:role/service-role/team/Adm+=,.@_-",
        ),
        ("arn:aws:sns:eu-west-1:123456789012:" + "t" * 256, "arn:aws:iam::123456789012:role/" + "r" * 64),
        ("arn:aws:sns:us-east-1:123456789012:x", "arn:aws:iam::123456789012:role/" + "p" * 510 + "/name"),
        ("arn:aws:sns:us-east-1:123456789012:x", "arn:aws:iam::123456789012:role/!#$%&'()*+-.:;<=>?[]^`{|}~/n"),
    ],
    ids=["plain", "path", "longest-names", "longest-path", "path-punctuation"],
)
def test_arns_aws_takes_are_taken(tmp_path, topic, role):
    path = tmp_path / "config.yaml"
    path.write_text(config_text(topic=topic), encoding="utf-8")
    assert load_config(path).observability.alarms_topic_arn == topic
    path.write_text(config_text(role=role), encoding="utf-8")
    assert load_config(path).stacksets.administration_role_arn == role


@pytest.mark.parametrize("partition", sorted(partitions()))
def test_an_arn_of_each_partition_other_than_home_regions_is_refused_saying_why(tmp_path, partition):
    region = partitions()[partition][0]
    topic = f"arn:{partition}:sns:{region}:123456789012:alerts"
    role = f"arn:{partition}:iam::123456789012:role/Admin"
    why = (
        f"partition {partition} is not the partition of home_region us-west-2 (aws): a stack there cannot use a "
        "resource of another partition; write arn:aws:..."
    )
    if partition == "aws":
        assert not any(problem.startswith("cfg.yaml:5") for problem in _all_problems(tmp_path, topic, role))
    else:
        assert topic_problems(tmp_path, topic) == [why]
        assert role_problems(tmp_path, role) == [why]


def _all_problems(tmp_path: Path, topic: str, role: str) -> list[str]:
    path = tmp_path / "config.yaml"
    problems = []
    for text in (config_text(topic=topic), config_text(role=role)):
        path.write_text(text, encoding="utf-8")
        try:
            load_config(path, source="cfg.yaml")
        except ConfigError as error:
            problems += [str(problem) for problem in error.problems]
    return problems


@pytest.mark.parametrize("partition", sorted(partitions()))
def test_the_partition_is_home_regions_whatever_partition_that_is(partition):
    """The rule holds for a home_region in any partition (this tool deploys to aws regions today)."""
    home_region = partitions()[partition][0]
    assert partition_of(home_region) == partition
    assert (
        arn_problems(f"arn:{partition}:sns:{home_region}:123456789012:alerts", "sns-standard-topic", home_region) == []
    )
    assert arn_problems(f"arn:{partition}:iam::123456789012:role/Admin", "iam-role", home_region) == []
    for other in set(partitions()) - {partition}:
        [problem] = arn_problems(f"arn:{other}:iam::123456789012:role/Admin", "iam-role", home_region)
        assert problem.startswith(f"partition {other} is not the partition of home_region {home_region} ({partition})")


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        (
            "alerts",
            [
                "'alerts' is not an ARN; expected arn:PARTITION:sns:REGION:ACCOUNT:TOPIC, e.g. "
                "arn:aws:sns:us-west-2:123456789012:alerts"
            ],
        ),
        (
            "arn:aws:sns:us-west-2:123456789012",
            [
                "'arn:aws:sns:us-west-2:123456789012' is not an ARN; expected "
                "arn:PARTITION:sns:REGION:ACCOUNT:TOPIC, e.g. "
                "arn:aws:sns:us-west-2:123456789012:alerts"
            ],
        ),
        ("arn:aws:sns:us-west-2:12345:alerts", ["account '12345' is not 12 digits"]),
        ("arn:aws:sns:us-west-2:1234567890123:alerts", ["account '1234567890123' is not 12 digits"]),
        (
            f"arn:aws:sns:us-west-2:{WIDE_DIGITS}:alerts",
            [f"account '{WIDE_DIGITS}' is not 12 digits"],
        ),
        (
            "arn:awz:sns:us-west-2:123456789012:alerts",
            ["partition 'awz' is not an AWS partition; did you mean aws? expected one of " + ", ".join(partitions())],
        ),
        (
            "arn:aws:sns:us-west-9:123456789012:alerts",
            ["region 'us-west-9' is not a region of partition aws; did you mean us-west-2?"],
        ),
        (
            "arn:aws:sns:cn-north-1:123456789012:alerts",
            ["region 'cn-north-1' is a region of partition aws-cn, not of aws (the ARN's partition)"],
        ),
        (
            "arn:aws:sns::123456789012:alerts",
            [f"the region is empty; expected a region of partition aws, e.g. {partitions()['aws'][0]}"],
        ),
        (
            "arn:aws:sqs:us-west-2:123456789012:alerts",
            [
                "service 'sqs' is not sns; expected arn:PARTITION:sns:REGION:ACCOUNT:TOPIC, e.g. "
                "arn:aws:sns:us-west-2:123456789012:alerts"
            ],
        ),
        (
            "arn:aws:sns:us-west-2:123456789012:alerts.fifo",
            ["topic 'alerts.fifo' is a FIFO topic; alarms notify a standard topic (a name without .fifo)"],
        ),
        (
            "arn:aws:sns:us-west-2:123456789012:al.erts",
            [
                "topic name 'al.erts' has a character it cannot hold ('.'); SNS allows letters, digits, hyphens and "
                "underscores"
            ],
        ),
        (
            "arn:aws:sns:us-west-2:123456789012:alerts:extra",
            [
                "topic name 'alerts:extra' has a character it cannot hold (':'); SNS allows letters, digits, hyphens "
                "and underscores"
            ],
        ),
        (
            "arn:aws:sns:us-west-2:123456789012:",
            ["the topic name is empty; expected letters, digits, hyphens or underscores, e.g. alerts"],
        ),
        (
            "arn:aws:sns:us-west-2:123456789012:" + "t" * 257,
            ["topic name of 257 characters is too long; SNS allows 1 to 256"],
        ),
        (
            "arn:aws-cn:sns:us-west-9:12345:bad name",
            [
                "partition aws-cn is not the partition of home_region us-west-2 (aws): a stack there cannot use a "
                "resource of another partition; write arn:aws:...",
                "region 'us-west-9' is not a region of partition aws-cn; expected one of cn-north-1, cn-northwest-1",
                "account '12345' is not 12 digits",
                "topic name 'bad name' has a character it cannot hold (' '); SNS allows letters, digits, hyphens and "
                "underscores",
            ],
        ),
    ],
    ids=[
        "name-only",
        "five-parts",
        "short-account",
        "long-account",
        "wide-digits",
        "unknown-partition",
        "unknown-region",
        "region-of-another-partition",
        "no-region",
        "wrong-service",
        "fifo",
        "dot",
        "colon",
        "no-name",
        "long-name",
        "every-part-wrong",
    ],
)
def test_each_wrong_part_of_a_topic_arn_is_its_own_line(tmp_path, topic, expected):
    assert topic_problems(tmp_path, topic) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "AdminRole",
            [
                "'AdminRole' is not an ARN; expected arn:PARTITION:iam::ACCOUNT:role/NAME (or "
                "role/PATH/NAME), e.g. arn:aws:iam::123456789012:role/AWSCloudFormationStackSetAdministrationRole"
            ],
        ),
        (
            "arn:aws:iam:us-east-1:123456789012:role/Admin",
            [
                "region 'us-east-1' must be empty: IAM is global, its ARNs name no region "
                "(arn:PARTITION:iam::ACCOUNT:role/NAME (or role/PATH/NAME))"
            ],
        ),
        ("arn:aws:iam::12345678901:role/Admin", ["account '12345678901' is not 12 digits"]),
        (
            "arn:aws:sts::123456789012:assumed-role/Admin/me",
            [
                "service 'sts' is not iam; expected arn:PARTITION:iam::ACCOUNT:role/NAME (or role/PATH/NAME), e.g. "
                "arn:aws:iam::123456789012:role/AWSCloudFormationStackSetAdministrationRole"
            ],
        ),
        (
            "arn:aws:iam::123456789012:user/bob",
            ["resource 'user/bob' is not a role; expected role/NAME or role/PATH/NAME"],
        ),
        (
            "arn:aws:iam::123456789012:role/",
            ["the role name is empty; expected role/NAME, e.g. role/MyStackSetAdministrationRole"],
        ),
        (
            "arn:aws:iam::123456789012:role/team/",
            ["the role name is empty; expected role/NAME, e.g. role/MyStackSetAdministrationRole"],
        ),
        ("arn:aws:iam::123456789012:role/" + "r" * 65, ["role name of 65 characters is too long; IAM allows 1 to 64"]),
        (
            "arn:aws:iam::123456789012:role/Admin Role",
            [
                "role name 'Admin Role' has a character it cannot hold (' '); IAM allows letters, digits and "
                "+ = , . @ _ -"
            ],
        ),
        (
            "arn:aws:iam::123456789012:role/a*b!",
            ["role name 'a*b!' has characters it cannot hold ('!', '*'); IAM allows letters, digits and + = , . @ _ -"],
        ),
        (
            "arn:aws:iam::123456789012:role//Admin",
            ["role path '//' has an empty segment (//); expected /SEGMENT/ or /A/B/"],
        ),
        (
            "arn:aws:iam::123456789012:role/a//b/Admin",
            ["role path '/a//b/' has an empty segment (//); expected /SEGMENT/ or /A/B/"],
        ),
        (
            "arn:aws:iam::123456789012:role/my team/Admin",
            [
                "role path '/my team/' has a character it cannot hold (' '); IAM allows ASCII letters, digits and "
                "punctuation"
            ],
        ),
        (
            "arn:aws:iam::123456789012:role/" + "p" * 511 + "/Admin",
            ["role path of 513 characters is too long; IAM allows at most 512"],
        ),
    ],
    ids=[
        "name-only",
        "region",
        "short-account",
        "sts-session",
        "user",
        "no-name",
        "path-without-name",
        "long-name",
        "space-in-name",
        "symbols-in-name",
        "empty-path-segment",
        "empty-inner-segment",
        "space-in-path",
        "long-path",
    ],
)
def test_each_wrong_part_of_a_role_arn_is_its_own_line(tmp_path, role, expected):
    assert role_problems(tmp_path, role) == expected


def test_a_trailing_newline_in_an_arn_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        config_text() + 'observability: {alarms: true, alarms_topic_arn: "arn:aws:sns:us-west-2:123456789012:a\\n"}\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, source="cfg.yaml")
    [problem] = caught.value.problems
    assert problem.key_path == TOPIC_KEY
    assert problem.message.startswith("topic name 'a\\n' has a character it cannot hold ('\\n')")


def test_a_wrong_arn_through_the_command_line_exits_2_and_writes_nothing(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(config_text(topic="arn:aws-cn:sns:cn-north-1:123456789012:alerts"), encoding="utf-8")
    out = tmp_path / "out"

    result = run_cli("render", "--config", path, "--out", out)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        f"{path}:5: {TOPIC_KEY}: partition aws-cn is not the partition of home_region us-west-2 (aws): a stack there "
        "cannot use a resource of another partition; write arn:aws:...\n"
    )
    assert not out.exists()


def test_every_arn_the_schema_takes_is_checked(tmp_path):
    """Each property marked as an ARN in the schema is checked part by part: a new one needs no new check."""

    def arn_paths(schema, path=()):
        for name, subschema in schema.get("properties", {}).items():
            if "x-arn" in subschema:
                yield (*path, name)
            yield from arn_paths(subschema, (*path, name))

    paths = list(arn_paths(load_schema()))
    assert {".".join(path) for path in paths} >= {TOPIC_KEY, ROLE_KEY}
    for path in paths:
        data: dict = {"regions": ["us-west-2"]}
        target = data
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = "arn:aws:iam::12345:role/x"
        config = tmp_path / "config.yaml"
        config.write_text(yaml_text(data), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(config)
        assert any(
            problem.key_path == ".".join(path) and problem.message == "account '12345' is not 12 digits"
            for problem in caught.value.problems
        ), [str(problem) for problem in caught.value.problems]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_schemas_arn_pattern_admits_only_arns_the_check_takes(data):
    """The pattern the schema carries for tools that generate configs from it (its messages are the check's)."""
    kind = data.draw(st.sampled_from(["iam-role", "sns-standard-topic"]))
    arn = data.draw(st.from_regex(arn_pattern(kind).removesuffix("$") + "\\Z"))
    assert arn_problems(arn, kind, "us-west-2") == []


@pytest.mark.parametrize(
    ("kind", "arn"),
    [
        ("iam-role", "arn:aws:iam::123456789012:role/" + "p" * 511 + "/Admin"),
        ("iam-role", "arn:aws:iam::123456789012:role//Admin"),
        ("iam-role", "arn:aws-cn:iam::123456789012:role/Admin"),
        ("sns-standard-topic", "arn:aws:sns:us-west-2:123456789012:alerts.fifo"),
        ("sns-standard-topic", "arn:aws:sns:cn-north-1:123456789012:alerts"),
    ],
)
def test_the_schemas_arn_pattern_refuses_what_the_check_refuses(kind, arn):
    assert arn_problems(arn, kind, "us-west-2")
    assert not re.fullmatch(arn_pattern(kind).removeprefix("^").removesuffix("$"), arn)
