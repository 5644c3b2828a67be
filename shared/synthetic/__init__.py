"""A synthetic population of holders: seeded, deterministic, columnar (Arrow), written to Parquet.

The simulation scores it, `make run` seeds the demo registries from it, the benchmarks time it.
Distributions are documented in the README ("The synthetic population").
"""
