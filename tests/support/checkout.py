"""The checkout the tests run from, and the files it ships as the package finds them (generator.resources)."""

from __future__ import annotations

from pathlib import Path

from generator.resources import canary_handler_file, default_config_file, packet_counter_handler_file

CHECKOUT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = default_config_file()  # config/config.yaml
HANDLER_FILE = packet_counter_handler_file()  # handler/packet_counter.py
CANARY_HANDLER_FILE = canary_handler_file()  # handler/canary.py
