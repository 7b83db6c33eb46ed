"""Benchmarks: ``make bench`` (all) or ``make bench ONLY=<prefix>``.

Each prints its figures as ``BENCH <name> <value> <unit>`` lines.
"""
