"""The local cloud serves every listener a deploy creates, as the seed's walkthrough does on AWS: a client that
resolves the Endpoint of out/outputs.json through the system resolver sees every packet counted in the home
region; with the home region's stack deleted, by the next nearest region; the functions' lines reach CloudWatch
Logs in their regions; after destroy nothing answers. Packets go where the deployed state says: batching and
function code as deployed now, the bindings and the map that exist, `*` before the nearest region.

Real parts throughout: the deploy CLI against the local cloud of this test process, real UDP on loopback, the
functions in processes of their own, `local-names` making a private mount namespace (skipped where the kernel
allows none)."""

from __future__ import annotations

import io
import json
import socket
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from generator.local.cloud.stand_in import DESTINATION_ARN_TYPE
from tests.support.cli import run_cli, run_cli_in_process
from tests.support.deploy import FAST, deploy_cli, local_cloud_fixtures, wait_for
from tests.support.udp import exchange

# moto has no CloudFormation model of the canary's EventInvokeConfig and skips it, saying so.
pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS\W+Lambda\W+EventInvokeConfig")
local_cloud, cloud = local_cloud_fixtures()
HOME, NEXT_NEAREST = "us-west-2", "us-east-1"  # us-east-1 is 54.5 ms from us-west-2, eu-west-1 111.7 ms

# A client of its own, standing in for the seed's packet_counter_test.py: the Endpoint from outputs.json, the
# system resolver (getaddrinfo), packet_1..N from one socket, replies "<count> <region>" summed per region until
# every packet is counted (or 30 s, a bound, pass; the test then fails on the count).
CLIENT = """
import json, socket, sys, time
outputs = json.load(open(sys.argv[1]))
host, port = outputs["Endpoint"].rsplit(":", 1)
packets = int(sys.argv[2])
family, _, _, _, address = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0]
sock = socket.socket(family, socket.SOCK_DGRAM)
for number in range(1, packets + 1):
    sock.sendto(b"packet_%d" % number, address)
counted, deadline = {}, time.monotonic() + 30
while sum(counted.values()) < packets and time.monotonic() < deadline:
    sock.settimeout(deadline - time.monotonic())
    try:
        count, region = sock.recv(1024).decode().split()
    except socket.timeout:
        break
    counted[region] = counted.get(region, 0) + int(count)
print(json.dumps({"host": host, "address": address[0], "counted": counted}))
"""


def outputs_of(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "outputs.json").read_text())


def send(tmp_path: Path, packets: int = 20) -> dict[str, int]:
    """packet_1..N to the deployed listener's port on loopback: the packets counted per region."""
    replies = exchange(outputs_of(tmp_path)["Port"], [b"packet_%d" % n for n in range(1, packets + 1)])
    counted: dict[str, int] = {}
    for reply in replies:
        count, region = reply.decode().split()
        counted[region] = counted.get(region, 0) + int(count)
    return counted


def system_resolver_client(tmp_path: Path, packets: int = 100) -> dict:
    """CLIENT run through `local-names -- ...`: it resolves the listener's name as it resolves any name."""
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    ran = run_cli("local-names", "--", sys.executable, script, tmp_path / "out" / "outputs.json", str(packets))
    if "a hosts file of its own here" in ran.stderr:
        pytest.skip(f"no private mount namespace here: {ran.stderr.strip()}")
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_the_seeds_walkthrough_a_client_resolving_the_endpoint_sees_home_then_the_next_nearest(
    cloud, write_config, tmp_path
):
    config = write_config(lambda data: data.update(regions=[HOME, NEXT_NEAREST, "eu-west-1"]))
    assert deploy_cli(config, tmp_path).returncode == 0

    first = system_resolver_client(tmp_path)
    assert first["host"].endswith(".proxylity.com") and first["address"] in ("127.0.0.1", "::1")
    assert first["counted"] == {HOME: 100}

    destroyed = run_cli_in_process("destroy", "--config", config, "--out", tmp_path / "out", "--regions", HOME, "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    assert system_resolver_client(tmp_path)["counted"] == {NEXT_NEAREST: 100}


def test_logs_show_the_counter_of_two_regions(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(regions=[HOME, NEXT_NEAREST]))
    assert deploy_cli(config, tmp_path).returncode == 0
    assert send(tmp_path) == {HOME: 20}
    cloud.set_ingress(NEXT_NEAREST)  # packets now enter where the other region is nearest
    try:
        assert send(tmp_path) == {NEXT_NEAREST: 20}
    finally:
        cloud.set_ingress(None)

    logs = run_cli_in_process("logs", "--config", config)

    assert logs.returncode == 0, logs.stderr
    lines = [line.split(maxsplit=3) for line in logs.stdout.splitlines()]
    by_region = {
        region: [message for _when, where, kind, message in lines if where == region] for region in (HOME, NEXT_NEAREST)
    }
    for region, messages in by_region.items():
        assert [kind for _when, where, kind, _message in lines if where == region] == ["counter"] * len(messages)
        starts = [m for m in messages if m.startswith("START RequestId: ")]
        reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
        assert len(starts) == len(reports) == 2, messages  # 20 packets at count 10: two invocations
        assert "\tMemory Size: 128 MB\t" in reports[0] and "Init Duration: " in reports[0]  # a cold start first


def test_after_destroy_the_endpoint_no_longer_answers_and_smoke_says_nothing_is_deployed(cloud, write_config, tmp_path):
    config = write_config()
    assert deploy_cli(config, tmp_path).returncode == 0
    port, domain = outputs_of(tmp_path)["Port"], outputs_of(tmp_path)["Domain"]
    assert send(tmp_path, 10) == {HOME: 10}
    assert domain in (Path(cloud.names_file.path).read_text())

    destroyed = run_cli_in_process("destroy", "--config", config, "--out", tmp_path / "out", "--yes")

    assert destroyed.returncode == 0, destroyed.stderr
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(30)
        client.connect(("127.0.0.1", port))
        client.send(b"packet_1")
        with pytest.raises(ConnectionRefusedError):  # the kernel's answer: nothing listens on that port now
            client.recv(1024)
    assert domain not in Path(cloud.names_file.path).read_text()
    smoke = run_cli_in_process("smoke", "--outputs", tmp_path / "out" / "outputs.json")
    assert smoke.returncode == 2
    assert smoke.stderr.startswith("smoke: nothing is deployed: there is no ")


def test_make_canary_probes_the_deployed_listener_by_its_name(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(regions=[HOME]))
    assert deploy_cli(config, tmp_path).returncode == 0

    ran = run_cli_in_process(
        "canary", "--config", config, "--outputs", tmp_path / "out" / "outputs.json", "-n", "5", "--wait", "10"
    )

    assert ran.returncode == 0, ran.stderr
    record = json.loads(ran.stdout.splitlines()[0])
    assert (record["Counted"], record["LossPercent"], record["ServedBy"]) == (5, 0, HOME)
    assert f"probes to {outputs_of(tmp_path)['Domain']}:" in ran.stderr


def test_a_batching_update_changes_the_replies_on_the_same_port_without_a_restart(cloud, write_config, tmp_path):
    assert deploy_cli(write_config(), tmp_path).returncode == 0
    port = outputs_of(tmp_path)["Port"]
    assert [reply.split()[0] for reply in exchange(port, [b"x"] * 20)] == [b"10", b"10"]

    one_by_one = write_config(lambda data: data["destination"]["batching"].update(count=1), name="count1.yaml")
    assert deploy_cli(one_by_one, tmp_path).returncode == 0

    assert outputs_of(tmp_path)["Port"] == port
    assert [reply.split()[0] for reply in exchange(port, [b"x"] * 5)] == [b"1"] * 5


def test_each_region_runs_the_code_its_lambda_has_now_with_its_own_region(cloud, write_config, tmp_path):
    assert deploy_cli(write_config(), tmp_path).returncode == 0
    lam = boto3.client("lambda", region_name=HOME, endpoint_url=cloud.endpoint_url)
    code = "import os\ndef handler(event, context):\n    print('handled', len(event['Messages']))\n"
    code += "    return {'Replies': [{'Tag': m['Tag'], 'Data': __import__('base64').b64encode(("
    code += "os.environ['AWS_REGION'] + ' ' + os.environ['GREETING'] + ' ' + m['IngressRegion']).encode()).decode()}"
    code += " for m in event['Messages'][:1]]}\n"
    lam.update_function_configuration(FunctionName="packet-counter", Environment={"Variables": {"GREETING": "hi"}})
    lam.update_function_code(FunctionName="packet-counter", ZipFile=_zip({"index.py": code}))

    replies = exchange(outputs_of(tmp_path)["Port"], [b"x"] * 10, expect_replies=1)

    assert replies == [f"{HOME} hi {HOME}".encode()]
    logs = boto3.client("logs", region_name=HOME, endpoint_url=cloud.endpoint_url)
    assert wait_for(lambda: "handled 10" in _messages(logs, "/aws/lambda/packet-counter"))


def test_map_routing_skips_a_region_whose_function_is_gone(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(routing="map", regions=[HOME, NEXT_NEAREST]))
    assert deploy_cli(config, tmp_path).returncode == 0
    assert send(tmp_path) == {HOME: 20}
    boto3.client("lambda", region_name=HOME, endpoint_url=cloud.endpoint_url).delete_function(
        FunctionName="packet-counter"
    )  # the global map still names it: a region in failure

    assert send(tmp_path) == {NEXT_NEAREST: 20}


def test_a_star_binding_takes_ingress_regions_without_their_own_before_the_nearest(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(regions=[HOME, "eu-west-1"]))
    assert deploy_cli(config, tmp_path).returncode == 0
    destination = outputs_of(tmp_path)["DestinationId"]
    star_arn = outputs_of(tmp_path)["regions"]["eu-west-1"]["FunctionArn"]
    key = cloud.proxylity.api_key_of("123456789012")
    properties = {"ApiKey": key, "Destination": destination, "IngressRegionKey": "*", "Arn": star_arn}
    cloud.proxylity.handle("Create", DESTINATION_ARN_TYPE, HOME, properties, None)
    cloud.set_ingress("us-west-1")  # no binding of its own; us-west-2 is far nearer than eu-west-1
    try:
        assert send(tmp_path) == {"eu-west-1": 20}
        cloud.set_ingress(HOME)  # its own binding first
        assert send(tmp_path) == {HOME: 20}
    finally:
        cloud.set_ingress(None)


def test_an_ingress_the_latency_table_does_not_know_is_refused(cloud):
    with pytest.raises(Exception, match="'mars-north-1' is not a region in"):
        cloud.set_ingress("mars-north-1")


def test_the_canary_runs_on_its_schedule_and_its_emf_lines_land_in_its_log_group(cloud, write_config, tmp_path):
    def canary_on(data):
        data["regions"] = [HOME]
        data["observability"] = {"canary": {"enabled": True, "every_minutes": 1, "packets": 3}}

    cloud.schedules.clock_speed = 120  # a minute in half a second
    try:
        assert deploy_cli(write_config(canary_on), tmp_path, *FAST).returncode == 0
        logs = boto3.client("logs", region_name=HOME, endpoint_url=cloud.endpoint_url)
        assert wait_for(lambda: '"ServedBy"' in _messages(logs, "/aws/lambda/packet-counter-canary"), within=40)
    finally:
        cloud.schedules.clock_speed = 1
    messages = _messages(logs, "/aws/lambda/packet-counter-canary").splitlines()
    record = json.loads(next(message for message in messages if message.startswith('{"_aws"')))
    assert record["Region"] == HOME and record["Counted"] == 3 and record["LossPercent"] == 0
    assert record["ServedBy"] == HOME  # the canary resolved the listener's name and the counter answered it
    assert any(message.startswith("REPORT RequestId: ") for message in messages)


def _messages(logs, group: str) -> str:
    try:
        return "\n".join(event["message"] for event in logs.filter_log_events(logGroupName=group)["events"])
    except logs.exceptions.ResourceNotFoundException:
        return ""


def _zip(files: dict[str, str]) -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return package.getvalue()


def test_a_function_deployed_again_starts_cold_in_new_environments(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(regions=[HOME, NEXT_NEAREST]))
    assert deploy_cli(config, tmp_path).returncode == 0
    assert send(tmp_path, 10) == {HOME: 10}
    out = tmp_path / "out"
    assert run_cli_in_process("destroy", "--config", config, "--out", out, "--regions", HOME, "--yes").returncode == 0
    assert deploy_cli(config, tmp_path, "--regions", HOME).returncode == 0

    assert send(tmp_path, 10) == {HOME: 10}

    logs = boto3.client("logs", region_name=HOME, endpoint_url=cloud.endpoint_url)
    reports = [m for m in _messages(logs, "/aws/lambda/packet-counter").splitlines() if m.startswith("REPORT")]
    assert len(reports) == 1 and "Init Duration: " in reports[0]  # the new log group: one cold invocation
