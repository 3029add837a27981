"""Shared test setup: fixed seeds and one thread (the CI machine has 2 cores)."""

from __future__ import annotations

import pytest
import torch

# Tiny float64 test tensors run fastest on one thread; more only adds contention on CI.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
