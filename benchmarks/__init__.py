"""Benchmarks: scripts that print figures. No pass/fail; the machines are shared and noisy."""
