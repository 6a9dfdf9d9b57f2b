"""Benchmarks: ``python -m tools.bench [NAME ...]``. Each module prints its figures."""
