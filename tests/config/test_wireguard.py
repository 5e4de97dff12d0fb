"""A WireGuard listener: peers (public key + allowed IPs), decapsulated delivery and the listener's own
public key as an output; a listener that lists wg without peers would serve no one and is refused."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from generator.config import load_config
from generator.render import render_templates
from tests.support.config_files import config_problems

# As `wg pubkey` prints them: base64 of 32 bytes.
PEER_A = base64.b64encode(bytes(range(32))).decode()
PEER_B = base64.b64encode(bytes(range(32, 64))).decode()
HEAD = "regions: [us-west-2, eu-west-1]\n"
ONE_PEER = f"{{public_key: '{PEER_A}', allowed_ips: [10.0.0.2/32]}}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    return config_problems(write(tmp_path, text))


def test_peers_decapsulated_delivery_and_the_listener_key_reach_the_global_template(tmp_path):
    config = load_config(
        write(
            tmp_path,
            "listener:\n"
            "  protocols: [wg]\n"
            "  wireguard:\n"
            "    decapsulated_delivery: true\n"
            "    peers:\n"
            f"      - public_key: {PEER_A}\n"
            "        allowed_ips: [10.10.10.2/32, 'fd00::2/128']\n"
            f"      - public_key: {PEER_B}\n"
            "        allowed_ips: [10.10.10.3/32]\n",
        )
    )
    global_template, regional = (template.document for template in render_templates(config))
    listener = global_template["Resources"]["UdpListener"]["Properties"]
    assert listener["Protocols"] == ["wg"]
    assert listener["Peers"] == [
        {"PublicKey": PEER_A, "AllowedIPs": ["10.10.10.2/32", "fd00::2/128"]},
        {"PublicKey": PEER_B, "AllowedIPs": ["10.10.10.3/32"]},
    ]
    assert listener["DecapsulatedDelivery"] is True
    output = global_template["Outputs"]["WireGuardPublicKey"]
    assert output["Value"] == {"Fn::GetAtt": ["UdpListener", "WireGuardPublicKey"]}
    assert "Peers" not in str(regional)  # the regional stacks do not change with the peers


def test_decapsulated_delivery_defaults_to_off(tmp_path):
    config = load_config(
        write(
            tmp_path,
            f"listener: {{protocols: [wg], wireguard: {{peers: [{ONE_PEER}]}}}}\n",
        )
    )
    listener = render_templates(config)[0].document["Resources"]["UdpListener"]["Properties"]
    assert listener["DecapsulatedDelivery"] is False


def test_a_udp_listener_has_no_wireguard_properties_or_output(tmp_path):
    global_template = render_templates(load_config(write(tmp_path, "")))[0].document
    assert "Peers" not in global_template["Resources"]["UdpListener"]["Properties"]
    assert "DecapsulatedDelivery" not in global_template["Resources"]["UdpListener"]["Properties"]
    assert "WireGuardPublicKey" not in global_template["Outputs"]


@pytest.mark.parametrize(
    ("listener_yaml", "expected"),
    [
        (
            "{protocols: [wg]}",
            "cfg.yaml:2: listener.protocols: 'wg' needs listener.wireguard.peers (each a public_key and allowed_ips):"
            " a WireGuard listener without peers can serve no one",
        ),
        (
            "{protocols: [udp, wg]}",
            "cfg.yaml:2: listener.protocols: 'wg' needs listener.wireguard.peers",
        ),
        (
            f"{{wireguard: {{peers: [{{public_key: '{PEER_A}', allowed_ips: [10.0.0.2/32]}}]}}}}",
            "cfg.yaml:2: listener.wireguard: listener.wireguard is set but protocols does not list wg",
        ),
        (
            f"{{protocols: [udp], wireguard: {{peers: [{{public_key: '{PEER_A}', allowed_ips: [10.0.0.2/32]}}]}}}}",
            "cfg.yaml:2: listener.protocols: listener.wireguard is set but protocols does not list wg",
        ),
        ("{protocols: [wg], wireguard: {peers: []}}", "cfg.yaml:2: listener.wireguard.peers: expected at least 1 item"),
    ],
    ids=["wg-without-peers", "udp-and-wg-without-peers", "peers-without-wg", "peers-with-udp-only", "no-peers"],
)
def test_wg_and_peers_go_together(tmp_path, listener_yaml, expected):
    problems = problems_of(tmp_path, f"listener: {listener_yaml}\n")
    assert len(problems) == 1
    assert problems[0].startswith(expected)


@pytest.mark.parametrize(
    ("peer_yaml", "expected"),
    [
        (
            "{public_key: 'not-a-key', allowed_ips: [10.0.0.2/32]}",
            "listener.wireguard.peers[0].public_key: expected a WireGuard public key: 44 characters of base64",
        ),
        (
            f"{{public_key: '{base64.b64encode(bytes(31)).decode()}', allowed_ips: [10.0.0.2/32]}}",
            "listener.wireguard.peers[0].public_key: expected a WireGuard public key",
        ),
        (
            f"{{public_key: '{PEER_A[:-2]}B=', allowed_ips: [10.0.0.2/32]}}",  # 33rd byte bits set: not 32 bytes
            "listener.wireguard.peers[0].public_key: expected a WireGuard public key",
        ),
        (f"{{public_key: '{PEER_A}'}}", "listener.wireguard.peers[0].allowed_ips: is required but missing"),
        (
            f"{{public_key: '{PEER_A}', allowed_ips: [10.0.0.1/8]}}",
            "listener.wireguard.peers[0].allowed_ips[0]: '10.0.0.1/8' is not a valid network: 10.0.0.1/8 has host"
            " bits set",
        ),
        (
            f"{{public_key: '{PEER_A}', allowed_ips: ['fd00::%wg0/64']}}",
            "listener.wireguard.peers[0].allowed_ips[0]: 'fd00::%wg0/64' names a network interface zone",
        ),
        (
            f"{{public_key: '{PEER_A}', allowed_ips: [10.0.0.2/32], preshared_key: x}}",
            "listener.wireguard.peers[0].preshared_key: unknown key",
        ),
    ],
    ids=["not-base64", "31-bytes", "not-32-bytes", "no-allowed-ips", "host-bits", "zone", "unknown-key"],
)
def test_a_peer_must_have_a_real_key_and_networks(tmp_path, peer_yaml, expected):
    problems = problems_of(tmp_path, f"listener: {{protocols: [wg], wireguard: {{peers: [{peer_yaml}]}}}}\n")
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"cfg.yaml:2: {expected}")


def test_the_same_peer_key_twice_is_refused(tmp_path):
    problems = problems_of(
        tmp_path,
        "listener:\n"
        "  protocols: [wg]\n"
        "  wireguard:\n"
        "    peers:\n"
        f"      - {{public_key: '{PEER_A}', allowed_ips: [10.0.0.2/32]}}\n"
        f"      - {{public_key: '{PEER_A}', allowed_ips: [10.0.0.3/32]}}\n",
    )
    assert problems == [
        f"cfg.yaml:7: listener.wireguard.peers[1].public_key: '{PEER_A}' is the same public key as"
        " listener.wireguard.peers[0].public_key, line 6"
    ]


def peers_yaml(*allowed_ips: list[str]) -> str:
    """A wg listener whose peer i (each with a key of its own) has allowed_ips[i]; peer i's list is on line 7 + 2i."""
    text = "listener:\n  protocols: [wg]\n  wireguard:\n    peers:\n"
    for index, networks in enumerate(allowed_ips):
        key = base64.b64encode(index.to_bytes(32, "big")).decode()
        text += f"      - public_key: '{key}'\n        allowed_ips: [{', '.join(repr(n) for n in networks)}]\n"
    return text


PEERS = "listener.wireguard.peers"
ROUTING = "WireGuard routes each address to one peer only; give each peer addresses of its own"


@pytest.mark.parametrize(
    ("allowed_ips", "expected"),
    [
        (
            [["10.0.0.0/24"], ["10.0.0.0/24"]],
            f"cfg.yaml:9: {PEERS}[1].allowed_ips[0]: 10.0.0.0/24 of peers[1] is the same network as 10.0.0.0/24 of"
            f" peers[0] ({PEERS}[0].allowed_ips[0], line 7): {ROUTING}",
        ),
        (
            [["10.0.0.0/24"], ["192.0.2.0/24", "10.0.0.128/25"]],
            f"cfg.yaml:9: {PEERS}[1].allowed_ips[1]: 10.0.0.128/25 of peers[1] overlaps 10.0.0.0/24 of peers[0]"
            f" ({PEERS}[0].allowed_ips[0], line 7): both hold 10.0.0.128/25, and {ROUTING}",
        ),
        (
            [["10.0.0.128/25"], ["10.0.0.0/24"]],  # the larger network later in the file
            f"cfg.yaml:9: {PEERS}[1].allowed_ips[0]: 10.0.0.0/24 of peers[1] overlaps 10.0.0.128/25 of peers[0]"
            f" ({PEERS}[0].allowed_ips[0], line 7): both hold 10.0.0.128/25, and {ROUTING}",
        ),
        (
            [["0.0.0.0/0"], ["fd00::/8"], ["203.0.113.7/32"]],
            f"cfg.yaml:11: {PEERS}[2].allowed_ips[0]: 203.0.113.7/32 of peers[2] overlaps 0.0.0.0/0 of peers[0]"
            f" ({PEERS}[0].allowed_ips[0], line 7): both hold 203.0.113.7/32, and {ROUTING}",
        ),
        (
            [["fd00::/64"], ["fd00::1/128"]],
            f"cfg.yaml:9: {PEERS}[1].allowed_ips[0]: fd00::1/128 of peers[1] overlaps fd00::/64 of peers[0]"
            f" ({PEERS}[0].allowed_ips[0], line 7): both hold fd00::1/128, and {ROUTING}",
        ),
        (
            [["2001:db8::/48"], ["2001:DB8:0:0::/48"]],  # the same network in another spelling
            f"cfg.yaml:9: {PEERS}[1].allowed_ips[0]: 2001:DB8:0:0::/48 of peers[1] is the same network as"
            f" 2001:db8::/48 of peers[0] ({PEERS}[0].allowed_ips[0], line 7): {ROUTING}",
        ),
        (
            [["::/0"], ["10.0.0.0/8", "2001:db8:1::/64"]],
            f"cfg.yaml:9: {PEERS}[1].allowed_ips[1]: 2001:db8:1::/64 of peers[1] overlaps ::/0 of peers[0]"
            f" ({PEERS}[0].allowed_ips[0], line 7): both hold 2001:db8:1::/64, and {ROUTING}",
        ),
    ],
    ids=["same", "inside-an-earlier", "around-an-earlier", "everything", "ipv6", "ipv6-two-spellings", "ipv6-default"],
)
def test_two_peers_sharing_addresses_are_refused_naming_both(tmp_path, allowed_ips, expected):
    assert problems_of(tmp_path, peers_yaml(*allowed_ips)) == [expected]


def test_every_network_shared_with_another_peer_is_reported_once(tmp_path):
    problems = problems_of(
        tmp_path,
        peers_yaml(["10.0.0.0/8", "fd00::/16"], ["10.1.0.0/16", "192.0.2.0/24"], ["10.1.2.0/24", "fd00:1::/32"]),
    )
    assert [problem.split(": ", 2)[1] for problem in problems] == [
        f"{PEERS}[1].allowed_ips[0]",  # 10.1.0.0/16 in peer 0's 10.0.0.0/8
        f"{PEERS}[2].allowed_ips[0]",  # 10.1.2.0/24 in peer 1's 10.1.0.0/16 (the nearest)
        f"{PEERS}[2].allowed_ips[1]",  # fd00:1::/32 in peer 0's fd00::/16
    ]
    assert "10.1.2.0/24 of peers[2] overlaps 10.1.0.0/16 of peers[1]" in problems[1]


@pytest.mark.parametrize(
    "allowed_ips",
    [
        [["10.0.0.0/24", "10.0.0.0/25", "10.0.0.7/32"], ["10.0.1.0/24"]],  # a peer's own networks may overlap
        [["0.0.0.0/0"], ["::/0"]],  # IPv4 and IPv6 never overlap
        [["10.0.0.0/25"], ["10.0.0.128/25"], ["fd00::/64"], ["fd00:0:0:1::/64"]],  # neighbours, not overlaps
    ],
    ids=["within-one-peer", "v4-and-v6", "adjacent"],
)
def test_peers_with_addresses_of_their_own_are_valid(tmp_path, allowed_ips):
    config = load_config(write(tmp_path, peers_yaml(*allowed_ips)))
    assert [peer.allowed_ips for peer in config.listener.wireguard.peers] == [tuple(ips) for ips in allowed_ips]


def test_many_peers_are_checked_and_only_the_shared_address_is_reported(tmp_path):
    addresses = [[f"10.{index // 250}.{index % 250}.1/32"] for index in range(2000)] + [["10.7.99.1/32"]]
    problems = problems_of(tmp_path, peers_yaml(*addresses))
    assert problems == [
        f"cfg.yaml:4007: {PEERS}[2000].allowed_ips[0]: 10.7.99.1/32 of peers[2000] is the same network as"
        f" 10.7.99.1/32 of peers[1849] ({PEERS}[1849].allowed_ips[0], line 3705): {ROUTING}"
    ]
