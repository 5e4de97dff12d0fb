"""The shipped Lambda price table (lambda_prices.json beside this module: dated, its source named) and
the price of one region and architecture. Another table of the same shape can be passed instead."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from generator.errors import Problem, TuneError
from generator.json_tables import read_json_table
from generator.resources import price_table_file

DEFAULT_PRICE_TABLE = price_table_file()
ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class Price:
    """What Lambda charges in one region for one architecture (USD)."""

    region: str
    architecture: str
    request_usd_per_million: float
    gb_second_usd: float


@dataclass(frozen=True)
class PriceTable:
    path: str
    source: str
    as_of: str
    tier: str
    not_included: str
    prices: dict[str, dict[str, Price]]  # region -> architecture -> Price

    def price(self, region: str, architecture: str) -> Price:
        """The price in `region` for `architecture`; one line naming the table's regions when it has none."""
        found = self.prices.get(region, {}).get(architecture)
        if found is None:
            known = ", ".join(sorted(self.prices))
            raise TuneError(
                [
                    Problem(
                        self.path,
                        f"no Lambda {architecture} price for {region} (the table has {known}); "
                        "pass --prices FILE with that region",
                    )
                ]
            )
        return found


def load_price_table(path: Path = DEFAULT_PRICE_TABLE) -> PriceTable:
    """Read a price table; one problem per bad entry."""
    source = str(path)
    data = read_json_table(path, TuneError, "the price table")
    if not isinstance(data, dict) or not isinstance(data.get("prices"), dict):
        raise TuneError([Problem(source, 'expected {"source", "as_of", "prices": {region: {architecture: ...}}}')])
    problems: list[Problem] = []
    for key in ("source", "as_of"):
        if not isinstance(data.get(key), str) or not data[key]:
            problems.append(Problem(source, "expected a text naming where and when the prices were taken", key))
    prices: dict[str, dict[str, Price]] = {}
    for region, row in data["prices"].items():
        if not isinstance(row, dict):
            problems.append(Problem(source, "expected {architecture: prices}", f"prices.{region}"))
            continue
        for architecture, entry in row.items():
            where = f"prices.{region}.{architecture}"
            if architecture not in ARCHITECTURES:
                problems.append(
                    Problem(source, f"unknown architecture; expected one of {', '.join(ARCHITECTURES)}", where)
                )
                continue
            numbers = [entry.get(key) if isinstance(entry, dict) else None for key in _PRICE_KEYS]
            if not all(_is_price(key, number) for key, number in zip(_PRICE_KEYS, numbers, strict=True)):
                bounds = " and ".join(f"{key} (above 0, at most {_PRICE_CEILINGS[key]:g})" for key in _PRICE_KEYS)
                problems.append(Problem(source, f"expected {bounds}, in USD", where))
                continue
            prices.setdefault(region, {})[architecture] = Price(region, architecture, *map(float, numbers))
    if problems:
        raise TuneError(problems)
    return PriceTable(
        path=source,
        source=data["source"],
        as_of=data["as_of"],
        tier=str(data.get("tier", "")),
        not_included=str(data.get("not_included", "")),
        prices=prices,
    )


_PRICE_KEYS = ("request_usd_per_million", "gb_second_usd")


# Far above any Lambda price (0.20 USD per million requests, 0.0000166667 USD per GB-second): a value past
# these is a typo (or the wrong unit), and a cost model fed with it would print nonsense or overflow.
_PRICE_CEILINGS = {"request_usd_per_million": 1_000.0, "gb_second_usd": 1.0}


def _is_price(key: str, value: object) -> bool:
    """A price above 0 (a log chart cannot place a free setting) and below its ceiling."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return False
    return 0 < value <= _PRICE_CEILINGS[key]
