"""Switching `routing` between bind and map in one deploy converges in both directions.

Proxylity keeps one function ARN per destination and ingress region; the global stack's map and the
regional stacks' bindings both write it, and removing either removes it (the local cloud's stand-in
models exactly that). So the order of the stacks decides whether a switch leaves every region routed.
"""

from __future__ import annotations

import json

import pytest

from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import (
    GLOBAL,
    REGIONAL,
    REGIONS,
    deploy_cli,
    local_cloud_fixtures,
    outputs,
    parameters,
    stack,
    summary_rows,
)

local_cloud, cloud = local_cloud_fixtures()


def routing_config(tmp_path, routing: str):
    return write_config(tmp_path, lambda c: c.update(routing=routing), f"{routing}.yaml")


def assert_every_region_routes_to_its_own_function(cloud, routing: str) -> None:
    destination = outputs(stack("us-west-2", GLOBAL))["DestinationId"]
    (listener,) = cloud.proxylity.listeners.values()
    mapped = listener["Properties"]["Destinations"][0]["DestinationArn"]
    for region in REGIONS:
        regional = stack(region, REGIONAL)
        function_arn = outputs(regional)["FunctionArn"]
        assert cloud.proxylity.bindings[(destination, region)] == function_arn, region
        # The global and regional stacks agree on who routes this region.
        if routing == "bind":
            assert parameters(regional) == {"DestinationId": destination}
            assert mapped == {}
        else:
            assert parameters(regional) == {}
            assert mapped[region] == function_arn
    assert set(cloud.proxylity.bindings) == {(destination, region) for region in REGIONS}


@pytest.mark.parametrize(("before", "after"), [("bind", "map"), ("map", "bind")])
def test_switching_routing_converges_in_one_deploy(cloud, capsys, tmp_path, before, after):
    status, _, err = deploy_cli(routing_config(tmp_path, before), tmp_path)
    assert status == 0, err
    assert_every_region_routes_to_its_own_function(cloud, before)

    status, out, err = deploy_cli(routing_config(tmp_path, after), tmp_path)

    assert status == 0, err
    assert set(summary_rows(out).values()) == {"updated"}
    assert_every_region_routes_to_its_own_function(cloud, after)
    saved = json.loads((tmp_path / "out" / "outputs.json").read_text())
    assert {region: entry["action"] for region, entry in saved["regions"].items()} == dict.fromkeys(REGIONS, "updated")

    status, out, err = deploy_cli(routing_config(tmp_path, after), tmp_path)

    assert status == 0, err
    assert set(summary_rows(out).values()) == {"unchanged"}


def test_a_switch_for_only_some_regions_is_refused_and_changes_nothing(cloud, capsys, tmp_path):
    assert deploy_cli(routing_config(tmp_path, "bind"), tmp_path).returncode == 0
    calls = len(cloud.proxylity.calls)

    status, _, err = deploy_cli(routing_config(tmp_path, "map"), tmp_path, "--regions", "eu-west-1")

    assert status == 2
    (line,) = err.splitlines()
    assert "switching routing from bind to map" in line and "us-east-1, us-west-2" in line
    assert "deploy without REGIONS" in line
    assert len(cloud.proxylity.calls) == calls
    assert_every_region_routes_to_its_own_function(cloud, "bind")


def test_plan_of_a_switch_shows_the_binding_removed(cloud, capsys, tmp_path):
    assert deploy_cli(routing_config(tmp_path, "bind"), tmp_path).returncode == 0

    status, out, err = run_cli_in_process(
        "plan", "--config", str(routing_config(tmp_path, "map")), "--out", str(tmp_path / "out")
    )

    assert status == 3, err  # something would change
    assert f"{REGIONAL} (eu-west-1): update" in out
    assert "Remove  DestinationArnBinding (Custom::ProxylityUdpGatewayDestinationArn)" in out
