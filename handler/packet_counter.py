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
    counts = {}
    tags = {}
    for message in messages:
        try:
            remote = message["Remote"]
            client = (remote["IpAddress"], remote["Port"])
            tag = message["Tag"]
            if client in counts:
                counts[client] += 1
            else:
                counts[client] = 1
                tags[client] = tag
        except (KeyError, TypeError, IndexError):
            continue  # not a message we can answer: skip it
    now = datetime.now(UTC).isoformat()
    # Read per batch, not at import, so one process can serve several regions.
    suffix = " " + os.environ.get("AWS_REGION", "unknown") + "\n"
    return {
        "Replies": [
            {
                "Tag": tags[client],
                "Data": b64encode((str(count) + suffix).encode()).decode(),
                "GeneratedAt": now,
            }
            for client, count in counts.items()
        ]
    }
