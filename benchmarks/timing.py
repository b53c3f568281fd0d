# -*- coding: utf-8 -*-
"""The benchmarks' one timing helper."""

import time


def best_of(rounds, fn):
    """(the fastest of ``rounds`` runs of ``fn`` in seconds, the last run's value)."""
    best, value = None, None
    for _round in range(rounds):
        t0 = time.perf_counter()
        value = fn()
        took = time.perf_counter() - t0
        best = took if best is None else min(best, took)
    return best, value
