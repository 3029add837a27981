"""Argument pairs, phase indices and the size bound shared by :mod:`antialias.transposed`
(private to the package)."""

from __future__ import annotations

import torch
from torch import Tensor

from antialias._checks import check_int

#: The most entries of a dense matrix (or pixels of a counting map) built here from size
#: arguments: 2**25 float64 values are 256 MiB; these views are for small examples.
MAX_MATRIX_ENTRIES = 2**25


def pair(name: str, value: int | tuple[int, int], minimum: int) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"expected {name} to be an int or a pair, got {value!r}")
        return (check_int(name, value[0], minimum), check_int(name, value[1], minimum))
    v = check_int(name, value, minimum)
    return (v, v)


def phase_index(kernel: int, stride: int, dilation: int) -> tuple[Tensor, Tensor, int]:
    # tap t lands at full-output offset d t = s q + r: phase r, low-resolution shift q
    offset = dilation * torch.arange(kernel)
    return offset % stride, offset // stride, dilation * (kernel - 1) // stride + 1
