"""Thin entry points: the `warta` CLI, the local Label Studio server, the demo job and the benchmark."""
