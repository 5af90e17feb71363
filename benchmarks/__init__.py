"""Benchmarks: every recipe against a plain reference implementation, side by side.

Run `python -m benchmarks --help` (or `make bench`). Results go to benchmarks/results.json
and benchmarks/results.md.
"""
