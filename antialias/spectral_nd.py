"""Transposed-conv weights in 1, 2 or 3 spatial dimensions: polyphase gains and checkerboard.

What lives here: :func:`polyphase_components_nd` (the ``prod(stride)`` sub-kernels of a
``ConvTranspose1d/2d/3d`` weight, per-axis strides, dilation folded in),
:func:`phase_gains_nd` (their DC gains), :func:`checkerboard_index_nd` (response at the images
of DC relative to DC), and :func:`score_transposed_convs` (every transposed conv of a model,
e.g. the 3-D deconvs of MONAI's ``UNet(spatial_dims=3)``, scored; a warning when there is
none). What does not: 2-D frequency responses and the 1-D/2-D filter measures
(:mod:`antialias.spectral`, whose ``polyphase_components`` and ``checkerboard_index`` these
functions equal in 2-D with equal strides: tested), impulse-response probing of modules.

Phase convention (``torch.nn.ConvTranspose3d``'s, per axis): ``output[o] = sum_i x[i]
w[o - stride*i + padding]``. The full output ``z[o] = output[o - padding]`` has phase
``r = o mod stride`` (output ``o`` of the layer: ``(o + padding) mod stride``) and
``z[stride*m + r] = sum_j g_r[j] x[m - j]`` with ``g_r[j] = w[stride*j + r]``. A constant
input ``c`` gives ``z = G_r c`` in phase ``r``, with ``G_r = sum_j g_r[j]`` (a ``C_in x C_out``
matrix): flat output only when all ``G_r`` are equal. Frequencies in cycles/sample (Nyquist
= 0.5): the images of DC after zero insertion sit at ``(k_1/s_1, ..., k_d/s_d) != 0``, where
``H(k) = sum_r exp(-2j pi sum_d k_d r_d / s_d) G_r``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import torch
from torch import nn

from antialias._checks import check_int

__all__ = [
    "TransposedScore",
    "checkerboard_index_nd",
    "phase_gains_nd",
    "polyphase_components_nd",
    "score_transposed_convs",
]

ArrayLike = torch.Tensor | np.ndarray | Sequence


def _weight(weight: object) -> np.ndarray:
    """A finite real ``(C_in, C_out, *k)`` float64 array with 1 to 3 spatial axes."""
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().cpu().to(torch.float64).numpy()
    try:
        w = np.asarray(weight)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected weight as an array of real numbers, got {weight!r:.60}") from err
    if w.dtype.kind not in "iuf":
        raise TypeError(f"expected weight as real numbers, got dtype {w.dtype}")
    if w.ndim not in (3, 4, 5) or w.size == 0:
        raise ValueError(
            "expected weight of shape (C_in, C_out, *kernel) with 1 to 3 spatial axes, "
            f"got shape {tuple(w.shape)}"
        )
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)):
        raise ValueError("expected a finite weight, got NaN or inf")
    return w


def _per_axis(name: str, value: object, dims: int) -> tuple[int, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != dims:
            raise ValueError(
                f"expected {name} to be an integer or {dims} integers (one per spatial axis), "
                f"got {value!r}"
            )
        return tuple(check_int(name, v, minimum=1) for v in value)
    return (check_int(name, value, minimum=1),) * dims


def _dilate(w: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """The dense kernel of a dilated one: tap ``m`` at position ``m * dilation``."""
    if all(d == 1 for d in dilation):
        return w
    shape = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)]
    out = np.zeros(w.shape[:2] + tuple(shape))
    out[(..., *(slice(None, None, d) for d in dilation))] = w
    return out


def polyphase_components_nd(
    weight: ArrayLike, stride: int | Sequence[int], dilation: int | Sequence[int] = 1
) -> np.ndarray:
    """The polyphase sub-kernels of a transposed-conv weight, one per output phase.

    Component ``r = (r_1, ..., r_d)`` is ``g_r[j] = w[s_1 j_1 + r_1, ..., s_d j_d + r_d]``
    (module docstring), zero-padded at the end to ``ceil(k_d / s_d)`` taps per axis.

    Args:
        weight: ``ConvTranspose{1,2,3}d.weight``, layout ``(C_in, C_out/groups, *kernel)``.
        stride: an int or one per spatial axis.
        dilation: an int or one per spatial axis (folded into a dense kernel first).

    Returns:
        float64 array indexed ``[r_1, ..., r_d]``, each a ``(C_in, C_out, *ceil(k/s))`` weight.

    Shape:
        - weight: ``(C_in, C_out, *k)``
        - output: ``(*s, C_in, C_out, *ceil(k_d / s_d))``

    Example:
        >>> w = np.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> polyphase_components_nd(w, (2, 1, 2))[1, 0, 0, 0, 0].tolist()  # D row 1, W col 0
        [[[4.0], [6.0]]]
    """
    w = _weight(weight)
    dims = w.ndim - 2
    strides = _per_axis("stride", stride, dims)
    w = _dilate(w, _per_axis("dilation", dilation, dims))
    ks = [-(-k // s) for k, s in zip(w.shape[2:], strides)]
    padded = np.zeros(w.shape[:2] + tuple(k * s for k, s in zip(ks, strides)))
    padded[(..., *(slice(0, k) for k in w.shape[2:]))] = w
    # (C_in, C_out, K_1, s_1, ..., K_d, s_d) -> (s_1, ..., s_d, C_in, C_out, K_1, ..., K_d)
    split = padded.reshape(w.shape[:2] + tuple(v for k, s in zip(ks, strides) for v in (k, s)))
    order = [3 + 2 * d for d in range(dims)] + [0, 1] + [2 + 2 * d for d in range(dims)]
    return np.ascontiguousarray(split.transpose(order))


def phase_gains_nd(
    weight: ArrayLike, stride: int | Sequence[int], dilation: int | Sequence[int] = 1
) -> np.ndarray:
    """DC gain ``G_r`` (sum of taps) of every output phase: shape ``(*s, C_in, C_out)``.

    On a constant input ``c`` (per input channel), away from the borders, phase ``r`` of
    output channel ``o`` equals ``sum_i c_i G_r[i, o]``.

    Example:
        >>> phase_gains_nd(np.ones((1, 1, 3, 3, 3)), 2)[..., 0, 0][:, :, 0].tolist()
        [[8.0, 4.0], [4.0, 2.0]]
    """
    parts = polyphase_components_nd(weight, stride, dilation)
    dims = (parts.ndim - 2) // 2
    return parts.sum(axis=tuple(range(parts.ndim - dims, parts.ndim)))


def _root(k: int, s: int) -> complex:
    """``exp(-2j pi k / s)``, exactly 1, -1, +-1j where those are the values."""
    z = complex(np.exp(-2j * np.pi * k / s))
    re = 0.0 if abs(z.real) < 1e-15 else z.real
    im = 0.0 if abs(z.imag) < 1e-15 else z.imag
    return complex(re, im)


def checkerboard_index_nd(
    weight: ArrayLike,
    stride: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> float:
    """Response at the images of DC relative to DC: ``max_k ||H(k)||_2 / ||H(0)||_2``.

    ``H(k)`` (module docstring) is a ``C_in x C_out`` matrix per image frequency ``k`` (block
    diagonal over ``groups``), ``||.||_2`` its operator norm: the worst case over input channel
    mixtures. 0 exactly (to rounding) when all phases have equal DC gains; for a constant input
    the output's peak-to-mean modulation at each image is this ratio. Strides of 1 have no
    images: 0.

    Args:
        weight: ``(C_in, C_out/groups, *kernel)``, 1 to 3 spatial axes.
        stride: an int or one per axis (anisotropic deconvs: ``(1, 2, 2)``).
        dilation: an int or one per axis.
        groups: the layer's groups (``C_in`` divisible by it).

    Returns:
        The index, >= 0; ``inf`` when ``H(0) = 0`` but an image does not vanish, ``nan`` when
        both vanish.

    Example:
        >>> checkerboard_index_nd(np.ones((1, 1, 2, 2, 2)), 2)  # nearest: flat
        0.0
        >>> round(checkerboard_index_nd(np.ones((1, 1, 3, 3, 3)), 2), 4)  # 3x3x3 stride 2
        0.3333
    """
    gains = phase_gains_nd(weight, stride, dilation)
    dims = gains.ndim - 2
    strides = gains.shape[:dims]
    groups = check_int("groups", groups, minimum=1)
    c_in = gains.shape[dims]
    if c_in % groups:
        raise ValueError(f"expected C_in = {c_in} divisible by groups = {groups}")
    phases = list(product(*(range(s) for s in strides)))
    images = [k for k in phases if any(k)]
    if not images:
        return 0.0
    per = c_in // groups

    def norm(k: tuple[int, ...]) -> float:
        h = sum(
            math.prod(_root(kd * rd, s) for kd, rd, s in zip(k, r, strides)) * gains[r]
            for r in phases
        )
        blocks = [h[g * per : (g + 1) * per] for g in range(groups)]
        return max(float(np.linalg.norm(b, 2)) for b in blocks)

    dc = norm((0,) * dims)
    worst = max(norm(k) for k in images)
    if dc == 0:
        return math.nan if worst == 0 else math.inf
    return worst / dc


@dataclass(frozen=True)
class TransposedScore:
    """One transposed conv of a model and its checkerboard index."""

    name: str
    spatial_dims: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    checkerboard_index: float
    phase_gain_spread: float  # (max - min) / max |G| over phases, worst channel pair


_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def score_transposed_convs(model: nn.Module) -> list[TransposedScore]:
    """Every ``ConvTranspose{1,2,3}d`` of ``model`` with its checkerboard index, in module order.

    Warns (``UserWarning``) when the model has no transposed conv: an up-sampling path by
    interpolation or pixel shuffle has no learned kernel here to read, and "0 layers" must not
    pass silently.

    A MONAI volume U-Net (``tests/test_spectral_nd.py`` runs this)::

        from monai.networks.nets import UNet
        unet = UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=(8, 16, 32),
                    strides=(2, 2))
        for s in score_transposed_convs(unet):  # model.1.submodule.2.conv, model.2.conv
            print(s.name, s.kernel_size, s.stride, f"{s.checkerboard_index:.3f}")

    Example:
        >>> net = nn.Sequential(nn.ConvTranspose3d(2, 2, 2, stride=2), nn.ReLU())
        >>> [(s.name, s.spatial_dims, s.stride) for s in score_transposed_convs(net)]
        [('0', 3, (2, 2, 2))]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be a torch.nn.Module, got {type(model).__name__}")
    scores = []
    for name, module in model.named_modules():
        if not isinstance(module, _TRANSPOSED):
            continue
        w = module.weight
        gains = phase_gains_nd(w, module.stride, module.dilation)
        dims = w.dim() - 2
        flat = gains.reshape(-1, *gains.shape[dims:])
        scale = float(np.abs(flat).max())
        spread = float((flat.max(axis=0) - flat.min(axis=0)).max() / scale) if scale else 0.0
        index = checkerboard_index_nd(w, module.stride, module.dilation, module.groups)
        scores.append(
            TransposedScore(
                name, dims, tuple(module.kernel_size), tuple(module.stride), index, spread
            )
        )
    if not scores:
        warnings.warn(
            f"found no transposed conv in {type(model).__name__}: no learned up-sampling "
            "kernel to score",
            UserWarning,
            stacklevel=2,
        )
    return scores
