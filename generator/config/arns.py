"""ARNs as AWS reads them: each part of an ARN the config takes is checked on its own, and each wrong part
is said in its own words ("account '12345' is not 12 digits").

The rules, from AWS's documentation:
- ARN format, arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (IAM User Guide, "Amazon Resource Names"):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
- IAM role ARNs, arn:PARTITION:iam::ACCOUNT:role/PATH/NAME, with no region since IAM is global; a role
  name is 1 to 64 of [A-Za-z0-9+=,.@_-], a path is `/` or `/a/b/` (it begins and ends with `/`, holds
  ASCII `!` through DEL, at most 512 characters) (IAM User Guide, "IAM identifiers"; IAM API Reference,
  CreateRole, RoleName and Path):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
- SNS topic ARNs, arn:PARTITION:sns:REGION:ACCOUNT:NAME; a topic name is 1 to 256 ASCII letters, digits,
  hyphens and underscores, and a FIFO topic's name ends in `.fifo` (SNS API Reference, CreateTopic, Name):
  https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
The partitions and the regions of each come from botocore's endpoint data (regions.py), never from a list
kept here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from generator.config.regions import known_regions, partition_of, partitions
from generator.errors import closest_match, shown

ACCOUNT = "[0-9]{12}"
ROLE_NAME_CHARACTERS = "A-Za-z0-9+=,.@_-"
ROLE_NAME_MAX = 64
ROLE_PATH_CHARACTERS = "\\x21-\\x7f"  # `!` through DEL, slashes included
ROLE_PATH_SEGMENT_CHARACTERS = "\\x21-\\x2e\\x30-\\x7f"  # the same but `/`, which separates segments
ROLE_PATH_MAX = 512
TOPIC_NAME_CHARACTERS = "A-Za-z0-9_-"
TOPIC_NAME_MAX = 256
FIFO_SUFFIX = ".fifo"


@dataclass(frozen=True)
class ArnKind:
    """What one kind of ARN the config takes looks like (the schema names it with `x-arn`)."""

    service: str
    regional: bool  # SNS names its region in the ARN; IAM is global and names none
    shape: str  # how the ARN is written, in words
    example: str
    resource_problems: Callable[[str], list[str]]
    resource_pattern: str  # the resource part of every valid ARN, as a regex


def _role_problems(resource: str) -> list[str]:
    if not resource.startswith("role/"):
        return [f"resource {shown(resource)} is not a role; expected role/NAME or role/PATH/NAME"]
    inner, slash, name = resource[len("role/") :].rpartition("/")
    problems = []
    if not name:
        problems.append("the role name is empty; expected role/NAME, e.g. role/MyStackSetAdministrationRole")
    elif len(name) > ROLE_NAME_MAX:
        problems.append(f"role name of {len(name):,} characters is too long; IAM allows 1 to {ROLE_NAME_MAX}")
    if name and (wrong := _outside(name, ROLE_NAME_CHARACTERS)):
        problems.append(f"role name {shown(name)} has {wrong}; IAM allows letters, digits and + = , . @ _ -")
    if slash:  # role/PATH/NAME: the path is /PATH/
        path = f"/{inner}/"
        if len(path) > ROLE_PATH_MAX:
            problems.append(f"role path of {len(path):,} characters is too long; IAM allows at most {ROLE_PATH_MAX}")
        if "" in inner.split("/"):
            problems.append(f"role path {shown(path)} has an empty segment (//); expected /SEGMENT/ or /A/B/")
        if wrong := _outside(inner, ROLE_PATH_CHARACTERS):
            problems.append(f"role path {shown(path)} has {wrong}; IAM allows ASCII letters, digits and punctuation")
    return problems


def _topic_problems(name: str) -> list[str]:
    problems = []
    if name.endswith(FIFO_SUFFIX):
        # CloudWatch alarm actions publish to standard topics; a FIFO topic takes only message-grouped publishes.
        problems.append(f"topic {shown(name)} is a FIFO topic; alarms notify a standard topic (a name without .fifo)")
        name = name[: -len(FIFO_SUFFIX)]
        if not name:
            return problems
    if not name:
        problems.append("the topic name is empty; expected letters, digits, hyphens or underscores, e.g. alerts")
    elif len(name) > TOPIC_NAME_MAX:
        problems.append(f"topic name of {len(name):,} characters is too long; SNS allows 1 to {TOPIC_NAME_MAX}")
    if wrong := _outside(name, TOPIC_NAME_CHARACTERS):
        problems.append(f"topic name {shown(name)} has {wrong}; SNS allows letters, digits, hyphens and underscores")
    return problems


# The lookahead bounds the path (`/` + everything up to the last slash) to ROLE_PATH_MAX characters.
_ROLE_RESOURCE = (
    f"role/(?=(?:[{ROLE_PATH_CHARACTERS}]{{0,{ROLE_PATH_MAX - 2}}}/)?[^/]*\\Z)"
    f"(?:[{ROLE_PATH_SEGMENT_CHARACTERS}]+/)*[{ROLE_NAME_CHARACTERS}]{{1,{ROLE_NAME_MAX}}}"
)

KINDS = {
    "iam-role": ArnKind(
        service="iam",
        regional=False,
        shape="arn:PARTITION:iam::ACCOUNT:role/NAME (or role/PATH/NAME)",
        example="arn:aws:iam::123456789012:role/AWSCloudFormationStackSetAdministrationRole",
        resource_problems=_role_problems,
        resource_pattern=_ROLE_RESOURCE,
    ),
    "sns-standard-topic": ArnKind(
        service="sns",
        regional=True,
        shape="arn:PARTITION:sns:REGION:ACCOUNT:TOPIC",
        example="arn:aws:sns:us-west-2:123456789012:alerts",
        resource_problems=_topic_problems,
        resource_pattern=f"[{TOPIC_NAME_CHARACTERS}]{{1,{TOPIC_NAME_MAX}}}",
    ),
}


def arn_problems(arn: str, kind_name: str, home_region: str | None) -> list[str]:
    """What is wrong with `arn` as an ARN of `kind_name` (a key of KINDS), one message per wrong part; none
    when it is right. `home_region` (when a known region) fixes the partition the ARN must be in."""
    kind = KINDS[kind_name]
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return [f"{shown(arn)} is not an ARN; expected {kind.shape}, e.g. {kind.example}"]
    _, partition, service, region, account, resource = parts
    problems = _partition_problems(partition, home_region)
    if service != kind.service:
        # The region and resource of another service's ARN follow that service's rules: not judged here.
        problems.append(f"service {shown(service)} is not {kind.service}; expected {kind.shape}, e.g. {kind.example}")
        if not re.fullmatch(ACCOUNT, account):
            problems.append(f"account {shown(account)} is not 12 digits")
        return problems
    if not kind.regional and region:
        problems.append(
            f"region {shown(region)} must be empty: {kind.service.upper()} is global, its ARNs name no region "
            f"({kind.shape})"
        )
    if kind.regional:
        problems += _region_problems(region, partition)
    if not re.fullmatch(ACCOUNT, account):
        problems.append(f"account {shown(account)} is not 12 digits")
    return problems + kind.resource_problems(resource)


def _partition_problems(partition: str, home_region: str | None) -> list[str]:
    known = partitions()
    if partition not in known:
        close = closest_match(partition, known)
        hint = f"did you mean {close}? " if close else ""
        return [f"partition {shown(partition)} is not an AWS partition; {hint}expected one of {', '.join(known)}"]
    home = partition_of(home_region) if home_region is not None else None
    if home is not None and partition != home:
        # A partition is a cloud of its own (accounts, roles and topics of one are not seen from another), and the
        # stacks live in home_region's partition.
        return [
            f"partition {partition} is not the partition of home_region {home_region} ({home}): a stack there "
            f"cannot use a resource of another partition; write arn:{home}:..."
        ]
    return []


def _region_problems(region: str, partition: str) -> list[str]:
    regions = partitions().get(partition)
    if regions is None:  # an unknown partition is reported already; its regions are not known
        return []
    if not region:
        example = f", e.g. {regions[0]}" if regions else ""
        return [f"the region is empty; expected a region of partition {partition}{example}"]
    if region in regions:
        return []
    elsewhere = partition_of(region)
    if elsewhere is not None:
        return [
            f"region {shown(region)} is a region of partition {elsewhere}, not of {partition} (the ARN's partition)"
        ]
    close = closest_match(region, regions)
    hint = f"did you mean {close}?" if close else f"expected one of {', '.join(regions)}"
    return [f"region {shown(region)} is not a region of partition {partition}; {hint}"]


@cache
def arn_pattern(kind_name: str) -> str:
    """A regex of exactly the ARNs of `kind_name` that arn_problems accepts with a home_region this tool deploys
    to: for tools that read the schema (a generator of example configs, an editor), never for the messages."""
    kind = KINDS[kind_name]
    usable = sorted({partition_of(region) for region in known_regions()} - {None})
    region = ""
    if kind.regional:
        region = "(?:" + "|".join(re.escape(r) for p in usable for r in partitions()[p]) + ")"
    names = "|".join(re.escape(p) for p in usable)
    return f"^arn:(?:{names}):{kind.service}:{region}:{ACCOUNT}:{kind.resource_pattern}$"


def _outside(text: str, allowed: str) -> str:
    """The characters of `text` outside the regex class `allowed`, as a message lists them ('' when none)."""
    wrong = sorted(set(re.findall(f"[^{allowed}]", text)))
    if not wrong:
        return ""
    listed = ", ".join(shown(char) for char in wrong[:5]) + (", ..." if len(wrong) > 5 else "")
    return f"{'a character' if len(wrong) == 1 else 'characters'} it cannot hold ({listed})"
