"""Checks and frequency grids shared by :mod:`antialias.spectral` (private to the package)."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch

from antialias._checks import check_float, check_int

ArrayLike = torch.Tensor | np.ndarray | Sequence[float] | Sequence[Sequence[float]]


# ----------------------------------------------------------------------------- validation


#: The most frequencies of a 1-D response grid (``worN`` as a count), and per axis of a 2-D
#: one: the responses are dense phasor products, so ``worN = 10**9`` would allocate gigabytes.
MAX_FREQUENCIES = 2**18
MAX_FREQUENCIES_2D = 2**12

#: The most float64 values of the probe batch a measured response feeds a module (256 MiB).
MAX_PROBE_VALUES = 2**25


def check_fs(fs: object) -> float:
    fs = check_float("fs", fs)
    if fs <= 0:
        raise ValueError(f"expected fs to be a finite real number > 0, got {fs}")
    return fs


def check_probe(what: str, values: int) -> None:
    """Refuse a probe batch of more than :data:`MAX_PROBE_VALUES` values before building it."""
    if values > MAX_PROBE_VALUES:
        raise ValueError(
            f"expected a probe batch of at most {MAX_PROBE_VALUES} values, got {values} "
            f"({what}): use a smaller size or fewer channels"
        )


def as_array(
    value: ArrayLike, name: str, ndims: tuple[int, ...], allow_complex: bool = False
) -> np.ndarray:
    """``value`` as a finite, non-empty float64 (or complex128) array with ndim in ``ndims``."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if not (value.is_floating_point() or value.is_complex()):
            value = value.to(torch.float64)
        elif value.dtype in (torch.float16, torch.bfloat16):
            value = value.to(torch.float64)
        array = value.numpy()
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as error:
            raise TypeError(f"expected {name} as an array of numbers, got {value!r}") from error
    kinds = "iufc" if allow_complex else "iuf"
    if array.dtype.kind not in kinds:
        what = "real or complex" if allow_complex else "real"
        raise TypeError(f"expected {name} as {what} numbers, got dtype {array.dtype}")
    if array.ndim not in ndims:
        expected = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(f"expected {name} {expected}, got shape {tuple(array.shape)}")
    if array.size == 0:
        raise ValueError(f"expected non-empty {name}, got shape {tuple(array.shape)}")
    array = array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"expected finite {name}, got NaN or inf")
    return array


def frequencies(worN: int | ArrayLike, whole: bool, fs: float) -> np.ndarray:
    """The frequency grid of :func:`frequency_response` (scipy's ``freqz`` rule)."""
    if isinstance(worN, numbers.Integral) and not isinstance(worN, bool):
        n = check_int("worN", worN, 1, MAX_FREQUENCIES)
        # freqz: n points from 0, endpoint excluded, over [0, fs) or [0, fs/2).
        return np.arange(n) * ((fs if whole else fs / 2) / n)
    return as_array(worN, "worN (frequencies)", (1,))


def grid2d(worN: int | ArrayLike | tuple[ArrayLike, ArrayLike], fs: float):
    """``(wy, wx)`` for 2-D responses: an int gives the centred FFT grid over ``[-fs/2, fs/2)``."""
    if isinstance(worN, numbers.Integral) and not isinstance(worN, bool):
        n = check_int("worN", worN, 1, MAX_FREQUENCIES_2D)
        w = np.fft.fftshift(np.fft.fftfreq(n, d=1.0 / fs))
        return w, w.copy()
    if isinstance(worN, tuple) and len(worN) == 2 and all(np.ndim(v) == 1 for v in worN):
        return (
            as_array(worN[0], "worN[0] (frequencies along H)", (1,)),
            as_array(worN[1], "worN[1] (frequencies along W)", (1,)),
        )
    w = as_array(worN, "worN (frequencies)", (1,))
    return w, w.copy()


def phasor(w: np.ndarray, n: int, fs: float = 1.0) -> np.ndarray:
    """``exp(-2j pi w k / fs)`` for ``k = 0..n-1``, shape ``(len(w), n)``."""
    return np.exp(-2j * np.pi * np.outer(w / fs, np.arange(n)))


def dc_images(up: int, ndim: int) -> list[tuple[int, ...]]:
    return [k for k in itertools.product(range(up), repeat=ndim) if any(k)]


def image_ratio(dc: float, images: np.ndarray) -> float:
    worst = float(np.max(images)) if len(images) else 0.0
    if dc == 0:
        return math.nan if worst == 0 else math.inf
    return float(worst / dc)
