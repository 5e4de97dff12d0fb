"""tune/: batching settings measured through the local gateway, priced, judged, drawn and applied.

grid (the settings and the workload), measure (one setting: local gateway + smoke client), prices and
model (the Lambda price table and the cost model), recommend (the target and the choice), tuning (the
whole run, reported as events), results (out/tune.json), chart (out/tune.png). APPLY=1's edit of
config.yaml is generator.config.edit's.
"""

from generator.errors import TuneError
from generator.tune.chart import chart_png, check_chart_support
from generator.tune.grid import (
    DEFAULT_COUNTS,
    DEFAULT_TIMEOUTS,
    Grid,
    Setting,
    Workload,
    parse_grid,
)
from generator.tune.measure import Measurement, measure
from generator.tune.model import CostEstimate, CostModel, predicted_batch_size, predicted_invocations
from generator.tune.prices import DEFAULT_PRICE_TABLE, Price, PriceTable, load_price_table
from generator.tune.recommend import SettingResult, priced_alike, recommend
from generator.tune.results import (
    CHART_FILE_NAME,
    RESULTS_FILE_NAME,
    check_results_writable,
    tune_document,
    write_results,
)
from generator.tune.tuning import (
    SettingMeasured,
    SettingStarted,
    TuneEvent,
    TuneOptions,
    TunePlan,
    TuneResult,
    plan_tuning,
    run_tuning,
)

__all__ = [
    "CHART_FILE_NAME",
    "DEFAULT_COUNTS",
    "DEFAULT_PRICE_TABLE",
    "DEFAULT_TIMEOUTS",
    "RESULTS_FILE_NAME",
    "CostEstimate",
    "CostModel",
    "Grid",
    "Measurement",
    "Price",
    "PriceTable",
    "Setting",
    "SettingMeasured",
    "SettingResult",
    "SettingStarted",
    "TuneError",
    "TuneEvent",
    "TuneOptions",
    "TunePlan",
    "TuneResult",
    "Workload",
    "chart_png",
    "check_chart_support",
    "check_results_writable",
    "load_price_table",
    "measure",
    "parse_grid",
    "plan_tuning",
    "predicted_batch_size",
    "predicted_invocations",
    "priced_alike",
    "recommend",
    "run_tuning",
    "tune_document",
    "write_results",
]
