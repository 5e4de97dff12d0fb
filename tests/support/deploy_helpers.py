"""Helpers for the deploy tests: configs written to tmp_path, the CLI run in-process, AWS read back."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

from generator import cli
from generator.paths import DEFAULT_CONFIG
from tests.support.local_cloud import LocalCloud

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def point_aws_at(cloud: LocalCloud, monkeypatch: Any, tmp_path: Path) -> None:
    """Dummy credentials and the local endpoint; the user's own AWS files and profile are ignored."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_CLOUDFORMATION", "YES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud.endpoint_url)


def write_config(tmp_path: Path, edit: Callable[[dict], None] | None = None, name: str = "config.yaml") -> Path:
    """config/config.yaml, edited, written to tmp_path."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    if edit:
        edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_cli(capsys: Any, *argv: str, stdin: str | None = None, monkeypatch: Any = None) -> tuple[int, str, str]:
    """`python -m generator ARGV` in this process: (exit status, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def cloudformation(region: str) -> Any:
    return boto3.client("cloudformation", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def stack(region: str, name: str) -> dict[str, Any] | None:
    """The live stack, or None when there is none."""
    try:
        found = cloudformation(region).describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return None
    return found[0] if found and found[0]["StackStatus"] != "DELETE_COMPLETE" else None


def outputs(found: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}


def parameters(found: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in found.get("Parameters", [])}


def summary_rows(text: str) -> dict[tuple[str, str], str]:
    """(region, stack) -> action, from the summary table the CLI prints last."""
    rows: dict[tuple[str, str], str] = {}
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("region ") and "action" in line]
    for line in lines[starts[-1] + 2 :] if starts else []:
        cells = line.split()
        if len(cells) >= 3 and not line.startswith(("FAILED", "wrote")):
            rows[(cells[0], cells[1])] = cells[2]
    return rows
