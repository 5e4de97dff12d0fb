"""AWS region names, from botocore's bundled endpoint data (never a hand-kept list)."""

from __future__ import annotations

from functools import cache

from botocore.loaders import create_loader
from botocore.regions import EndpointResolver


@cache
def known_regions() -> tuple[str, ...]:
    """Every region of the aws partition that CloudFormation serves, opt-in ones included.

    Read from the endpoint data botocore ships, without a Session: a Session reads AWS_PROFILE and
    ~/.aws/config, and offline commands (validate, render) must work with a missing profile or a
    broken config file.
    """
    resolver = EndpointResolver(create_loader().load_data("endpoints"))
    return tuple(sorted(resolver.get_available_endpoints("cloudformation", "aws")))
