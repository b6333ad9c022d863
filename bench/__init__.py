"""Benchmarks: `python -m bench [name ...]` runs them and prints each as a table with ratios to a baseline
measured in the same run."""
