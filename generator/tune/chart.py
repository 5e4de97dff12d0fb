"""out/tune.png: p99 reply latency against the estimated cost per million packets, one labelled point
per setting, the p99 target as a line, the recommended setting marked.

matplotlib is an optional dependency (the `tune` extra, which `make tune` installs); it is drawn
through its object API and the Agg canvas, so no display and no global pyplot state are involved.
The chart is drawn to bytes: results.py writes it together with tune.json, or neither.
"""

from __future__ import annotations

import io
import math

from generator.distribution import missing_extra
from generator.errors import MissingExtraError, TuneError
from generator.tune.model import MILLION
from generator.tune.recommend import SettingResult
from generator.tune.tuning import TuneResult

MEETS, MISSES, LOSS, RECOMMENDED = "#2a7ab0", "#9a9a9a", "#c0392b", "#e67e22"
# Points closer than this (in decades, on the log axes) share one label rather than print over each other.
SAME_PLACE_DECADES = (0.03, 0.03)
LABEL_LINE_PIXELS = 14  # a label's height at the figure's dpi, and a little air


def check_chart_support() -> None:
    """Raise MissingExtraError (one line: the extra to install) when matplotlib is missing: said before minutes of
    measuring, not after."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise MissingExtraError.of("tune", f"drawing the chart {missing_extra('tune', error.name)}") from None


def chart_png(result: TuneResult) -> bytes:
    """The chart as PNG bytes; TuneError (one line) when it cannot be drawn."""
    check_chart_support()
    try:
        return _draw(result)
    except Exception as error:  # matplotlib has no common error base: any failure is a chart not drawn
        raise TuneError.of("tune", f"cannot draw the chart: {type(error).__name__}: {error}") from None


def _draw(result: TuneResult) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    plan = result.plan
    options = plan.options
    workload = options.workload
    # Only what a log axis can show: a free setting or a 0 ms p99 has no place on it.
    drawn = [item for item in result.results if _drawable(item)]
    figure = Figure(figsize=(11, 7), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_xscale("log")
    axes.set_yscale("log")
    for item in drawn:
        x, y = _position(item)
        if not item.measurement.lossless:
            axes.scatter(x, y, marker="x", s=70, color=LOSS, zorder=3)
        elif item.refused_by_config is not None:  # measured, but the config would refuse it written in
            axes.scatter(x, y, marker="D", s=45, color=MISSES, edgecolors="white", linewidths=0.8, zorder=3)
        else:
            color = MEETS if item.meets_target else MISSES
            axes.scatter(x, y, marker="o", s=55, color=color, edgecolors="white", linewidths=0.8, zorder=3)
    recommended = result.recommended
    target = options.p99_target_ms
    _pad(axes, drawn, target)
    axes.axhline(target, color=LOSS, linestyle="--", linewidth=1.2, zorder=2)
    axes.annotate(
        f"p99 target {target:g} ms",
        (0, target),
        xycoords=("axes fraction", "data"),
        xytext=(4, 4),
        textcoords="offset points",
        color=LOSS,
        fontsize=9,
    )
    if recommended is not None and _drawable(recommended):
        x, y = _position(recommended)
        axes.scatter(x, y, marker="*", s=420, color=RECOMMENDED, edgecolors="black", linewidths=0.8, zorder=4)
        axes.annotate(
            f"recommended: count {recommended.setting.count}, timeout {recommended.setting.timeout_in_seconds:g} s\n"
            f"${recommended.cost.usd_per_million_packets:.4g} per million packets, p99 {y:.0f} ms",  # type: ignore[union-attr]
            (x, y),
            xytext=(14, -34),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
            arrowprops={"arrowstyle": "-", "color": "black", "linewidth": 0.6},
        )
    elif recommended is None:
        axes.text(
            0.5,
            0.96,
            f"no setting meets p99 ≤ {target:g} ms with no loss",
            transform=axes.transAxes,
            ha="center",
            va="top",
            fontsize=11,
            fontweight="bold",
            color=LOSS,
        )
    per_month = plan.model.packets_per_month / MILLION
    top = axes.secondary_xaxis("top", functions=(lambda x: x * per_month, lambda x: x / per_month))
    top.set_xlabel(f"estimated US$ per month at {workload.rate:,.0f} packets/s")
    price = plan.model.price
    axes.set_xlabel(
        f"estimated US$ per million packets: AWS Lambda {price.architecture}, {plan.model.memory_mb} MB, "
        f"in {price.region} (prices as of {options.prices.as_of}); Proxylity's charges not included"
    )
    axes.set_ylabel("p99 reply latency, ms (from the first packet a reply counts)")
    round_trip = plan.round_trip
    trip = (
        f"replies delayed by the {round_trip.rtt_ms:.0f} ms round trip {round_trip.ingress} -> "
        f"{round_trip.serving_region} (a client near {round_trip.ingress})"
        if round_trip.added
        else "loopback, no AWS round trip added"
    )
    axes.set_title(
        f"Batching (count / timeout): p99 latency against cost, {workload.rate:,.0f} packets/s from "
        f"{workload.clients} clients for {workload.seconds:g} s per setting\n"
        f"measured with the local UDP gateway and the real handler on this machine; {trip}",
        fontsize=10.5,
    )
    axes.grid(True, which="major", linewidth=0.5, alpha=0.5)
    axes.grid(True, which="minor", linewidth=0.3, alpha=0.25)
    refused = [Line2D([], [], marker="D", linestyle="", color=MISSES, label="the config would refuse it")]
    axes.legend(
        handles=[
            Line2D([], [], marker="o", linestyle="", color=MEETS, label="meets the target"),
            Line2D([], [], marker="o", linestyle="", color=MISSES, label="p99 over the target"),
            *(refused if any(item.refused_by_config for item in drawn) else []),
            Line2D([], [], marker="x", linestyle="", color=LOSS, label="lost packets"),
            Line2D([], [], marker="*", linestyle="", color=RECOMMENDED, markersize=14, label="recommended"),
        ],
        loc="upper right",  # expensive and slow: where no setting lies
        fontsize=8.5,
        framealpha=1.0,  # the target line passes behind it, not through it
    )
    figure.canvas.draw()  # lays the figure out, so that label spacing is measured in final pixels
    # The recommended point carries its own, larger label; the others one each (shared by neighbours).
    labelled = [item for item in drawn if item is not recommended]
    for x, y, label, lift in _stacked(axes, _labels(labelled)):
        axes.annotate(
            label,
            (x, y),
            xytext=(9, lift - 3),
            textcoords="offset pixels",
            fontsize=8.5,
            color="#333333",
            arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5} if abs(lift) > 4 else None,
        )
    image = io.BytesIO()
    figure.savefig(image, format="png")
    return image.getvalue()


def _drawable(item: SettingResult) -> bool:
    if item.cost is None or item.p99_ms is None:
        return False
    x, y = _position(item)
    return math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0


def _position(item: SettingResult) -> tuple[float, float]:
    return item.cost.usd_per_million_packets, item.p99_ms  # type: ignore[union-attr, return-value]


def _labels(drawn: list[SettingResult]) -> list[tuple[float, float, str]]:
    """One label per place: settings drawn (nearly) on top of each other share theirs, e.g. "100 / 0.05, 0.2 s"."""
    groups: list[list[SettingResult]] = []
    for item in sorted(drawn, key=lambda entry: entry.setting):
        x, y = _position(item)
        for group in groups:
            gx, gy = _position(group[0])
            if (
                abs(math.log10(x) - math.log10(gx)) < SAME_PLACE_DECADES[0]
                and abs(math.log10(y) - math.log10(gy)) < SAME_PLACE_DECADES[1]
            ):
                group.append(item)
                break
        else:
            groups.append([item])
    labels = []
    for group in groups:
        by_count: dict[int, list[float]] = {}
        for item in group:
            by_count.setdefault(item.setting.count, []).append(item.setting.timeout_in_seconds)
        text = "; ".join(
            f"{count} / {', '.join(f'{timeout:g}' for timeout in timeouts)} s" for count, timeouts in by_count.items()
        )
        x, y = _position(group[0])
        labels.append((x, y, text))
    return labels


def _stacked(axes, labels: list[tuple[float, float, str]]) -> list[tuple[float, float, str, float]]:
    """Each label with the pixels it is lifted by so that labels beside one another (points of about the
    same cost) are at least a line apart."""
    line = LABEL_LINE_PIXELS
    placed: list[tuple[float, float, str, float]] = []
    columns: list[list[tuple[float, float, str]]] = []
    for label in sorted(labels, key=lambda entry: entry[0]):
        column = columns[-1] if columns else None
        if column and abs(math.log10(label[0]) - math.log10(column[0][0])) < SAME_PLACE_DECADES[0] * 3:
            column.append(label)
        else:
            columns.append([label])
    for column in columns:
        floor = -math.inf
        for x, y, text in sorted(column, key=lambda entry: entry[1]):
            pixel = axes.transData.transform((x, y))[1]
            wanted = max(pixel, floor + line)
            placed.append((x, y, text, wanted - pixel))
            floor = wanted
    return placed


def _pad(axes, drawn: list[SettingResult], target: float) -> None:
    """Room around the points (and the target line) so labels stay inside the frame."""
    if not drawn:
        return
    xs = [_position(item)[0] for item in drawn]
    ys = [_position(item)[1] for item in drawn] + [target]
    axes.set_xlim(min(xs) / 2.5, max(xs) * 4)
    axes.set_ylim(max(min(ys) / 2, 0.05), max(ys) * 2)
