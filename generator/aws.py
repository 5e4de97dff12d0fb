"""boto3 clients for the deploy commands: one per region, made explicitly, retrying throttles.

Credentials, profile and endpoint follow the AWS conventions because nothing here overrides them:
AWS_PROFILE, the default credential chain, AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_CLOUDFORMATION).
The region is never left to the environment: every client names the region it talks to, so one
stack's outputs are never read from another region.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config as BotoConfig

from generator.errors import AwsError, Problem

# botocore's default retry mode is still "legacy"; "standard" backs off on throttling, which
# parallel deploys to many regions do hit.
CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 10}, connect_timeout=10, read_timeout=60)
# The orphan scan asks every region once, read-only: a blocked or unreachable endpoint must fail fast
# (and be reported as unreachable) instead of stalling `status` through ten long retries.
SCAN_CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=20)


class AwsClients:
    """CloudFormation clients per region, made under a lock: Sessions are not thread-safe, clients are."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, bool], Any] = {}

    def cloudformation(self, region: str, scan: bool = False) -> Any:
        """The client for `region`; `scan` for the orphan scan's few, quick attempts (SCAN_CLIENT_CONFIG)."""
        with self._lock:
            key = (region, scan)
            if key not in self._clients:
                if self._session is None:
                    self._session = boto3.session.Session()
                config = SCAN_CLIENT_CONFIG if scan else CLIENT_CONFIG
                self._clients[key] = self._session.client("cloudformation", region_name=region, config=config)
            return self._clients[key]

    def prepare(self, regions: list[str] | tuple[str, ...], scan: bool = False) -> None:
        """Make the clients before any thread starts, so workers only ever read the cache."""
        for region in regions:
            self.cloudformation(region, scan)


@contextlib.contextmanager
def aws_errors(source: str) -> Iterator[None]:
    """Credentials, profile, endpoint and any other AWS error as one clear line instead of a traceback."""
    try:
        yield
    except botocore.exceptions.ProfileNotFound as error:
        raise AwsError([Problem(source, f"{error} (check AWS_PROFILE)")]) from None
    except botocore.exceptions.NoCredentialsError:
        raise AwsError(
            [Problem(source, "no AWS credentials found (set AWS_PROFILE, or run `aws configure` / `aws sso login`)")]
        ) from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise AwsError([Problem(source, f"cannot reach AWS: {error} (check AWS_ENDPOINT_URL)")]) from None
    except botocore.exceptions.ClientError as error:  # ExpiredToken, AccessDenied, ...: AWS's own message
        raise AwsError([Problem(source, " ".join(str(error).split()))]) from None
    except botocore.exceptions.BotoCoreError as error:  # CredentialRetrievalError, ...
        raise AwsError([Problem(source, " ".join(str(error).split()))]) from None
