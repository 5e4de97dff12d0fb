"""`make bench`: run every benchmarks/*_bench.py module's main() in turn (or those named on the command line)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(names: list[str]) -> int:
    names = [word for name in names for word in name.split()]  # make bench BENCH="udp handler": one argument
    modules = sorted(info.name for info in pkgutil.iter_modules(benchmarks.__path__) if info.name.endswith("_bench"))
    selected = [name for name in modules if not names or any(wanted in name for wanted in names)]
    for name in selected:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
