"""AWS regions and partitions, from botocore's bundled endpoint data (never a hand-kept list)."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.loaders import create_loader
from botocore.regions import EndpointResolver


@cache
def _endpoint_data() -> dict[str, Any]:
    # Read from the endpoint data botocore ships, without a Session: a Session reads AWS_PROFILE and
    # ~/.aws/config, and offline commands (validate, render) must work with a missing profile or a
    # broken config file.
    return create_loader().load_data("endpoints")


@cache
def known_regions() -> tuple[str, ...]:
    """Every region of the aws partition that CloudFormation serves, opt-in ones included."""
    resolver = EndpointResolver(_endpoint_data())
    return tuple(sorted(resolver.get_available_endpoints("cloudformation", "aws")))


@cache
def partitions() -> dict[str, tuple[str, ...]]:
    """{partition: its regions}: aws, aws-cn, aws-us-gov, the isolated ones... as botocore knows them."""
    return {entry["partition"]: tuple(sorted(entry["regions"])) for entry in _endpoint_data()["partitions"]}


def partition_of(region: str) -> str | None:
    """The partition whose regions include `region` (aws for us-west-2, aws-cn for cn-north-1), or None."""
    return next((name for name, regions in partitions().items() if region in regions), None)
