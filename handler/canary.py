"""UDP canary: probe the listener; print the run as CloudWatch EMF log lines."""

import errno
import json
import math
import os
import re
import selectors
import socket
import time

REGION = re.compile(rb"[a-z0-9-]{1,40}")
MS = "Milliseconds"
UNITS = {"Sent": "Count", "Counted": "Count", "LossPercent": "Percent", "RoundTripP50": MS, "RoundTripP99": MS}


def probe(host, port, packets, wait):
    """`packets` probes to host:port, a socket each, opened first: out of files raises (it is no loss)."""
    res = dict.fromkeys(("Sent", "Counted", "Duplicates", "Foreign", "Malformed", "Overcounted"), 0)
    trips, served = [], {}
    sel = selectors.DefaultSelector()
    try:
        try:
            family, *_, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            for _ in range(packets):
                sel.register(socket.socket(family, socket.SOCK_DGRAM), selectors.EVENT_READ, [0, False])
            run = os.urandom(4).hex().encode()
            for seq, key in enumerate(sel.get_map().values()):
                key.data[0] = time.monotonic()
                key.fileobj.sendto(b"canary %s %d" % (run, seq), address)
                res["Sent"] += 1
        except OSError as error:  # unknown host, no route
            if error.errno in (errno.EMFILE, errno.ENFILE):
                raise
            res["Error"] = str(error)
        deadline = time.monotonic() + wait
        while res["Counted"] < res["Sent"] and (left := deadline - time.monotonic()) > 0:
            for key, _ in sel.select(left):
                _read(key.fileobj, key.data, address, res, trips, served)
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    res.update(Planned=packets, LossPercent=round(100 - 100 * res["Counted"] / packets, 2), ServedBy=served)
    trips.sort()
    for name, share in (("RoundTripP50", 0.5), ("RoundTripP99", 0.99)) if trips else ():
        res[name] = trips[math.ceil(share * len(trips)) - 1]  # nearest rank
    return res


def _read(sock, state, address, res, trips, served):  # state: [sent at, answered]
    while True:
        try:
            data, source = sock.recvfrom(512, socket.MSG_DONTWAIT)
        except OSError:  # none left, ICMP
            return
        parts = data.split()
        if source[:2] != address[:2]:
            res["Foreign"] += 1
        elif state[1]:
            res["Duplicates"] += 1
        elif len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) < 1 or not REGION.fullmatch(parts[1]):
            res["Malformed"] += 1
        else:
            state[1] = True
            trips.append(round((time.monotonic() - state[0]) * 1000, 3))
            res["Counted"] += 1
            res["Overcounted"] += int(parts[0]) - 1  # a probe is 1 packet
            by = parts[1].decode()
            served[by] = served.get(by, 0) + 1


def emf(res, region, namespace):
    """EMF records: by Region, then by Region and ServedBy."""
    stamp = int(time.time() * 1000)

    def record(dims, names, values):
        metrics = [{"Name": name, "Unit": UNITS.get(name, "Count")} for name in names if name in values]
        directive = {"Namespace": namespace, "Dimensions": [dims], "Metrics": metrics}
        return {"_aws": {"Timestamp": stamp, "CloudWatchMetrics": [directive]}, "Region": region, **values}

    run = {**res, "ServedBy": ",".join(sorted(res["ServedBy"]))}
    records = [record(["Region"], UNITS, run)]
    for by, count in sorted(res["ServedBy"].items()):
        records.append(record(["Region", "ServedBy"], ["Served"], {"ServedBy": by, "Served": count}))
    return records


def handler(event=None, context=None):
    """A run against ENDPOINT (host:port)."""
    host, _, port = os.environ["ENDPOINT"].rpartition(":")
    res = probe(host.strip("[]"), int(port), int(os.environ["PACKETS"]), float(os.environ["WAIT_SECONDS"]))
    for record in emf(res, os.environ.get("AWS_REGION", "local"), os.environ["NAMESPACE"]):
        print(json.dumps(record, separators=(",", ":")))
    return res
