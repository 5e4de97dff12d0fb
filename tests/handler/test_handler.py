"""The packet counter: one reply per client (IP and port) per batch, "<count> <region>\\n", never raises."""

from __future__ import annotations

import base64
import datetime
import importlib.util
import random

import pytest

from tests.support.checkout import HANDLER_FILE


@pytest.fixture(scope="module")
def handler():
    spec = importlib.util.spec_from_file_location("packet_counter_under_test", HANDLER_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


@pytest.fixture(autouse=True)
def region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


def message(tag: str, ip: str = "198.51.100.7", port: int = 40000, data: bytes = b"packet") -> dict:
    return {
        "Tag": tag,
        "Remote": {"IpAddress": ip, "Port": port},
        "Local": {"Domain": "ingress-1.proxylity.com", "Port": 2000},
        "ReceivedAt": "2026-11-27T10:00:00.000Z",
        "Formatter": "base64",
        "Data": base64.b64encode(data).decode(),
    }


def decoded(replies: dict) -> dict[str, str]:
    return {reply["Tag"]: base64.b64decode(reply["Data"]).decode() for reply in replies["Replies"]}


def test_one_reply_per_client_with_its_count_tagged_with_its_first_packet(handler):
    batch = [
        message("a1"),
        message("b1", ip="203.0.113.9"),
        message("a2"),
        message("a3"),
        message("b2", ip="203.0.113.9"),
    ]
    assert decoded(handler({"Messages": batch})) == {"a1": "3 eu-west-1\n", "b1": "2 eu-west-1\n"}


def test_two_clients_behind_one_nat_get_their_own_answers(handler):
    batch = [message("x", port=1111), message("y", port=2222), message("x2", port=1111)]
    assert decoded(handler({"Messages": batch})) == {"x": "2 eu-west-1\n", "y": "1 eu-west-1\n"}


def test_region_comes_from_the_environment_at_call_time(handler, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert decoded(handler({"Messages": [message("t")]})) == {"t": "1 ap-south-1\n"}


def test_reply_shape_and_timestamp(handler):
    [reply] = handler({"Messages": [message("t")]})["Replies"]
    assert set(reply) == {"Tag", "Data", "GeneratedAt"}
    generated = datetime.datetime.fromisoformat(reply["GeneratedAt"])
    assert generated.tzinfo is not None
    assert abs(datetime.datetime.now(datetime.UTC) - generated) < datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "text",
        42,
        [],
        {},
        {"Tag": "no-remote"},
        {"Remote": {"IpAddress": "1.2.3.4", "Port": 1}},  # no Tag: nobody to answer
        {"Tag": "t", "Remote": "1.2.3.4"},
        {"Tag": "t", "Remote": {"IpAddress": "1.2.3.4"}},
        {"Tag": "t", "Remote": {"IpAddress": ["unhashable"], "Port": 1}},
        {"Tag": "t", "Remote": None},
    ],
)
def test_a_malformed_message_is_skipped_and_the_rest_answered(handler, bad):
    assert decoded(handler({"Messages": [message("ok1"), bad, message("ok2")]})) == {"ok1": "2 eu-west-1\n"}


@pytest.mark.parametrize("event", [None, [], "x", {}, {"Messages": None}, {"Messages": "abc"}, {"Messages": {}}])
def test_an_event_without_a_messages_list_gives_no_replies(handler, event):
    assert handler(event) == {"Replies": []}


def test_a_message_without_a_tag_is_not_counted_even_from_a_known_client(handler):
    untagged = message("ignored")
    del untagged["Tag"]
    assert decoded(handler({"Messages": [message("a"), untagged, message("b")]})) == {"a": "2 eu-west-1\n"}


def test_a_10000_message_batch_counts_every_packet(handler):
    rng = random.Random(7)
    clients = [(f"10.0.{i // 250}.{i % 250}", 30000 + i % 7) for i in range(1000)]
    expected: dict[tuple[str, int], int] = {}
    first_tag: dict[tuple[str, int], str] = {}
    batch = []
    for index in range(10_000):
        client = rng.choice(clients)
        tag = f"t{index}"
        expected[client] = expected.get(client, 0) + 1
        first_tag.setdefault(client, tag)
        batch.append(message(tag, *client))
    replies = decoded(handler({"Messages": batch}))
    assert replies == {first_tag[c]: f"{n} eu-west-1\n" for c, n in expected.items()}
    assert sum(int(text.split()[0]) for text in replies.values()) == 10_000
