"""`destroy --json` for scripts: one document on stdout whatever happens (deleted, declined, nothing there,
refused without a terminal), the question and the live lines on stderr."""

from __future__ import annotations

import io
import json

from generator.errors import ExitCode
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import FAST, GLOBAL, REGIONAL, deploy_cli, local_cloud_fixtures, stack, terminal_stdin

local_cloud, cloud = local_cloud_fixtures()
REGIONS = ["us-west-2", "eu-west-1"]


def destroy(config_path, tmp_path, *extra: str):
    return run_cli_in_process(
        "destroy", "--config", str(config_path), "--out", str(tmp_path / "out"), "--json", *FAST, *extra
    )


def test_destroy_json_lists_what_it_planned_and_deleted_regional_stacks_first(cloud, tmp_path, monkeypatch):
    config_path = write_config(tmp_path, lambda c: c.update(regions=REGIONS))
    assert deploy_cli(config_path, tmp_path).returncode == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    status, out, err = destroy(config_path, tmp_path, "--yes")

    assert status == 0, err
    document = json.loads(out)  # stdout is the document alone
    assert document["ok"] is True and document["cancelled"] is False and document["environment"] is None
    planned = [(entry["region"], entry["stack"]) for entry in document["planned"]]
    assert planned[-1] == ("us-west-2", GLOBAL) and sorted(planned[:-1]) == sorted((r, REGIONAL) for r in REGIONS)
    assert {(entry["region"], entry["stack"], entry["action"]) for entry in document["stacks"]} == {
        *((region, REGIONAL, "deleted") for region in REGIONS),
        ("us-west-2", GLOBAL, "deleted"),
    }
    assert "This deletes:" in err  # the question (answered by --yes) is for people: on stderr
    assert stack("us-west-2", GLOBAL) is None

    status, out, err = destroy(config_path, tmp_path, "--yes")  # nothing left to delete
    assert status == 0, err
    again = json.loads(out)
    assert again["ok"] is True and again["stacks"] == [] and again["planned"] == []


def test_destroy_json_declined_on_a_terminal_is_a_document_saying_cancelled(cloud, tmp_path, monkeypatch):
    config_path = write_config(tmp_path, lambda c: c.update(regions=REGIONS))
    assert deploy_cli(config_path, tmp_path).returncode == 0

    with terminal_stdin(monkeypatch, "no\n"):
        status, out, err = destroy(config_path, tmp_path)

    document = json.loads(out)
    assert document["cancelled"] is True and document["stacks"] == []
    assert "Type 'yes' to delete them" in err
    assert status == ExitCode.FAILED
    assert stack("us-west-2", GLOBAL) is not None


def test_destroy_json_without_a_terminal_or_yes_is_refused_with_a_document_and_deletes_nothing(
    cloud, tmp_path, monkeypatch
):
    config_path = write_config(tmp_path, lambda c: c.update(regions=REGIONS))
    assert deploy_cli(config_path, tmp_path).returncode == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # piped: nobody to ask

    status, out, err = destroy(config_path, tmp_path)

    assert status == ExitCode.USAGE
    document = json.loads(out)
    assert document["ok"] is False and document["exit_code"] == 2
    (problem,) = document["problems"]
    assert problem["source"] == "destroy" and "YES=1" in problem["message"]
    assert err.count("\n") == 1
    assert stack("us-west-2", GLOBAL) is not None
