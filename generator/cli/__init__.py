"""cli/: the only code that prints, asks or reads the terminal (`packet-counter`, `python -m generator`)."""

from generator.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
