"""Interleaved timing shared by the benchmark scripts: medians of round-robin calls.

Each contender is called once to warm up, then the contenders take turns ``repeats`` times, so
a load spike on this shared machine hits all of them alike; ratios are taken of the medians.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

Fn = Callable[[torch.Tensor], torch.Tensor]


def _runner(fn: Fn, x: torch.Tensor, backward: bool) -> Callable[[], None]:
    if not backward:

        def run() -> None:
            with torch.no_grad():
                fn(x)

        return run
    xg = x.detach().clone().requires_grad_(True)
    with torch.no_grad():
        # A dense upstream gradient, as in training (sum().backward() would pass a stride-0
        # tensor, which some contenders copy first and others do not).
        grad = torch.randn_like(fn(x))

    def run_bw() -> None:
        xg.grad = None
        fn(xg).backward(grad)

    return run_bw


def time_interleaved(
    fns: dict[str, Fn], x: torch.Tensor, backward: bool, repeats: int
) -> dict[str, float]:
    """Median seconds per call of each function, timed round-robin after one warm-up call."""
    runs = {name: _runner(fn, x, backward) for name, fn in fns.items()}
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}
