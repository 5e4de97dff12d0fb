"""The default config renders the seed's templates (Proxylity's packet-counter-multi-region example), bar the
listed differences."""

from __future__ import annotations

import json

import pytest

from generator.config import load_config
from generator.render import render_templates
from tests.support.checkout import DEFAULT_CONFIG, HANDLER_FILE

# What we changed on purpose, and why (also in the README's "What differs from the seed").
DELIBERATE_DIFFERENCES = {
    "function": "plain AWS::Lambda::Function + AWS::IAM::Role + AWS::Logs::LogGroup instead of the SAM transform:"
    " no packaging bucket, a log group with retention, a least-privilege role",
    "function name": "named <name_prefix> so the global role can be scoped to it (IAM role names left to CFN)",
    "formatter": "Formatter written out (base64, Proxylity's default) so the handler's input format is explicit",
    "domains": "ClientRestrictions.Domains written out as [] (the seed leaves it out)",
    "counting": "the handler counts per source IP and port, not per source IP",
}

PROXYLITY_MAPPING = {
    "ProxylityConfig": {
        "Fn::Transform": {
            "Name": "AWS::Include",
            "Parameters": {
                "Location": {"Fn::Sub": "s3://proxylity-config-${AWS::Region}/${AWS::AccountId}/customer-config.json"}
            },
        }
    }
}
PEER_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="  # `wg pubkey` output: base64 of 32 bytes
SERVICE_TOKEN = {"Fn::FindInMap": ["ProxylityConfig", {"Ref": "AWS::Region"}, "ServiceToken"]}
API_KEY = {"Fn::FindInMap": ["ProxylityConfig", "Account", "ApiKey"]}


@pytest.fixture(scope="module")
def seed_templates():
    global_template, regional_template = render_templates(load_config(DEFAULT_CONFIG))
    return global_template.document, regional_template.document


def test_default_config_is_the_seed_deployment():
    config = load_config(DEFAULT_CONFIG)
    assert config.home_region == "us-west-2"
    assert config.regions == ("us-west-2", "us-east-1", "eu-west-1")
    assert config.routing == "bind"
    assert config.listener.client_networks == ("0.0.0.0/0",)
    assert config.listener.protocols == ("udp",)
    assert config.destination.metrics_enabled is True
    assert (config.destination.batching.count, config.destination.batching.timeout_in_seconds) == (10, 1)
    assert (config.global_stack_name, config.regional_stack_name) == ("packet-counter-global", "packet-counter-region")


def test_global_template_has_the_seed_listener_and_destination(seed_templates):
    global_document, _ = seed_templates
    assert global_document["Mappings"] == PROXYLITY_MAPPING
    assert sorted(global_document["Resources"]) == ["DestinationRole", "UdpListener"]
    listener = global_document["Resources"]["UdpListener"]
    assert listener["Type"] == "Custom::ProxylityUdpGatewayListener"
    properties = listener["Properties"]
    assert properties["ServiceToken"] == SERVICE_TOKEN
    assert properties["ApiKey"] == API_KEY
    assert properties["Protocols"] == ["udp"]
    assert properties["ClientRestrictions"] == {"Networks": ["0.0.0.0/0"], "Domains": []}
    [destination] = properties["Destinations"]
    assert destination["Role"] == {"Arn": {"Fn::GetAtt": ["DestinationRole", "Arn"]}}
    assert destination["Batching"] == {"Count": 10, "TimeoutInSeconds": 1}
    assert destination["MetricsEnabled"] is True
    assert destination["DestinationArn"] == {}  # bind: each region binds its own function later
    assert isinstance(destination["Description"], str) and destination["Description"]


def test_global_outputs_are_the_seeds(seed_templates):
    outputs = seed_templates[0]["Outputs"]
    assert {name: output["Value"] for name, output in outputs.items()} == {
        "Domain": {"Fn::Sub": "${UdpListener.Domain}.proxylity.com"},
        "Port": {"Fn::GetAtt": ["UdpListener", "Port"]},
        "Endpoint": {"Fn::Sub": "${UdpListener.Domain}.proxylity.com:${UdpListener.Port}"},
        "DestinationId": {"Fn::Select": [0, {"Fn::GetAtt": ["UdpListener", "DestinationNames"]}]},
    }


def test_destination_role_is_trusted_only_by_proxylity_and_may_only_invoke_the_counter(seed_templates):
    role = seed_templates[0]["Resources"]["DestinationRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::FindInMap": ["ProxylityConfig", {"Ref": "AWS::Region"}, "ServiceRole"]}},
        "Action": "sts:AssumeRole",
    }
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert [s["Action"] for s in statements] == ["lambda:InvokeFunction", "cloudwatch:PutMetricData"]
    assert statements[0]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:packet-counter"
    }
    assert "RoleName" not in role  # IAM is global: a fixed name would collide


def test_regional_template_binds_its_own_function_in_its_own_region(seed_templates):
    regional = seed_templates[1]
    assert "Transform" not in regional  # no SAM: deployable without a packaging bucket
    assert regional["Mappings"] == PROXYLITY_MAPPING
    assert regional["Parameters"]["DestinationId"]["Type"] == "String"
    resources = regional["Resources"]
    assert {name: r["Type"] for name, r in resources.items()} == {
        "FunctionLogGroup": "AWS::Logs::LogGroup",
        "FunctionRole": "AWS::IAM::Role",
        "PacketCounterFunction": "AWS::Lambda::Function",
        "DestinationArnBinding": "Custom::ProxylityUdpGatewayDestinationArn",
    }
    assert resources["DestinationArnBinding"]["Properties"] == {
        "ServiceToken": SERVICE_TOKEN,
        "ApiKey": API_KEY,
        "Destination": {"Ref": "DestinationId"},
        "IngressRegionKey": {"Ref": "AWS::Region"},
        "Arn": {"Fn::GetAtt": ["PacketCounterFunction", "Arn"]},
    }
    assert regional["Outputs"]["FunctionArn"]["Value"] == {"Fn::GetAtt": ["PacketCounterFunction", "Arn"]}


def test_function_embeds_the_handler_file_verbatim_with_least_privilege(seed_templates):
    resources = seed_templates[1]["Resources"]
    function = resources["PacketCounterFunction"]["Properties"]
    assert function["Code"]["ZipFile"] == HANDLER_FILE.read_text(encoding="utf-8")
    assert (function["Handler"], function["Runtime"]) == ("index.handler", "python3.13")
    assert "ReservedConcurrentExecutions" not in function  # unset by default
    role = resources["FunctionRole"]["Properties"]
    assert "RoleName" not in role
    [statement] = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}
    log_group = resources["FunctionLogGroup"]["Properties"]
    assert log_group == {"LogGroupName": "/aws/lambda/packet-counter", "RetentionInDays": 14}


def test_map_routing_lists_every_region_and_grants_exactly_those(write_config):
    config = load_config(write_config(lambda c: c.update(routing="map")))
    global_document, regional = (t.document for t in render_templates(config))
    [destination] = global_document["Resources"]["UdpListener"]["Properties"]["Destinations"]
    expected = {
        region: {"Fn::Sub": f"arn:${{AWS::Partition}}:lambda:{region}:${{AWS::AccountId}}:function:packet-counter"}
        for region in ("us-west-2", "us-east-1", "eu-west-1")
    }
    assert destination["DestinationArn"] == expected
    invoke = global_document["Resources"]["DestinationRole"]["Properties"]["Policies"][0]
    assert invoke["PolicyDocument"]["Statement"][0]["Resource"] == list(expected.values())
    assert "DestinationArnBinding" not in regional["Resources"]
    assert "Parameters" not in regional and "Mappings" not in regional


def test_every_setting_reaches_the_templates(write_config):
    def edit(c):
        c["name_prefix"] = "pc"
        c["listener"].update(name="edge", protocols=["udp", "wg"], client_networks=["10.0.0.0/8", "2001:db8::/32"])
        c["listener"]["client_domains"] = ["example.com"]
        c["listener"]["wireguard"] = {
            "peers": [{"public_key": PEER_KEY, "allowed_ips": ["10.10.10.2/32", "fd00::2/128"]}],
            "decapsulated_delivery": True,
        }
        c["destination"].update(name="counter", formatter="hex", metrics_enabled=False)
        c["destination"]["batching"] = {"count": 1000, "timeout_in_seconds": 0.1, "size_in_mb": 0.5}
        c["function"] = {
            "runtime": "python3.12",
            "architecture": "arm64",
            "memory_mb": 256,
            "timeout_seconds": 30,
            "reserved_concurrency": 5,
            "log_retention_days": 30,
        }
        c["tags"] = {"team": "net", "cost-center": "1234"}

    global_document, regional = (t.document for t in render_templates(load_config(write_config(edit))))
    listener = global_document["Resources"]["UdpListener"]["Properties"]
    assert listener["ListenerName"] == "edge"
    assert listener["Protocols"] == ["udp", "wg"]
    assert listener["ClientRestrictions"] == {"Networks": ["10.0.0.0/8", "2001:db8::/32"], "Domains": ["example.com"]}
    assert listener["Peers"] == [{"PublicKey": PEER_KEY, "AllowedIPs": ["10.10.10.2/32", "fd00::2/128"]}]
    assert listener["DecapsulatedDelivery"] is True
    assert global_document["Outputs"]["WireGuardPublicKey"]["Value"] == {
        "Fn::GetAtt": ["UdpListener", "WireGuardPublicKey"]
    }
    [destination] = listener["Destinations"]
    assert (destination["Name"], destination["Formatter"], destination["MetricsEnabled"]) == ("counter", "hex", False)
    assert destination["Batching"] == {"Count": 1000, "TimeoutInSeconds": 0.1, "SizeInMb": 0.5}
    role_policies = global_document["Resources"]["DestinationRole"]["Properties"]["Policies"]
    assert [p["PolicyName"] for p in role_policies] == ["invoke-packet-counter"]  # no metrics, no PutMetricData
    function = regional["Resources"]["PacketCounterFunction"]["Properties"]
    assert function["FunctionName"] == "pc"
    assert (function["Runtime"], function["Architectures"], function["MemorySize"]) == ("python3.12", ["arm64"], 256)
    assert (function["Timeout"], function["ReservedConcurrentExecutions"]) == (30, 5)
    assert regional["Resources"]["FunctionLogGroup"]["Properties"]["RetentionInDays"] == 30
    tags = [{"Key": "team", "Value": "net"}, {"Key": "cost-center", "Value": "1234"}]
    for resource in ("FunctionLogGroup", "FunctionRole", "PacketCounterFunction"):
        assert regional["Resources"][resource]["Properties"]["Tags"] == tags
    assert global_document["Resources"]["DestinationRole"]["Properties"]["Tags"] == tags


def test_rendering_is_deterministic_and_pretty(tmp_path):
    first = [t.to_json() for t in render_templates(load_config(DEFAULT_CONFIG))]
    second = [t.to_json() for t in render_templates(load_config(DEFAULT_CONFIG))]
    assert first == second
    for text in first:
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
