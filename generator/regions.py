"""AWS region names, from botocore's bundled endpoint data (never a hand-kept list)."""

from __future__ import annotations

from functools import cache

import boto3


@cache
def known_regions() -> tuple[str, ...]:
    """Every region of the aws partition that CloudFormation serves, opt-in ones included."""
    return tuple(sorted(boto3.session.Session().get_available_regions("cloudformation")))
