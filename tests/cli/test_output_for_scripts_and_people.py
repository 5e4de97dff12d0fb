"""Output for scripts and for people: every command that reports has --json, one document on stdout (progress
and notes on stderr, a refusal a document too); the wide tables (status, tune, the deploy summary) fit an
80-column terminal, by rich, and stay plain aligned text in a pipe."""

from __future__ import annotations

import argparse
import json
import re
from types import SimpleNamespace

import pytest

from generator.cli import build_parser
from generator.cli.fitted_tables import Column, fitted_table
from generator.cli.tables import format_status, summary_table
from generator.cli.tune_commands import COLUMNS, format_table
from generator.deploy import Action, Inventory, StackResult, StackState
from generator.errors import ExitCode
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.tune import synthetic_result

# Commands that report nothing a script would read: they start a server, change a file, print a script (or
# /etc/hosts lines, local-names; it also runs a command with them).
NOT_REPORTING = {"init", "local", "local-control", "local-cloud", "completion", "local-names"}


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


@pytest.mark.parametrize("name", sorted(set(commands()) - NOT_REPORTING))
def test_every_command_that_reports_has_json(name):
    options = {option for action in commands()[name]._actions for option in action.option_strings}
    assert "--json" in options, f"{name} reports but has no --json (or belongs in NOT_REPORTING)"


def test_validate_json_is_one_document_and_a_refused_config_is_one_too_with_its_problems(tmp_path):
    config = write_config(tmp_path, lambda c: c.update(regions=["us-west-2", "eu-west-1"]))

    status, out, err = run_cli_in_process("validate", "--config", config, "--json")

    assert (status, err) == (0, "")
    document = json.loads(out)
    assert document["ok"] is True and document["valid"] is True
    assert document["regions"] == ["us-west-2", "eu-west-1"] and document["environment"] is None
    assert document["stacks"] == {"global": "packet-counter-global", "regional": "packet-counter-region"}
    assert set(document["template_bytes"]) == {"global.template", "regional.template"}

    broken = tmp_path / "broken.yaml"
    broken.write_text("regions: [us-west-2]\ndestination:\n  batching: {count: 0}\n")
    status, out, err = run_cli_in_process("validate", "--config", broken, "--json")

    assert status == ExitCode.USAGE
    assert json.loads(out) == {
        "ok": False,
        "exit_code": 2,
        "problems": [
            {
                "source": str(broken),
                "line": 3,
                "key_path": "destination.batching.count",
                "message": "0 is less than the minimum of 1",
            }
        ],
    }
    assert err == f"{broken}:3: destination.batching.count: 0 is less than the minimum of 1\n"


def test_render_json_names_what_it_wrote(tmp_path):
    out_dir = tmp_path / "out"

    status, out, err = run_cli_in_process("render", "--config", write_config(tmp_path), "--out", out_dir, "--json")

    assert status == 0, err
    written = json.loads(out)["written"]
    assert sorted(written) == sorted(str(out_dir / f"{name}.template.json") for name in ("global", "regional"))


def test_a_refused_deploy_with_json_still_prints_one_document(tmp_path):
    status, out, err = run_cli_in_process("deploy", "--config", tmp_path / "missing.yaml", "--json")

    assert status == ExitCode.USAGE
    document = json.loads(out)
    assert document["ok"] is False and document["problems"][0]["message"] == "no such file"
    assert err.strip().endswith("missing.yaml: no such file")


# --- wide tables fit the terminal --------------------------------------------------------------------------

ARN = "arn:aws:lambda:{}:123456789012:function:packet-counter"


def inventory() -> Inventory:
    stacks = [
        StackState(
            "us-west-2",
            "packet-counter-global",
            "UPDATE_ROLLBACK_COMPLETE",
            last_update="2026-12-03 14:55:13Z",
            endpoint="lstc368c4dba010.proxylity.com:58191",
        )
    ]
    for region in ("us-west-2", "ap-southeast-2", "eu-central-1"):
        stacks.append(
            StackState(
                region,
                "packet-counter-region",
                "UPDATE_ROLLBACK_COMPLETE",
                last_update="2026-12-03 14:55:13Z",
                function_arn=ARN.format(region),
                orphan=region == "eu-central-1",
            )
        )
    return Inventory(stacks, unreachable={"ap-east-1": "The security token included in the request is invalid. " * 3})


def test_status_fits_an_80_column_terminal_keeping_region_stack_status_and_the_orphan():
    text = format_status("config/config.yaml", inventory(), width=80)

    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line.split() for line in lines if line.startswith(("us-west-2 ", "ap-southeast-2 ", "eu-central-1 "))]
    assert [row[:3] for row in rows] == [
        ["us-west-2", "packet-counter-global", "UPDATE_ROLLBACK_COMPLETE"],
        ["us-west-2", "packet-counter-region", "UPDATE_ROLLBACK_COMPLETE"],
        ["ap-southeast-2", "packet-counter-region", "UPDATE_ROLLBACK_COMPLETE"],
        ["eu-central-1", "packet-counter-region", "UPDATE_ROLLBACK_COMPLETE", "orphan"][:3],
    ]
    assert rows[-1][-1] == "orphan"  # the note stays, folded if need be
    assert "(left out for the terminal's width: last update, endpoint / function ARN; --json" in text
    assert any(line.startswith("could not check ap-east-1: The security token") for line in lines)


def test_status_on_a_wide_terminal_shows_every_column_and_folds_nothing_it_need_not():
    text = format_status("config/config.yaml", inventory(), width=200)

    assert max(len(line) for line in text.splitlines()) <= 200
    assert ARN.format("ap-southeast-2") in text  # whole, on one line
    assert "left out" not in text


def test_status_in_a_pipe_is_plain_aligned_text_a_script_reads_back():
    text = format_status("config/config.yaml", inventory())

    header, dashes, *rows = text.splitlines()[:6]
    assert header.split("  ")[0] == "region" and set(dashes) <= {"-", " "}
    assert len(max(text.splitlines(), key=len)) > 80  # never cut or folded: the whole ARN on its row
    columns = [match.start() for match in re.finditer(r"(?<!\S)\S", dashes)]
    for row in rows:
        cells = [row[start:end].strip() for start, end in zip(columns, [*columns[1:], None], strict=True)]
        assert cells[0] in ("us-west-2", "ap-southeast-2", "eu-central-1")
        assert cells[4].startswith(("arn:aws:lambda:", "lstc368c4dba010.proxylity.com"))


def tune_result() -> SimpleNamespace:
    settings = [(count, timeout) for count in (1, 10, 100, 1000) for timeout in (0.05, 0.2, 1)]
    return SimpleNamespace(results=[synthetic_result(c, t, p99_ms=c * t + 1) for c, t in settings])


def test_the_tune_table_fits_an_80_column_terminal_keeping_the_setting_p99_cost_and_verdict():
    text = format_table(tune_result(), width=80)

    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = [name.strip() for name in re.split(r"\s{2,}", lines[0].strip())]
    assert header[:2] == ["count", "timeout"]
    assert {"p99 ms", "loss", "$/M packets", "target"} <= set(header)
    assert not {"packets", "handler ms", "billed ms"} & set(header)
    assert "(left out for the terminal's width: packets, replies," in text
    rows = [line.split() for line in lines if re.match(r"\s*\d+\s+\S+ s\s", line)]
    assert len(rows) == 12 and rows[-1][-1] == "over"  # a row per setting, its verdict last


def test_the_tune_table_in_a_pipe_has_every_column_on_one_line_per_setting():
    lines = format_table(tune_result()).splitlines()

    assert [name.strip() for name in re.split(r"\s{2,}", lines[0].strip())] == [name for name, _ in COLUMNS]
    assert len(lines) == 1 + 12 + 1  # the header, a row per setting, the note
    assert len(lines[1]) == len(lines[0])  # aligned: every row as wide as the header


def test_the_deploy_summary_fits_an_80_column_terminal():
    results = [
        StackResult(region, "packet-counter-staging-region", Action.CREATED, finished=12.5, account=account)
        for account in ("111111111111", "222222222222")
        for region in ("us-west-2", "ap-southeast-2")
    ]
    endpoints = {account: "lstc368c4dba010.proxylity.com:58191" for account in ("111111111111", "222222222222")}

    text = summary_table(results, endpoints, width=80)

    assert max(len(line) for line in text.splitlines()) <= 80
    assert len(summary_table(results, endpoints).splitlines()[0]) <= 200


def test_a_fitted_table_leaves_out_columns_by_rank_and_never_the_first_rank():
    columns = [Column("name"), Column("kept", 1), Column("first to go", 3), Column("second", 2)]
    rows = [["x" * 30, "y" * 20, "z" * 20, "w" * 20]]

    assert fitted_table(columns, rows, 56).splitlines()[0].split() == ["name", "kept"]
    assert fitted_table(columns, rows, 80).splitlines()[0].split() == ["name", "kept", "second"]
    narrow = fitted_table(columns, rows, 20)  # even the first rank alone does not fit: it stays, cut
    assert narrow.splitlines()[0].split()[0] == "name"
    assert max(len(line) for line in narrow.splitlines()) <= 20
