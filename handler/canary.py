"""UDP canary: send probes to the listener, count the packet counter's answers, and print the run as
CloudWatch embedded metric format (EMF) log lines, which CloudWatch turns into metrics without any API call.

How replies are counted. The packet counter answers once per client per batch with "<count> <region>", and a
count does not say which packets it counted. So every probe is sent from a socket of its own: each probe is a
client of its own, which the counter answers alone with "1 <region>" on that socket. A probe is answered by the
first well-formed reply that reaches its socket from the address it was sent to, before the deadline. Anything
else that reaches a probe's socket is counted apart and never as an answer:

- a datagram from any other address is "foreign";
- a second reply on a socket already answered is a "duplicate";
- anything but "<count> <region>" is "malformed";
- a count above 1 is "overcounted" by the surplus (a probe is one packet).

Loss is the share of the planned probes left unanswered, including any that could not be sent. Overlapping runs
do not disturb each other: every run's probes are sockets of its own, tagged with the run's random id.

This file runs both as the canary function's inline code (handler) and from the generator (probe and emf).
"""

import errno
import json
import math
import os
import re
import selectors
import socket
import time

# A region name as the packet counter writes it in its reply.
REGION_NAME = re.compile(rb"[a-z0-9-]{1,40}")
LARGEST_REPLY_BYTES = 512

# The metrics of a run's summary record, in the order they are declared, with their CloudWatch units.
RUN_METRIC_UNITS = {
    "Sent": "Count",
    "Counted": "Count",
    "LossPercent": "Percent",
    "RoundTripP50": "Milliseconds",
    "RoundTripP99": "Milliseconds",
}
ODD_REPLY_KINDS = ("Duplicates", "Foreign", "Malformed", "Overcounted")
# Running out of file descriptors is the canary's own failure, not loss on the network: it is raised.
OUT_OF_FILES = (errno.EMFILE, errno.ENFILE)


class Probe:
    """One probe: its socket, when it was sent, and whether it has been answered."""

    def __init__(self, family):
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.sent_at = None
        self.answered = False


def probe(host, port, packets, wait_seconds):
    """Send `packets` probes to host:port, each from a socket of its own, and wait at most `wait_seconds` after
    the last one for the answers. Every socket is opened before the first probe goes, so running out of
    sockets raises OSError (EMFILE/ENFILE) with nothing sent. Returns the run's figures as a dict."""
    result = {"Sent": 0, "Counted": 0, **dict.fromkeys(ODD_REPLY_KINDS, 0)}
    round_trips_ms = []
    answers_by_region = {}
    selector = selectors.DefaultSelector()
    address = None
    try:
        try:
            family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            for _ in range(packets):
                new_probe = Probe(family)
                selector.register(new_probe.socket, selectors.EVENT_READ, new_probe)
            run_id = os.urandom(4).hex()
            for sequence, key in enumerate(selector.get_map().values()):
                this_probe = key.data
                this_probe.sent_at = time.monotonic()
                this_probe.socket.sendto(f"canary {run_id} {sequence}".encode(), address)
                result["Sent"] += 1
        except OSError as error:
            if error.errno in OUT_OF_FILES:
                raise
            result["Error"] = str(error)  # a host that does not resolve, no route: the probes not sent are lost

        deadline = time.monotonic() + wait_seconds
        while result["Counted"] < result["Sent"]:
            time_left = deadline - time.monotonic()
            if time_left <= 0:
                break
            for key, _ in selector.select(time_left):
                _read_replies(key.data, address, result, round_trips_ms, answers_by_region)
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        selector.close()

    result["Planned"] = packets
    result["LossPercent"] = round(100 - 100 * result["Counted"] / packets, 2)
    result["ServedBy"] = answers_by_region
    if round_trips_ms:
        round_trips_ms.sort()
        result["RoundTripP50"] = _nearest_rank(round_trips_ms, 0.50)
        result["RoundTripP99"] = _nearest_rank(round_trips_ms, 0.99)
    return result


def _nearest_rank(sorted_values, share):
    """The nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    return sorted_values[math.ceil(share * len(sorted_values)) - 1]


def _read_replies(this_probe, address, result, round_trips_ms, answers_by_region):
    """Read every datagram waiting on a probe's socket and sort each into answer, duplicate, foreign or
    malformed."""
    while True:
        try:
            data, source = this_probe.socket.recvfrom(LARGEST_REPLY_BYTES, socket.MSG_DONTWAIT)
        except OSError:  # nothing left to read, or an ICMP error for this socket
            return
        # Compare host and port only: an IPv6 address also carries flow info and scope id.
        if source[:2] != address[:2]:
            result["Foreign"] += 1
            continue
        if this_probe.answered:
            result["Duplicates"] += 1
            continue
        reply = _parse_reply(data)
        if reply is None:
            result["Malformed"] += 1
            continue
        count, region = reply
        this_probe.answered = True
        round_trips_ms.append(round((time.monotonic() - this_probe.sent_at) * 1000, 3))
        result["Counted"] += 1
        result["Overcounted"] += count - 1
        answers_by_region[region] = answers_by_region.get(region, 0) + 1


def _parse_reply(data):
    """(count, region) from a reply "<count> <region>", or None when it is anything else."""
    words = data.split()
    if len(words) != 2:
        return None
    count_text, region = words
    if not count_text.isdigit() or int(count_text) < 1 or not REGION_NAME.fullmatch(region):
        return None
    return int(count_text), region.decode()


def emf(result, region, namespace):
    """The run as EMF records: one with the run's figures by Region, then one per serving region with the
    number of probes it answered, by Region and ServedBy (so a fallback to another region shows as a new
    ServedBy)."""
    timestamp_ms = int(time.time() * 1000)

    def record(dimensions, metric_names, values):
        metrics = [
            {"Name": name, "Unit": RUN_METRIC_UNITS.get(name, "Count")} for name in metric_names if name in values
        ]
        directive = {"Namespace": namespace, "Dimensions": [dimensions], "Metrics": metrics}
        return {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]}, "Region": region, **values}

    answers_by_region = result["ServedBy"]
    run_values = {**result, "ServedBy": ",".join(sorted(answers_by_region))}
    records = [record(["Region"], RUN_METRIC_UNITS, run_values)]
    for serving_region, answered in sorted(answers_by_region.items()):
        values = {"ServedBy": serving_region, "Served": answered}
        records.append(record(["Region", "ServedBy"], ["Served"], values))
    return records


def handler(event=None, context=None):
    """One run against the environment's ENDPOINT (host:port), logged as EMF lines; returns the figures."""
    host, _, port = os.environ["ENDPOINT"].rpartition(":")
    result = probe(
        host.strip("[]"),  # an IPv6 literal is written [address]:port
        int(port),
        int(os.environ["PACKETS"]),
        float(os.environ["WAIT_SECONDS"]),
    )
    for record in emf(result, os.environ.get("AWS_REGION", "local"), os.environ["NAMESPACE"]):
        print(json.dumps(record, separators=(",", ":")))
    return result
