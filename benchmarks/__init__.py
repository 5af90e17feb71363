"""Benchmarks: speed and memory measurements, kept out of the test suite."""
