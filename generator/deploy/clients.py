"""boto3 clients for the deploy commands: one per region, made explicitly, retrying throttles, never hanging.

Credentials, profile and endpoint follow the AWS conventions: AWS_PROFILE (or --profile), the default
credential chain, AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_CLOUDFORMATION). The region is never left to the
environment: every client names the region it talks to, so one stack's outputs are never read from another
region (the session's own region, AWS_REGION or --region, serves only the credential providers).

Every client is guarded (endpoint_guard.CallGuard) against what stands at the endpoint not being
CloudFormation, and against an endpoint that never answers.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from generator.deploy import endpoint_guard
from generator.deploy.endpoint_guard import EXAMPLE_ENDPOINT, CallGuard, CallWatch, OnWait, Timeouts
from generator.errors import AwsError, Problem

# botocore's default retry mode is still "legacy"; "standard" backs off on throttling, which parallel
# deploys to many regions do hit. The orphan scan asks every region once, read-only: fewer attempts.
MAX_ATTEMPTS = 10
SCAN_MAX_ATTEMPTS = 3
# What an AWS call can raise that is AWS's doing (or the endpoint's), never a bug of ours: callers make it
# a failed row or one line. botocore's ResponseParserError is not a BotoCoreError, hence the tuple.
ENDPOINT_FAULTS = (BotoCoreError, ResponseParserError)
AWS_FAULTS = (ClientError, *ENDPOINT_FAULTS)
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_CLOUDFORMATION", "AWS_ENDPOINT_URL")  # the first one set wins


class AwsClients:
    """CloudFormation clients per region, made under a lock: Sessions are not thread-safe, clients are.

    `profile` and `region` (None: the environment's) make the Session, as the AWS CLI's --profile and
    --region do; `on_wait` hears, once per slow call, what is being waited for."""

    def __init__(
        self,
        profile: str | None = None,
        region: str | None = None,
        timeouts: Timeouts | None = None,
        on_wait: OnWait | None = None,
    ) -> None:
        self._profile, self._region = profile, region
        self._session: boto3.session.Session | None = None
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, bool], Any] = {}
        # StackSets: clients of other accounts (account, role, region) and the caller's identity, made on demand
        self._account_clients: dict[tuple[str, str, str, str], Any] = {}
        self._credentials: dict[tuple[str, str], dict[str, str]] = {}
        self._caller: dict[str, str] = {}
        # read at run time, so a test can shrink the default
        self.timeouts = timeouts or endpoint_guard.DEFAULT_TIMEOUTS
        self._watch = CallWatch(on_wait or (lambda text: None), self.timeouts.notice_after)
        # endpoint URL -> why it was given up on: the rest of the run does not wait for it again
        self._given_up: dict[str, str] = {}

    def cloudformation(self, region: str, scan: bool = False) -> Any:
        """The client for `region`; `scan` for the orphan scan's few attempts (SCAN_MAX_ATTEMPTS)."""
        with self._lock:
            key = (region, scan)
            if key not in self._clients:
                self._clients[key] = self._guarded(
                    _make_client(self._get_session(), region, self._config(scan)), region
                )
            return self._clients[key]

    def _get_session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session(profile_name=self._profile, region_name=self._region)
        return self._session

    def caller(self, region: str) -> dict[str, str]:
        """The caller's identity (sts:GetCallerIdentity: Account, Arn), asked once."""
        with self._lock:
            if not self._caller:
                self._caller = dict(self._sts(region).get_caller_identity())
            return self._caller

    def cloudformation_in(self, account: str, role_name: str, region: str) -> Any:
        """A CloudFormation client of another account (a StackSet target), through role_name there
        (sts:AssumeRole; the caller's own client when `account` is the caller's)."""
        if account == self.caller(region)["Account"]:
            return self.cloudformation(region)
        return self._client_in("cloudformation", account, role_name, region)

    def s3_in(self, account: str, role_name: str, region: str) -> Any:
        """An S3 client of `account` in `region`, through role_name there as cloudformation_in; it reads the
        account's Proxylity customer-config.json."""
        if account == self.caller(region)["Account"]:
            with self._lock:
                key = (f"s3:{region}", False)
                if key not in self._clients:
                    client = _make_client(self._get_session(), region, self._config(False), service="s3")
                    self._clients[key] = self._guarded(client, region)
                return self._clients[key]
        return self._client_in("s3", account, role_name, region)

    def _client_in(self, service: str, account: str, role_name: str, region: str) -> Any:
        with self._lock:
            key = (service, account, role_name, region)
            if key not in self._account_clients:
                credentials = self._assumed(account, role_name, region)
                client = _make_client(self._get_session(), region, self._config(False), credentials, service)
                self._account_clients[key] = self._guarded(client, region)
            return self._account_clients[key]

    def _guarded(self, client: Any, region: str) -> Any:
        CallGuard(client, region, self.timeouts, self._watch, self._given_up).install()
        return client

    def _assumed(self, account: str, role_name: str, region: str) -> dict[str, str]:
        """Credentials of role_name in account, asked once per run (they last an hour). Holds self._lock."""
        key = (account, role_name)
        if key not in self._credentials:
            partition = self._caller["Arn"].split(":")[1]
            answer = self._sts(region).assume_role(
                RoleArn=f"arn:{partition}:iam::{account}:role/{role_name}", RoleSessionName="packet-counter"
            )
            found = answer["Credentials"]
            self._credentials[key] = {
                "aws_access_key_id": found["AccessKeyId"],
                "aws_secret_access_key": found["SecretAccessKey"],
                "aws_session_token": found["SessionToken"],
            }
        return self._credentials[key]

    def _sts(self, region: str) -> Any:
        """STS in `region`, guarded as CloudFormation is. Holds self._lock."""
        key = (f"sts:{region}", False)
        if key not in self._clients:
            client = _make_client(self._get_session(), region, self._config(False), service="sts")
            self._clients[key] = self._guarded(client, region)
        return self._clients[key]

    def set_on_wait(self, on_wait: OnWait) -> None:
        """Who hears about slow calls from now on (the engine relays them as Waiting events)."""
        self._watch.on_wait = on_wait

    def prepare(self, regions: list[str] | tuple[str, ...], scan: bool = False) -> None:
        """Make the clients before any thread starts, so workers only ever read the cache."""
        for region in regions:
            self.cloudformation(region, scan)

    def _config(self, scan: bool) -> BotoConfig:
        return BotoConfig(
            retries={"mode": "standard", "max_attempts": SCAN_MAX_ATTEMPTS if scan else MAX_ATTEMPTS},
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
        )


def _make_client(
    session: boto3.session.Session,
    region: str,
    config: BotoConfig,
    credentials: dict[str, str] | None = None,
    service: str = "cloudformation",
) -> Any:
    try:
        return session.client(service, region_name=region, config=config, **(credentials or {}))
    except ValueError as error:  # botocore checks the endpoint URL only when it makes a client
        _, marker, value = str(error).partition("Invalid endpoint: ")
        if not marker:
            raise AwsError([Problem("AWS configuration", str(error))]) from None
        raise AwsError(
            [Problem(endpoint_source(), f"{value!r} is not a URL; expected e.g. {EXAMPLE_ENDPOINT}")]
        ) from None


def endpoint_source() -> str:
    """Where the endpoint URL comes from: the variable that redirects clients, else the AWS config file."""
    return next((name for name in ENDPOINT_VARIABLES if os.environ.get(name)), "endpoint_url in the AWS config file")


def fault_text(error: BaseException) -> str:
    """An AWS error's text on one line (botocore's messages may span several)."""
    return " ".join(str(error).split())


@contextlib.contextmanager
def aws_errors(source: str) -> Iterator[None]:
    """Credentials, profile, endpoint and any other AWS error as one clear line instead of a traceback."""
    try:
        yield
    except botocore.exceptions.ProfileNotFound as error:
        name = str(error.kwargs.get("profile", ""))
        raise AwsError.of(
            f"profile {name}",
            f"not found in the AWS config or credentials file{_profile_origin(name)}; expected "
            f"{_known_profiles()} (or leave the profile unset for the default credential chain)",
        ) from None
    except botocore.exceptions.ConfigParseError as error:
        path = error.kwargs.get("path", "the AWS config file")
        raise AwsError(
            [Problem(str(path), "cannot parse this AWS config file; expected INI sections such as [default]")]
        ) from None
    except botocore.exceptions.NoCredentialsError:
        raise AwsError(
            [Problem(source, "no AWS credentials found (set AWS_PROFILE, or run `aws configure` / `aws sso login`)")]
        ) from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise AwsError([Problem(source, f"cannot reach AWS: {error} (check AWS_ENDPOINT_URL)")]) from None
    except ClientError as error:  # ExpiredToken, AccessDenied, ...: AWS's own message
        raise AwsError([Problem(source, fault_text(error))]) from None
    except ENDPOINT_FAULTS as error:  # CredentialRetrievalError, EndpointFault, ...
        raise AwsError([Problem(source, fault_text(error))]) from None


def _profile_origin(name: str) -> str:
    """Where the profile the user named came from, as they gave it: a variable, else --profile (PROFILE=)."""
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        if os.environ.get(variable) == name:
            return f" (named by {variable})"
    return " (named by --profile, or PROFILE= with make)"


def _known_profiles() -> str:
    """The profiles the AWS files define, in words; reading them must not raise a second error."""
    try:
        profiles = sorted(botocore.session.Session().available_profiles)
    except (BotoCoreError, OSError, ValueError):
        return "a profile the files define"
    return f"one of: {', '.join(profiles)}" if profiles else "a profile, but the files define none"
