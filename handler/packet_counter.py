"""Packet counter: answer each client once per batch with "<count> <region>\n".

Proxylity UDP Gateway delivers a batch as {"Messages": [...]}. A client is a source
IP address and port, so two clients behind one NAT each get their own answer. The
reply carries the Tag of the client's first packet in the batch, which is how the
gateway knows where to send it. Malformed messages are skipped, never raised on.

This file is embedded verbatim as the function's inline code (index.py).
"""

import os
from base64 import b64encode
from datetime import UTC, datetime


def handler(event, context=None):
    messages = event.get("Messages") if isinstance(event, dict) else None
    if not isinstance(messages, list):
        return {"Replies": []}
    # {ip: {port: [count, first tag]}}. Keyed by IP, then port, rather than by an
    # (ip, port) tuple: no tuple to build and hash per packet, which is most of the cost.
    clients = {}
    for message in messages:
        try:
            tag = message["Tag"]
            remote = message["Remote"]
            ip = remote["IpAddress"]
            port = remote["Port"]
            ports = clients.get(ip)
            if ports is None:
                clients[ip] = {port: [1, tag]}
            else:
                seen = ports.get(port)
                if seen is None:
                    ports[port] = [1, tag]
                else:
                    seen[0] += 1
        except (KeyError, TypeError, IndexError):
            continue  # not a message we can answer: skip it
    now = datetime.now(UTC).isoformat()
    # Read per batch, not at import, so one process can serve several regions.
    suffix = " " + os.environ.get("AWS_REGION", "unknown") + "\n"
    answers = {}  # many clients share a count: encode each distinct answer once
    replies = []
    for ports in clients.values():
        for count, tag in ports.values():
            data = answers.get(count)
            if data is None:
                data = answers[count] = b64encode((str(count) + suffix).encode()).decode()
            replies.append({"Tag": tag, "Data": data, "GeneratedAt": now})
    return {"Replies": replies}
