"""Routing and failover: the ingress region when configured and up, else the nearest one up."""

from __future__ import annotations

import json
import socket
import time

import pytest

from generator.config.regions import known_regions
from generator.errors import RoutingError
from generator.local.gateway.control import send_control
from generator.local.gateway.routing import Router, load_latency_table, route_order
from generator.traffic.smoke import SmokeOptions, run_smoke
from tests.support.udp import SEED_REGIONS, exchange, local_gateway, rendered_handler_code, wait_until


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return rendered_handler_code(tmp_path_factory.mktemp("out"))


def regions_answering(port: int) -> set[str]:
    replies = exchange(port, [b"packet_%d" % n for n in range(1, 11)])
    assert sum(int(reply.split()[0]) for reply in replies) == 10
    return {reply.split()[1].decode() for reply in replies}


def test_the_shipped_latency_table_covers_every_botocore_region():
    table = load_latency_table()
    for a in known_regions():
        for b in known_regions():
            assert table.knows(a, b), (a, b)
            assert table.rtt(a, b) == table.rtt(b, a)
        assert table.rtt(a, a) == 0


def test_the_nearest_configured_region_serves_an_ingress_without_one():
    table = load_latency_table()
    assert Router("eu-central-1", SEED_REGIONS, table).serving_region() == "eu-west-1"
    assert Router("us-east-2", SEED_REGIONS, table).serving_region() == "us-east-1"
    assert Router("us-west-1", SEED_REGIONS, table).serving_region() == "us-west-2"


def test_the_nearest_region_down_then_back_up(code):
    with local_gateway(code, count=10) as gateway:
        port = gateway.port
        assert regions_answering(port) == {"us-west-2"}
        answer = send_control("down us-west-2", port)
        assert answer == "ok ingress=us-west-2 serving=us-east-1 down=us-west-2"
        assert regions_answering(gateway.port) == {"us-east-1"}
        send_control("down us-east-1", port)
        assert regions_answering(gateway.port) == {"eu-west-1"}
        send_control("up us-west-2", port)
        assert regions_answering(gateway.port) == {"us-west-2"}
        assert send_control("status", port) == "ok ingress=us-west-2 serving=us-west-2 down=us-east-1"


def test_a_region_marked_down_at_start_is_skipped(code):
    with local_gateway(code, count=10, ingress="us-west-2", down=("us-west-2",)) as gateway:
        assert regions_answering(gateway.port) == {"us-east-1"}


def test_every_region_down_means_no_replies_and_service_resumes(code):
    with local_gateway(code, count=10, down=SEED_REGIONS) as gateway, socket.socket(type=socket.SOCK_DGRAM) as early:
        for _ in range(10):  # Count 10: one batch, which finds no region up
            early.sendto(b"packet_1", ("127.0.0.1", gateway.port))
        wait_until(lambda: gateway.stats.undeliverable == 10, "the batch found every region down")
        send_control("up eu-west-1", gateway.port)
        assert regions_answering(gateway.port) == {"eu-west-1"}
        with pytest.raises(BlockingIOError):
            early.recv(65536, socket.MSG_DONTWAIT)  # the dropped batch was never answered
    assert gateway.stats.undeliverable == 10


def test_added_latency_delays_replies_from_a_far_region(code, tmp_path):
    table_path = tmp_path / "rtt.json"
    table_path.write_text(json.dumps({"rtt_ms": {"eu-west-1": {"us-west-2": 400}}}))
    table = load_latency_table(table_path)
    with local_gateway(code, count=10, regions=("us-west-2",), ingress="eu-west-1", table=table, add_latency=True) as g:
        # Ends on the one reply accounting for all ten; 30 s only bounds a broken run.
        report = run_smoke(SmokeOptions(host="127.0.0.1", port=g.port, packets=10, quiet_seconds=30))
    assert report.regions == {"us-west-2": {"replies": 1, "packets": 10}}
    assert report.latency_ms.min_ms >= 400


def test_added_latency_comes_on_top_of_the_handlers_time(code, tmp_path):
    # A handler taking 0.4 s in a region 400 ms away: the reply cannot be back in under 0.8 s
    # (a lower bound, so a slow machine cannot make this fail; overlap would give ~0.4 s).
    slow = code.replace("def handler(", "def real_handler(") + (
        "\nimport time\n\ndef handler(event, context):\n    time.sleep(0.4)\n    return real_handler(event, context)\n"
    )
    table_path = tmp_path / "rtt.json"
    table_path.write_text(json.dumps({"rtt_ms": {"eu-west-1": {"us-west-2": 400}}}))
    table = load_latency_table(table_path)
    with local_gateway(slow, count=1, regions=("us-west-2",), ingress="eu-west-1", table=table, add_latency=True) as g:
        sent = time.monotonic()
        replies = exchange(g.port, [b"packet_1"], wait=10)
        elapsed = time.monotonic() - sent
    assert replies == [b"1 us-west-2\n"]
    assert elapsed >= 0.8


def test_a_latency_table_without_the_needed_pair_is_one_clear_error(tmp_path):
    table_path = tmp_path / "rtt.json"
    table_path.write_text(json.dumps({"rtt_ms": {"eu-west-1": {"us-west-2": "far"}}}))
    with pytest.raises(RoutingError) as raised:
        load_latency_table(table_path)
    assert [str(p) for p in raised.value.problems] == [
        f"{table_path}: rtt_ms.eu-west-1.us-west-2: expected milliseconds >= 0, got 'far'"
    ]
    table_path.write_text(json.dumps({"rtt_ms": {"eu-west-1": {"us-east-1": 80}}}))
    with pytest.raises(RoutingError, match="no latency from eu-west-1 to us-west-2"):
        Router("eu-west-1", ("us-west-2",), load_latency_table(table_path))


def test_an_unknown_ingress_region_is_one_clear_error():
    with pytest.raises(RoutingError) as raised:
        Router("mars-north-1", SEED_REGIONS, load_latency_table())
    [problem] = raised.value.problems
    assert str(problem).startswith("local gateway: ingress mars-north-1 is not a region in ")


def test_route_order_is_proxylitys_own_region_then_star_then_the_nearest():
    table = load_latency_table()
    keys = ["eu-west-1", "*", "us-east-1", "us-west-2"]
    assert route_order("us-west-2", keys, table) == ["us-west-2", "*", "us-east-1", "eu-west-1"]
    assert route_order("us-west-1", keys, table) == ["*", "us-west-2", "us-east-1", "eu-west-1"]
    assert route_order("eu-west-1", ["us-east-1", "us-west-2"], table) == ["us-east-1", "us-west-2"]
    assert route_order("eu-west-1", [], table) == []
    # a key the table cannot place is tried last, in the order given
    assert route_order("us-west-2", ["mars-1", "eu-west-1"], table) == ["eu-west-1", "mars-1"]
