"""The local UDP Gateway answers like Proxylity + the packet counter: real UDP on loopback."""

from __future__ import annotations

import json
import threading

import pytest

from generator.errors import GeneratorError
from generator.local.gateway.gateway import RECEIVE_BUFFER_BYTES
from generator.local.gateway.lambda_runtime import build_event
from generator.paths import REGIONAL_TEMPLATE_NAME
from generator.render import function_code_from_template, template_path
from generator.traffic.smoke import SmokeOptions, run_smoke
from tests.support.checkout import HANDLER_FILE
from tests.support.udp import exchange, local_gateway, rendered_handler_code


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return rendered_handler_code(tmp_path_factory.mktemp("out"))


def smoke(port: int, packets: int = 100, host: str = "127.0.0.1", **options) -> object:
    # These runs end when every packet is accounted for; the quiet bound only stops a broken one.
    return run_smoke(SmokeOptions(host=host, port=port, packets=packets, quiet_seconds=30, **options))


def test_the_code_run_is_the_rendered_templates_function_code(tmp_path):
    code = rendered_handler_code(tmp_path)
    assert code == function_code_from_template(template_path(tmp_path, REGIONAL_TEMPLATE_NAME, "json"))
    assert code == HANDLER_FILE.read_text(encoding="utf-8")


def test_100_packets_are_counted_by_the_serving_region(code):
    with local_gateway(code, count=10) as gateway:
        report = smoke(gateway.port)
    assert report.packets_sent == 100
    assert report.packets_counted == 100
    assert report.packets_unaccounted == 0
    assert report.regions == {"us-west-2": {"replies": 10, "packets": 100}}
    assert report.latency_ms is not None and report.latency_ms.min_ms > 0


def test_two_function_processes_per_region_count_every_packet_once(code):
    with local_gateway(code, count=10, concurrency=2) as gateway:
        # A burst as fast as the sockets go, when the receive buffer absorbs it; paced (a
        # bounded 0.5 s) when net.core.rmem_max capped the buffer and the kernel would drop.
        capped = gateway.receive_buffer_bytes < RECEIVE_BUFFER_BYTES
        report = smoke(gateway.port, packets=1000, clients=4, rate=2000 if capped else None)
    assert report.packets_counted == 1000 and report.packets_over_counted == 0
    assert report.regions["us-west-2"]["packets"] == 1000


def test_each_invocation_is_reported_with_its_packets_and_the_handlers_run(code):
    invocations = []
    with local_gateway(code, count=10, on_invocation=invocations.append) as gateway:
        report = smoke(gateway.port, packets=100)
    # The gateway has stopped: every batch has run and been reported.
    assert report.packets_counted == 100
    assert [(invocation.region, invocation.packets) for invocation in invocations] == [("us-west-2", 10)] * 10
    assert all(invocation.handler_seconds > 0 for invocation in invocations)


def test_ipv6_loopback_is_served_too(code):
    with local_gateway(code, count=10) as gateway:
        report = smoke(gateway.port, packets=30, host="::1")
    assert report.packets_counted == 30
    assert report.address.startswith("::1")


def test_count_1_answers_every_packet_and_count_1000_answers_the_batch_once(code):
    with local_gateway(code, count=1) as gateway:
        one_by_one = exchange(gateway.port, [b"packet_%d" % n for n in range(1, 101)])
    # All 100 wait in the socket before the gateway reads: its first read takes them all, so
    # they share a batch however slowly this machine runs the sender.
    with local_gateway(code, count=1000, timeout=0.3, start=False) as gateway:
        batched = exchange(gateway.port, [b"packet_%d" % n for n in range(1, 101)], after_sending=gateway.start)
    assert len(one_by_one) == 100
    assert set(one_by_one) == {b"1 us-west-2\n"}
    assert batched == [b"100 us-west-2\n"]  # the batch timeout sent one batch holding all 100


def test_a_batch_is_also_cut_by_size(code):
    # SizeInMb 0.001 is 1,048 bytes: two 500-byte packets fit, a third would go past it,
    # so it starts the next batch; the ninth is sent alone by the timeout. All nine wait in the
    # socket before the gateway reads, so only size cuts the first eight, never the timer.
    with local_gateway(code, count=1000, timeout=0.3, size_in_mb=0.001, start=False) as gateway:
        replies = exchange(gateway.port, [b"x" * 500] * 9, after_sending=gateway.start)
    assert replies == [b"2 us-west-2\n"] * 4 + [b"1 us-west-2\n"]


def test_ten_clients_at_once_each_get_their_own_counts(code):
    results: dict[int, object] = {}

    def client(number: int) -> None:
        results[number] = smoke(port, packets=20 + number)

    with local_gateway(code, count=1000, timeout=0.3) as gateway:
        port = gateway.port
        threads = [threading.Thread(target=client, args=(number,)) for number in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    for number in range(10):
        report = results[number]
        assert report.packets_counted == 20 + number, f"client {number}"
        assert report.packets_over_counted == 0


def test_two_sockets_on_one_address_are_two_clients(code):
    # Count per source IP and port: two clients behind one NAT each get their own answer.
    # Count 10: the ten packets make one batch, cut by count rather than by a timer.
    with local_gateway(code, count=10) as gateway:
        report = smoke(gateway.port, packets=10, clients=2)
    assert report.regions == {"us-west-2": {"replies": 2, "packets": 10}}


def test_a_client_that_reads_only_the_seeds_format_parses_our_replies(code):
    with local_gateway(code, count=10) as gateway:
        replies = exchange(gateway.port, [b"packet_%d" % n for n in range(1, 101)])
    # The seed's parsing: the first word is the count, the second the region.
    per_region: dict[str, int] = {}
    for reply in replies:
        text = reply.decode()
        count, region = int(text.split()[0]), text.split()[1]
        per_region[region] = per_region.get(region, 0) + count
    assert per_region == {"us-west-2": 100}


@pytest.mark.parametrize(
    ("formatter", "data"),
    [("base64", "cGFja2V0XzE="), ("hex", "7061636b65745f31"), ("ascii", "packet_1"), ("utf8", "packet_1")],
)
def test_the_event_has_the_proxylity_shape(formatter, data):
    local = {"4": {"Domain": "localhost", "Port": 2000}, "6": {"Domain": "localhost", "Port": 2000}}
    event = build_event("7-", [b"packet_1"], [("127.0.0.1", 40000)], [1_800_000_000.25], local, formatter)
    assert json.loads(json.dumps(event)) == event  # nothing JSON could not carry
    assert event == {
        "Messages": [
            {
                "Tag": "7-0",
                "Remote": {"IpAddress": "127.0.0.1", "Port": 40000},
                "Local": {"Domain": "localhost", "Port": 2000},
                "ReceivedAt": "2027-01-15T08:00:00.250000+00:00",
                "Formatter": formatter,
                "Data": data,
            }
        ]
    }


def test_an_ipv6_client_is_the_remote_of_its_message():
    local = {"4": {"Domain": "localhost", "Port": 2000}, "6": {"Domain": "localhost", "Port": 2001}}
    event = build_event("1-", [b""], [("::1", 40000, 0, 0)], [1_800_000_000.0], local, "base64")
    [message] = event["Messages"]
    assert message["Remote"] == {"IpAddress": "::1", "Port": 40000}
    assert message["Local"] == {"Domain": "localhost", "Port": 2001}
    assert message["Data"] == ""


def test_the_handler_gets_a_lambda_context_for_its_region():
    code = """
import base64

def handler(event, context):
    text = f"{context.invoked_function_arn} {context.memory_limit_in_mb} {context.get_remaining_time_in_millis() > 0}"
    return {"Replies": [{"Tag": event["Messages"][0]["Tag"], "Data": base64.b64encode(text.encode()).decode()}]}
"""
    with local_gateway(code, count=1) as gateway:
        replies = exchange(gateway.port, [b"packet_1"], expect_replies=1)  # not a count: wait for one reply
    assert replies == [b"arn:aws:lambda:us-west-2:000000000000:function:packet-counter 128 True"]


def test_a_template_without_the_function_code_is_one_clear_error(tmp_path):
    template = tmp_path / "regional.template.json"
    template.write_text(json.dumps({"Resources": {"PacketCounterFunction": {"Properties": {"Code": {}}}}}))
    with pytest.raises(GeneratorError) as raised:
        function_code_from_template(template)
    assert [str(p) for p in raised.value.problems] == [
        f"{template}: Resources.PacketCounterFunction.Properties.Code.ZipFile: expected the function's inline code here"
    ]
