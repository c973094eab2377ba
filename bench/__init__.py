"""Benchmarks: each module starts a throwaway stack, measures one path against a baseline taken in
the same run, prints a table and writes JSON to bench/results/. Never part of the test run."""
