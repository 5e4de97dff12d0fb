"""`tune`: measure every batching setting of a grid through the local gateway, price each with the cost
model, print the table, write out/tune.json and out/tune.png, recommend one and, with --apply, write it
into the config. The work is in generator.tune; here the command line is read and the results printed."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from generator.cli.argv import (
    MAX_RATE,
    MAX_WAIT_SECONDS,
    milliseconds,
    packets_per_second,
    sockets,
    wait_seconds,
)
from generator.cli.common import (
    OUT_HELP,
    add_command,
    add_json_option,
    describe_config,
    display_path,
    load_command_config,
)
from generator.cli.fitted_tables import Column, fitted_table, terminal_width, wrapped
from generator.cli.json_output import print_json
from generator.config import Config
from generator.config.edit import ConfigEdit, apply_batching, check_applicable, settings_the_config_refuses
from generator.errors import ExitCode, GeneratorError
from generator.local.gateway.routing import DEFAULT_LATENCY_TABLE, load_latency_table
from generator.render import rendered_function_code
from generator.tune import (
    DEFAULT_COUNTS,
    DEFAULT_PRICE_TABLE,
    DEFAULT_TIMEOUTS,
    Setting,
    SettingMeasured,
    SettingResult,
    TuneEvent,
    TuneOptions,
    TunePlan,
    TuneResult,
    Workload,
    check_chart_support,
    check_results_writable,
    load_price_table,
    parse_grid,
    plan_tuning,
    run_tuning,
    tune_document,
    write_results,
)


def register_tune_commands(commands: argparse._SubParsersAction) -> None:
    """Add `tune` to the CLI (called once from generator.cli.main.build_parser)."""
    tune = add_command(
        commands,
        "tune",
        command_tune,
        "measure batching settings through the local gateway: latency, replies, invocations and Lambda cost",
    )
    tune.add_argument(
        "--rate",
        type=packets_per_second,
        default=2000.0,
        help=f"packets/s, at most {MAX_RATE:,.0f} (default: %(default)g)",
    )
    tune.add_argument(
        "--clients",
        type=sockets,
        default="50",  # text: argparse checks it against this machine's open-file limit as it does a value given
        help="client sockets, below the open-file limit (default: %(default)s)",
    )
    tune.add_argument(
        "--seconds",
        type=wait_seconds,
        default=5.0,
        help=f"seconds of traffic per setting, at most {MAX_WAIT_SECONDS:g} (default: %(default)g)",
    )
    tune.add_argument(
        "--p99",
        type=milliseconds,
        default=250.0,
        help=f"p99 reply latency target in ms, at most {1000 * MAX_WAIT_SECONDS:,.0f} (default: %(default)g)",
    )
    tune.add_argument(
        "--counts",
        nargs="+",
        default=[str(count) for count in DEFAULT_COUNTS],
        metavar="COUNT",
        help=f"batching counts to try (default: {' '.join(map(str, DEFAULT_COUNTS))})",
    )
    tune.add_argument(
        "--timeouts",
        nargs="+",
        default=[f"{timeout:g}" for timeout in DEFAULT_TIMEOUTS],
        metavar="SECONDS",
        help=f"batching timeouts to try (default: {' '.join(f'{t:g}' for t in DEFAULT_TIMEOUTS)})",
    )
    tune.add_argument(
        "--apply",
        action="store_true",
        help="write the recommended setting into the config (with --env: into that environment's overlay only)",
    )
    add_json_option(tune, "print the results (what tune.json holds, and what --apply wrote) as one JSON document")
    tune.add_argument("--ingress", help="the region packets enter at (default: the config's home_region)")
    tune.add_argument(
        "--add-latency",
        action="store_true",
        help="delay replies by the ingress -> serving region round trip from the latency table",
    )
    tune.add_argument("--latency-table", type=Path, default=DEFAULT_LATENCY_TABLE, help="inter-region RTT table (JSON)")
    tune.add_argument(
        "--prices", type=Path, default=DEFAULT_PRICE_TABLE, help="Lambda price table (JSON; default: the shipped one)"
    )
    tune.add_argument("--out", type=Path, help=f"where tune.json and tune.png go {OUT_HELP}")


def command_tune(args: argparse.Namespace) -> int:
    with _gateway_warnings_once():
        return _tune(args)


def _tune(args: argparse.Namespace) -> int:
    # Everything that can be refused is checked before the minutes of measuring.
    grid = parse_grid(args.counts, args.timeouts)
    config = load_command_config(args)
    check_chart_support()
    check_results_writable(args.out)
    if args.apply:
        check_applicable(args.config, source=display_path(args.config), environment=args.env)
    options = TuneOptions(
        grid=grid,
        workload=Workload(rate=args.rate, clients=args.clients, seconds=args.seconds),
        p99_target_ms=args.p99,
        ingress=args.ingress or config.home_region,
        latency_table=load_latency_table(args.latency_table),
        add_latency=args.add_latency,
        prices=load_price_table(args.prices),
        refused=settings_the_config_refuses(args.config, grid.settings, args.env),
    )
    plan = plan_tuning(config, options)
    # Rendered in memory: tune.json and tune.png are all this command writes (together, at the end).
    code = rendered_function_code(config)
    # With --json stdout holds the document alone: what people read goes to stderr. On a terminal, every
    # line fits its width.
    stream = sys.stderr if args.json else sys.stdout
    width = terminal_width(stream)

    def say(text: str = "") -> None:
        for line in wrapped(text, width):
            print(line, file=stream, flush=True)

    _print_plan(plan, len(grid.settings), describe_config(config), say)
    for setting, why in options.refused.items():
        say(
            f"count {setting.count}, timeout {setting.timeout_in_seconds:g} s: measured, never recommended: "
            f"{describe_config(config)} would refuse it: {why}"
        )
    result = run_tuning(config, code, plan, on_event=lambda event: _print_progress(event, say))
    say()
    print(format_table(result, width), file=stream)
    say()
    for line in _recommendation_lines(result):
        say(line)
    written = write_results(result, args.out)
    say(f"wrote {' and '.join(display_path(path) for path in written)} ({result.seconds:.0f} s of measuring)")
    status, edit = ExitCode.OK, None
    if result.recommended is None:
        if args.apply:
            print(f"{_edited_file(args, config)} left as it was: nothing to apply", file=sys.stderr)
        status = ExitCode.FAILED
    elif args.apply:
        status, edit = _apply(args, config, result.recommended.setting, say)
    if args.json:
        print_json(
            {
                "ok": status == ExitCode.OK,
                **tune_document(result),
                "written": [display_path(path) for path in written],
                "applied": None if edit is None else _edit_as_json(edit, _edited_file(args, config)),
            }
        )
    return status


def _apply(
    args: argparse.Namespace, config: Config, setting: Setting, say: Callable[[str], None]
) -> tuple[int, ConfigEdit | None]:
    """Write the recommended setting into the config, or with an environment into its overlay only. tune.json
    and tune.png are written by now, so a refusal here is exit 1 (the run changed something), not 2."""
    shown = _edited_file(args, config)
    try:
        edit = apply_batching(args.config, setting, source=display_path(args.config), environment=args.env)
    except GeneratorError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{shown} left as it was; the results are written", file=sys.stderr)
        return ExitCode.FAILED, None
    if not edit.changes:
        say(f"{shown} already holds this setting: nothing written")
    for change in edit.changes:
        old = "(not written: the default)" if change.old is None else change.old
        say(f"applied: {shown}:{change.line}: {change.key_path}: {old} -> {change.new}")
    return ExitCode.OK, edit


def _edit_as_json(edit: ConfigEdit, shown: str) -> dict[str, object]:
    changes = [
        {"line": change.line, "key_path": change.key_path, "old": change.old, "new": change.new}
        for change in edit.changes
    ]
    return {"file": shown, "changes": changes}


def _edited_file(args: argparse.Namespace, config: Config) -> str:
    """The file --apply writes: the config, or with an environment its overlay (never the base)."""
    return display_path(args.config) if config.environment is None else config.environment.source


class _Once(logging.Filter):
    """Each gateway of the grid would repeat the same warning (a capped receive buffer): say it once."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self._seen:
            return False
        self._seen.add(message)
        return True


@contextlib.contextmanager
def _gateway_warnings_once() -> Iterator[None]:
    """The local gateway's warnings on stderr, each said once, for the length of the command only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("local gateway: %(message)s"))
    handler.addFilter(_Once())
    logger = logging.getLogger("generator.local.gateway")
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved[0]
        logger.setLevel(saved[1])


def _print_plan(plan: TunePlan, settings: int, config: str, say: Callable[[str], None]) -> None:
    options = plan.options
    workload = options.workload
    trip = plan.round_trip
    price = plan.model.price
    say(
        f"tuning batching: {settings} settings x {workload.seconds:g} s at {workload.rate:,.0f} packets/s from "
        f"{workload.clients} clients ({workload.packets:,} packets per setting), through the local gateway on "
        f"loopback; function code as the regional template rendered from {config} carries it"
    )
    if trip.added:
        say(
            f"AWS round trip: replies delayed by {trip.rtt_ms:.0f} ms, ingress {trip.ingress} -> serving "
            f"{trip.serving_region} ({display_path(trip.table)}): the figures stand for a client near {trip.ingress}"
        )
    elif trip.rtt_ms:
        say(
            f"AWS round trip not added: loopback latencies (--add-latency adds the {trip.rtt_ms:.0f} ms of "
            f"ingress {trip.ingress} -> serving {trip.serving_region})"
        )
    else:
        say(
            f"AWS round trip: none, ingress {trip.ingress} serves itself (--ingress REGION --add-latency: a client "
            "near a region without a function)"
        )
    say(
        f"cost model: AWS Lambda {price.architecture}, {plan.model.memory_mb} MB, in {price.region}: "
        f"${price.request_usd_per_million:.2f} per million requests, ${_decimal(price.gb_second_usd)} per GB-second "
        f"(as of {options.prices.as_of}, {options.prices.source}); Proxylity's own charges are not included"
    )
    say(
        f"handler runs measured here are scaled x{plan.model.cpu_scale:.1f} for {plan.model.memory_mb} MB's share "
        "of a vCPU, then billed rounded up to the next ms"
    )


def _print_progress(event: TuneEvent, say: Callable[[str], None]) -> None:
    if not isinstance(event, SettingMeasured):
        return
    result = event.result
    measured = result.measurement
    p99 = f"p99 {result.p99_ms:.1f} ms" if result.p99_ms is not None else "no replies"
    loss = "no loss" if measured.lossless else f"{measured.packets_unaccounted} packets unaccounted"
    width = len(str(event.total))
    say(
        f"[{event.index:>{width}}/{event.total}] count {result.setting.count}, timeout "
        f"{result.setting.timeout_in_seconds:g} s: {measured.packets_sent} packets, {measured.invocations} "
        f"invocations (model {result.predicted_invocations}), {p99}, {loss}"
    )


COLUMNS = (
    ("count", 5),
    ("timeout", 7),
    ("packets", 7),
    ("replies", 7),
    ("invocations", 11),
    ("model", 7),
    ("batch", 6),
    ("p50 ms", 7),
    ("p95 ms", 7),
    ("p99 ms", 7),
    ("loss", 6),
    ("handler ms", 10),
    ("billed ms", 9),
    ("$/M packets", 11),
    ("$/month", 9),
    ("target", 6),
)
# On a terminal too narrow for every column, those of the highest rank are left out first: the setting, its
# p99, loss, cost and verdict stay longest (what the recommendation rests on); the raw counts go first.
COLUMN_RANKS = {
    "count": 0,
    "timeout": 0,
    "p99 ms": 0,
    "$/M packets": 0,
    "target": 0,
    "loss": 1,
    "$/month": 2,
    "invocations": 3,
    "batch": 4,
    "p50 ms": 5,
    "model": 6,
    "p95 ms": 7,
    "billed ms": 8,
    "replies": 9,
    "handler ms": 10,
    "packets": 11,
}
TABLE_NOTE = (
    "invocations: counted by the gateway; model: predicted from rate, count and timeout; batch: packets per "
    "invocation; handler ms: mean run here; billed ms: mean billed on Lambda (model; settings making batches "
    "of one size are priced together, from all their runs)"
)


def format_table(result: TuneResult, width: int | None = None) -> str:
    """One row per setting: measured figures, the model's invocations beside the counted, the cost. Plain
    aligned columns, or with `width` (a terminal's) fitted to it, the columns of least use left out first."""
    rows = [_row(item) for item in result.results]
    if width is not None:
        columns = [Column(name, COLUMN_RANKS[name], right=True) for name, _ in COLUMNS]
        return "\n".join([fitted_table(columns, rows, width), *wrapped(TABLE_NOTE, width)])
    lines = ["  ".join(f"{name:>{width}}" for name, width in COLUMNS)]
    for cells in rows:
        lines.append("  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True)))
    lines.append(TABLE_NOTE)
    return "\n".join(lines)


def _row(item: SettingResult) -> list[str]:
    measured = item.measurement
    latency = measured.latency_ms
    cost = item.cost
    handler = measured.handler_mean_ms
    return [
        str(item.setting.count),
        f"{item.setting.timeout_in_seconds:g} s",
        str(measured.packets_sent),
        str(measured.replies),
        str(measured.invocations),
        str(item.predicted_invocations),
        f"{measured.mean_batch_size:.1f}",
        f"{latency.p50_ms:.1f}" if latency else "-",
        f"{latency.p95_ms:.1f}" if latency else "-",
        f"{latency.p99_ms:.1f}" if latency else "-",
        _percent(measured.loss),
        f"{handler:.3f}" if handler is not None else "-",
        f"{cost.billed_ms_per_invocation:.1f}" if cost else "-",
        f"{cost.usd_per_million_packets:.4g}" if cost else "-",
        f"{cost.usd_per_month:,.2f}" if cost else "-",
        _verdict(item),
    ]


def _verdict(item: SettingResult) -> str:
    """meets, or the first shortfall: loss, over (the p99 target), config (the config would refuse it)."""
    shortfalls = item.shortfalls
    if not shortfalls:
        return "meets"
    return {"loss": "loss", "refused by the config": "config"}.get(shortfalls[0], "over")


def _percent(fraction: float) -> str:
    """0% only when nothing was lost: one packet in a million is 0.0001%, never rounded away."""
    if fraction == 0:
        return "0%"
    return f"{100 * fraction:.2g}%" if fraction < 0.001 else f"{100 * fraction:.1f}%"


def _recommendation_lines(result: TuneResult) -> list[str]:
    options = result.plan.options
    target = f"p99 ≤ {options.p99_target_ms:g} ms with no loss"
    recommended = result.recommended
    if recommended is None:
        return [f"none meets the target ({target}) at {options.workload.rate:,.0f} packets/s: no recommendation"]
    cost = recommended.cost
    assert cost is not None
    return [
        f"recommended (the cheapest setting meeting {target}): count {recommended.setting.count}, "
        f"timeout_in_seconds {recommended.setting.timeout_in_seconds:g}: ${cost.usd_per_million_packets:.4g} per "
        f"million packets, ${cost.usd_per_month:,.2f} a month at {options.workload.rate:,.0f} packets/s, "
        f"p99 {recommended.p99_ms:.1f} ms"
    ]


def _decimal(value: float) -> str:
    """0.0000166667 as the pricing page writes it, not 1.66667e-05."""
    return f"{value:.12f}".rstrip("0").rstrip(".")
