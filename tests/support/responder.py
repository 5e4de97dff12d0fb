"""A UDP responder on loopback that answers canary probes the way a faulty network or gateway might: it drops,
repeats, misroutes and garbles replies, answers from the wrong address, and lets a stranger write to a probe.

Each probe `canary <run> <seq>` gets the behaviour BEHAVIOURS[seq % len(BEHAVIOURS)]. Replies go out as the
probes arrive (synchronised on them, never on time), except the "delayed" ones, sent once every probe is in.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# What happens to each probe, and what the canary must make of it.
BEHAVIOURS = (
    "delayed",  # answered once all probes are in: counted
    "dropped",  # never answered: lost
    "repeated",  # answered twice: counted once, one duplicate
    "wrong-source",  # answered from another port of the responder: lost, one foreign
    "misrouted",  # its answer goes to the socket of this cycle's first probe: lost, one duplicate there
    "stranger-first",  # a stranger writes to its socket, then it is answered: counted, one foreign
    "garbled-first",  # "garbage", then answered by eu-west-1: counted, one malformed, served by eu-west-1
    "overcounted",  # answered "3 us-west-2": counted once, two overcounted
)


@contextmanager
def faulty_responder(probes: int) -> Iterator[tuple[int, threading.Event]]:
    """Yields (port, done): `done` is set once the replies to all `probes` probes are out."""
    main = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for sock in (main, other, stranger):
        sock.bind(("127.0.0.1", 0))
    main.settimeout(30)  # bounds a broken test; the replies are sent as probes arrive
    done = threading.Event()

    def serve() -> None:
        delayed: list[tuple] = []
        first_of_cycle: tuple | None = None
        try:
            for _ in range(probes):
                data, client = main.recvfrom(512)
                seq = int(data.split()[2])
                behaviour = BEHAVIOURS[seq % len(BEHAVIOURS)]
                if seq % len(BEHAVIOURS) == 0:
                    first_of_cycle = client
                if behaviour == "delayed":
                    delayed.append(client)
                elif behaviour == "repeated":
                    main.sendto(b"1 us-west-2\n", client)
                    main.sendto(b"1 us-west-2\n", client)
                elif behaviour == "wrong-source":
                    other.sendto(b"1 us-west-2\n", client)
                elif behaviour == "misrouted":
                    main.sendto(b"1 us-west-2\n", first_of_cycle)
                elif behaviour == "stranger-first":
                    stranger.sendto(b"1 us-west-2\n", client)
                    main.sendto(b"1 us-west-2\n", client)
                elif behaviour == "garbled-first":
                    main.sendto(b"garbage", client)
                    main.sendto(b"1 eu-west-1\n", client)
                elif behaviour == "overcounted":
                    main.sendto(b"3 us-west-2\n", client)
            for client in delayed:
                main.sendto(b"1 us-west-2\n", client)
        except OSError:
            return  # closed, or the test gave up
        finally:
            done.set()

    thread = threading.Thread(target=serve, name="test-responder", daemon=True)
    thread.start()
    try:
        yield main.getsockname()[1], done
    finally:
        for sock in (main, other, stranger):
            sock.close()
        thread.join(timeout=30)
