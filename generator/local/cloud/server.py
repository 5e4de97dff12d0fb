"""LocalCloud: moto's server on 127.0.0.1 with the patches and the Proxylity stand-in, the data plane that serves
every listener the stand-in creates (listener_endpoints), the hosts file of their names (names_file), the
EventBridge schedules run (schedules), and the hint that points the generator at it."""

from __future__ import annotations

import logging
import socket
import urllib.request

from moto.server import ThreadedMotoServer

from generator.errors import RoutingError
from generator.local.cloud.drift import install_drift_patches, reset_drift
from generator.local.cloud.lambda_concurrency import install_lambda_concurrency_patches
from generator.local.cloud.lambda_functions import DeployedFunctions
from generator.local.cloud.lambda_logs import write_invocation_logs
from generator.local.cloud.listener_endpoints import ListenerEndpoints
from generator.local.cloud.moto_patches import aws_behaviour, install_moto_patches, use_stand_in
from generator.local.cloud.names_file import NamesFile
from generator.local.cloud.schedules import ScheduleRunner
from generator.local.cloud.stacksets import install_stackset_patches, reset_stacksets, stacksets_behaviour
from generator.local.cloud.stand_in import ProxylityStandIn
from generator.local.gateway.routing import LatencyTable, load_latency_table
from generator.local.lambda_quotas import DEFAULT_ACCOUNT_CONCURRENCY

# Dummy credentials: moto accepts any, and boto3 refuses to sign a request without some.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


class LocalCloud:
    """moto's server on 127.0.0.1 plus the Proxylity stand-in, whose listeners are served on loopback; port 0
    picks a free port. Packets enter at `ingress` (None: each listener's home region); `clock_speed` runs the
    EventBridge schedules that many times faster than real time."""

    def __init__(
        self,
        port: int = 0,
        delay: float = 0.0,
        fail_region: str | None = None,
        lambda_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        ingress: str | None = None,
        clock_speed: float = 1.0,
        latency_table: LatencyTable | None = None,
    ) -> None:
        install_moto_patches()
        install_stackset_patches()
        install_drift_patches()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns everything else
        self.proxylity = ProxylityStandIn(delay=delay, fail_region=fail_region)
        use_stand_in(self.proxylity)
        self.latency_table = latency_table or load_latency_table()
        self.ingress: str | None = None
        self.set_ingress(ingress)
        self._ingress, self._clock_speed = ingress, clock_speed  # what reset() brings back
        self.functions = DeployedFunctions()
        self.endpoints = ListenerEndpoints(
            self.proxylity, self.functions, self.latency_table, lambda: self.ingress, self._names_changed
        )
        self.proxylity.data_plane = self.endpoints
        self.schedules = ScheduleRunner(self.functions, write_invocation_logs, clock_speed)
        self.names_file: NamesFile | None = None
        self.aws = aws_behaviour()
        # Lambda's concurrent executions per account and region; tests change self.aws.lambda_concurrency, and
        # reset() brings back this one.
        self.lambda_concurrency = lambda_concurrency
        self.aws.lambda_concurrency = lambda_concurrency
        install_lambda_concurrency_patches(lambda: self.aws.lambda_concurrency)
        self.stacksets = stacksets_behaviour()
        self._port = port
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint_url = ""

    def start(self) -> LocalCloud:
        if self._port:
            _check_port_free(self._port)  # moto's server would wait forever for a port it cannot bind
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.names_file = NamesFile(port, self.endpoint_url)
        self.functions.hosts_file = str(self.names_file.path)  # the functions resolve the listeners' names too
        self.names_file.write([])
        self.schedules.start()
        return self

    def set_ingress(self, region: str | None) -> None:
        """Where packets enter from now on (None: each listener's home region); RoutingError for a region the
        latency table does not know."""
        if region is not None and not self.latency_table.has(region):
            raise RoutingError.of("--ingress", f"{region!r} is not a region in {self.latency_table.source}")
        self.ingress = region

    def _names_changed(self, names: list[str]) -> None:
        if self.names_file is not None:
            self.names_file.write(names)

    def reset(self) -> None:
        """Forget every stack and resource (moto's reset API), every StackSet, the stand-in's state (every
        listener's endpoint stopped) and AwsBehaviour (the Lambda concurrency quota, the ingress and the
        schedules' clock back to this cloud's own)."""
        self.aws.change_sets.release()
        self.aws.change_set_requests.release()
        self.aws.refused_region = None
        self.aws.lambda_concurrency = self.lambda_concurrency
        reset_stacksets()
        reset_drift()
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        self.proxylity.reset()  # stops every listener's endpoint
        self.schedules.reset()
        self.ingress, self.schedules.clock_speed = self._ingress, self._clock_speed

    def stop(self) -> None:
        self.endpoints.close_all()
        self.schedules.stop()
        self._server.stop()
        if self.names_file is not None:
            self.names_file.remove()

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class PortInUse(Exception):
    pass


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is fine
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise PortInUse(
                f"127.0.0.1:{port} is in use ({error.strerror}); is a local cloud already running?"
            ) from None


def hint(endpoint_url: str, deploy_command: str = "make deploy") -> str:
    """`deploy_command` against this local cloud, to run as typed in another terminal."""
    variables = {"AWS_ENDPOINT_URL": endpoint_url, **DUMMY_CREDENTIALS}
    return " ".join(f"{name}={value}" for name, value in variables.items()) + f" {deploy_command}"
