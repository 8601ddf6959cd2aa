"""Benchmarks: scripts that print figures beside their baselines (see BENCHMARKS.md)."""
