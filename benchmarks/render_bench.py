"""Render time against the number of regions: load + validate + render both templates, in-process."""

from __future__ import annotations

import copy
import tempfile
import timeit
from pathlib import Path

import yaml

from generator.config import load_config
from generator.config.regions import known_regions
from generator.render import render_templates
from generator.resources import default_config_file


def main() -> None:
    base = yaml.safe_load(default_config_file().read_text(encoding="utf-8"))
    all_regions = list(known_regions())
    print("config -> validated -> both templates rendered and size-checked (best of 5; ms)")
    print(f"{'regions':>8} {'bind':>8} {'map':>8} {'global bytes (map)':>19}")
    with tempfile.TemporaryDirectory() as folder:
        for count in (1, 3, 10, len(all_regions)):
            times = {}
            for routing in ("bind", "map"):
                data = copy.deepcopy(base)
                data.update(routing=routing, regions=all_regions[:count])
                path = Path(folder) / f"{routing}-{count}.yaml"
                path.write_text(yaml.safe_dump(data))
                timer = timeit.Timer(lambda path=path: render_templates(load_config(path)))
                loops, _ = timer.autorange()
                times[routing] = min(timer.repeat(repeat=5, number=loops)) / loops * 1000
                if routing == "map":
                    size = len(render_templates(load_config(path))[0].to_json().encode())
            print(f"{count:>8} {times['bind']:>8.2f} {times['map']:>8.2f} {size:>19,}")
