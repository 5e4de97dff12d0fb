"""The canary's code, run as `make canary` runs it, against real UDP on loopback: the local gateway with the
real packet counter, a responder that drops, repeats, misroutes and garbles, and a port where nothing answers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from generator.config import load_config
from generator.observe.canary import load_canary, run_canary
from generator.paths import REGIONAL_TEMPLATE_NAME
from generator.render import function_code_from_template, template_path, write_templates
from generator.render.function_code import CANARY_RESOURCE
from generator.render.templates import render_templates
from tests.support.checkout import CHECKOUT
from tests.support.cli import limit_open_files, run_cli, run_cli_in_process
from tests.support.config_files import write_config
from tests.support.responder import faulty_responder
from tests.support.udp import local_gateway, rendered_handler_code

NAMESPACE = "packet-counter/Canary"
BOUND = 30.0  # seconds: only a broken run waits this long; a good one ends with its last reply


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return rendered_handler_code(tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def deployed_canary(tmp_path_factory: pytest.TempPathFactory):
    """The canary module as the regional template carries it (Code.ZipFile of CanaryFunction)."""
    out = tmp_path_factory.mktemp("canary-out")
    config_path = write_config(out, lambda data: data["observability"]["canary"].update(enabled=True))
    write_templates(render_templates(load_config(config_path)), out)
    template = template_path(out, REGIONAL_TEMPLATE_NAME, "json")
    return load_canary(function_code_from_template(template, CANARY_RESOURCE))


def test_every_probe_through_the_local_gateway_is_answered_once_by_the_serving_region(code, deployed_canary):
    with local_gateway(code, count=10, timeout=0.2) as gateway:
        run = run_canary("127.0.0.1", gateway.port, 20, BOUND, NAMESPACE, "us-west-2", deployed_canary)
    result = run.result
    assert (result["Sent"], result["Counted"], result["LossPercent"]) == (20, 20, 0)
    assert result["ServedBy"] == {"us-west-2": 20}
    assert all(result[key] == 0 for key in ("Duplicates", "Foreign", "Malformed", "Overcounted"))
    assert 0 < result["RoundTripP50"] <= result["RoundTripP99"]
    summary, served = run.records
    assert summary["Region"] == "us-west-2" and summary["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE
    assert served["ServedBy"] == "us-west-2" and served["Served"] == 20


def test_every_metric_an_emf_record_declares_is_in_it_with_its_dimensions(code):
    with local_gateway(code, count=5, timeout=0.2) as gateway:
        run = run_canary("::1", gateway.port, 10, BOUND, NAMESPACE)
    for record in run.records:
        json.dumps(record)  # a log line, as Lambda writes it
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        assert isinstance(record["_aws"]["Timestamp"], int)
        for dimension in directive["Dimensions"][0]:
            assert isinstance(record[dimension], str)
        for metric in directive["Metrics"]:
            assert isinstance(record[metric["Name"]], int | float), metric
    assert [m["Name"] for m in run.records[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == [
        "Sent",
        "Counted",
        "LossPercent",
        "RoundTripP50",
        "RoundTripP99",
    ]


def test_a_silent_fallback_to_another_region_shows_as_the_serving_region(code):
    with local_gateway(code, count=10, timeout=0.2, down=("us-west-2",)) as gateway:
        run = run_canary("127.0.0.1", gateway.port, 10, BOUND, NAMESPACE, "us-west-2")
    assert run.result["ServedBy"] == {"us-east-1": 10}
    assert [r["ServedBy"] for r in run.records] == ["us-east-1", "us-east-1"]
    assert run.records[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Region", "ServedBy"]]


def test_no_reply_is_counted_twice_and_none_from_another_sender_is_counted():
    probes = 16  # two cycles of the responder's eight behaviours
    with faulty_responder(probes) as (port, done):
        # The six unanswerable probes keep the run to its deadline: short, since every other reply is already
        # out when the responder has seen the last probe.
        run = run_canary("127.0.0.1", port, probes, 2.0, NAMESPACE)
        assert done.is_set()
    result = run.result
    assert result["Sent"] == 16
    # Per cycle: delayed, repeated, stranger-first, garbled-first and overcounted are answered; dropped,
    # wrong-source and misrouted are not.
    assert result["Counted"] == 10 and result["LossPercent"] == 37.5
    assert result["Duplicates"] == 4  # the repeat, and the misrouted answer landing on an answered probe
    assert result["Foreign"] == 4  # from the responder's other port, and from the stranger
    assert result["Malformed"] == 2
    assert result["Overcounted"] == 4  # "3" for one probe: it counts as one
    assert result["ServedBy"] == {"us-west-2": 8, "eu-west-1": 2}
    assert "4 duplicates, 4 foreign, 2 malformed, 4 overcounted: not counted" in run.summary()


def test_make_canary_against_the_local_gateway_prints_its_emf_record_and_exits_0(code):
    with local_gateway(code, count=10, timeout=0.2) as gateway:
        result = run_cli_in_process(
            "canary", "--host", "127.0.0.1", "--port", gateway.port, "-n", "20", "--wait", BOUND
        )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["Counted"] == 20 and records[0]["LossPercent"] == 0
    assert records[0]["Region"] == "local" and records[1]["ServedBy"] == "us-west-2"
    assert "20 answered, loss 0.00%" in result.stderr


def test_when_nothing_answers_the_canary_reports_100_percent_loss_and_exits_1_without_a_traceback():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # takes the probes, answers none
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        result = run_cli_in_process("canary", "--host", "127.0.0.1", "--port", port, "-n", "5", "--wait", "0.5")
    assert result.returncode == 1
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (record["Sent"], record["Counted"], record["LossPercent"]) == (5, 0, 100)
    assert "RoundTripP99" not in record
    assert result.stderr.splitlines()[-1] == "FAIL: loss 100.00% is above 5%"
    assert "Traceback" not in result.stderr


def test_a_host_that_does_not_resolve_is_100_percent_loss_with_the_reason(tmp_path):
    result = run_cli_in_process(
        "canary", "--host", "no-such-host.invalid", "--port", "2000", "-n", "3", "--wait", "0.1"
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["LossPercent"] == 100
    assert "0 answered, loss 100.00%" in result.stderr and "Traceback" not in result.stderr


def test_without_an_endpoint_the_canary_says_where_to_get_one(tmp_path):
    result = run_cli_in_process("canary", "--outputs", tmp_path / "none.json")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"canary: nothing is deployed: there is no {tmp_path / 'none.json'} (deploy writes it, destroy removes it); "
        "deploy first, or pass HOST=... PORT=... (--host, --port) of a listener"
    ]
    (tmp_path / "empty.json").write_text("{}")
    result = run_cli_in_process("canary", "--outputs", tmp_path / "empty.json")
    assert result.stderr.splitlines() == [
        f"canary: no host: pass HOST=... (or --host), or deploy first so {tmp_path / 'empty.json'} has a Domain",
        f"canary: no port: pass PORT=... (or --port), or deploy first so {tmp_path / 'empty.json'} has a Port",
    ]


# -- sockets: a probe is an open file; running out is the canary's own error, never reported as loss --

LIMIT = 100  # the open-file limit of the child processes below: 36 probes after the 64 files kept spare


def _sink() -> socket.socket:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    return sink


def test_more_probes_than_the_open_file_limit_allows_are_refused_as_the_command_line_is_read():
    with _sink() as sink:
        port = sink.getsockname()[1]
        result = run_cli("canary", "--host", "127.0.0.1", "--port", port, "-n", "37", open_files=LIMIT)
        with pytest.raises(BlockingIOError):  # nothing was sent (loopback datagrams are queued by now)
            sink.recv(100)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "python -m generator canary: error: argument -n/--packets: expected a whole number of sockets from 1 to 36 "
        "(each an open file: `ulimit -n` is 100, less 64 kept for other files), got '37'"
    )


def test_running_out_of_sockets_is_the_canarys_error_with_no_emf_record_and_no_loss(tmp_path):
    # The config's probes (not -n, so not bounded as the command line is read) are more than the files left.
    config = write_config(tmp_path, lambda data: data["observability"]["canary"].update(packets=500))
    with _sink() as sink:
        port = sink.getsockname()[1]
        result = run_cli("canary", "--config", config, "--host", "127.0.0.1", "--port", port, open_files=LIMIT)
        with pytest.raises(BlockingIOError):
            sink.recv(100)
    assert result.returncode == 2
    assert result.stdout == ""  # no EMF record: nothing to count as lost
    assert "loss" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"canary: 500 probes need a socket each: Too many open files; lower observability.canary.packets in "
        f"{config} (or pass -n), or raise the open-file limit (`ulimit -n`, now 100); nothing was sent"
    )


PROBE_OUT_OF_FILES = """
import errno, sys
from generator.observe.canary import load_canary
canary = load_canary()  # handler/canary.py: the code the canary function runs
try:
    result = canary.probe("127.0.0.1", int(sys.argv[1]), 500, 0.1)
except OSError as error:
    print(errno.errorcode[error.errno])
else:
    print("returned", result["LossPercent"])
"""


def test_the_canary_functions_own_code_raises_when_out_of_files_rather_than_logging_loss():
    with _sink() as sink:
        completed = subprocess.run(
            [sys.executable, "-c", PROBE_OUT_OF_FILES, str(sink.getsockname()[1])],
            cwd=CHECKOUT,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=lambda: limit_open_files(LIMIT),
        )
        with pytest.raises(BlockingIOError):  # every socket is opened before the first probe goes
            sink.recv(100)
    assert completed.stdout == "EMFILE\n", completed.stderr


def test_json_is_one_document_of_the_run_its_result_and_records():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # takes the probes, answers none
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        result = run_cli_in_process(
            "canary", "--host", "127.0.0.1", "--port", port, "-n", "3", "--wait", "0.5", "--json"
        )
    assert result.returncode == 1
    document = json.loads(result.stdout)  # the whole of stdout: one document
    assert document["ok"] is False and document["loss_percent"] == 100 and document["max_loss_percent"] == 5
    assert (document["host"], document["port"], document["packets"]) == ("127.0.0.1", port, 3)
    assert document["result"]["Sent"] == 3 and document["records"][0]["Counted"] == 0
    assert result.stderr.splitlines()[-1] == "FAIL: loss 100.00% is above 5%"
