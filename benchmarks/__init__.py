"""Mycelia benchmark suite: workloads W1-W8 across mycelia, numpy, torch, jax and MindSpore (see README.md)."""
