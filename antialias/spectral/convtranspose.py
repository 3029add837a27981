"""Transposed convolutions in frequency: their polyphase components and responses, with the
checkerboard and imaging measures of :mod:`.measures` per channel pair."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from antialias._checks import check_int

from ._common import ArrayLike, as_array, grid2d, phasor
from .measures import checkerboard_index, imaging_energy

# ----------------------------------------------------------------------------- transposed conv


def polyphase_components(weight: torch.Tensor | np.ndarray, stride: int):
    """Split transposed-conv weights into the ``stride**2`` polyphase sub-kernels.

    Phase convention (that of ``torch.nn.ConvTranspose2d``, no dilation, no groups): per axis,
    ``output[o] = sum_i x[i] w[o - stride*i + padding]``. Let ``z[o] = output[o - padding]``
    be the full (``padding = 0``) output. For the output phase ``r`` in ``0..stride-1``,

        ``z[stride*m + r] = sum_j g_r[j] x[m - j]``  with  ``g_r[j] = w[stride*j + r]``,

    an ordinary *convolution* (not correlation) of the input with ``g_r``; in torch that is
    ``F.conv_transpose2d(x, g_r)`` with stride 1 (the full convolution). So component
    ``(ry, rx)`` produces the outputs ``o`` with ``(o + padding) % stride == r`` per axis.
    Sub-kernels are zero-padded at the end to ``ceil(k / stride)`` taps, which changes nothing.

    Their sums ``G_r`` (DC gains) decide checkerboarding: a constant input ``c`` gives
    ``z[stride*m + r] = G_r c``, flat only if all ``G_r`` are equal (see
    :func:`checkerboard_index`).

    Args:
        weight: ``ConvTranspose2d.weight`` layout ``(C_in, C_out, kh, kw)``; tensor or array.
        stride: the stride ``s >= 1`` (same on both axes).

    Returns:
        The sub-kernels, same type/dtype/device as ``weight``, indexed ``[ry, rx]``; each is
        itself a ``(C_in, C_out, Ky, Kx)`` transposed-conv weight.

    Shape:
        - weight: ``(C_in, C_out, kh, kw)``
        - output: ``(s, s, C_in, C_out, ceil(kh/s), ceil(kw/s))``

    Example:
        >>> w = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> polyphase_components(w, 2)[0, 1, 0, 0].tolist()  # rows 0, 2; column 1
        [[1.0, 0.0], [7.0, 0.0]]
    """
    stride = check_int("stride", stride, 1)
    if isinstance(weight, torch.Tensor):
        if weight.ndim != 4:
            raise ValueError(
                f"expected weight of shape (C_in, C_out, kh, kw), got {tuple(weight.shape)}"
            )
        c_in, c_out, kh, kw = weight.shape
        ky, kx = -(-kh // stride), -(-kw // stride)
        padded = weight.new_zeros(c_in, c_out, ky * stride, kx * stride)
        padded[..., :kh, :kw] = weight
        parts = padded.reshape(c_in, c_out, ky, stride, kx, stride).permute(3, 5, 0, 1, 2, 4)
        return parts.contiguous()
    w = as_array(weight, "weight of shape (C_in, C_out, kh, kw)", (4,), allow_complex=True)
    c_in, c_out, kh, kw = w.shape
    ky, kx = -(-kh // stride), -(-kw // stride)
    padded = np.zeros((c_in, c_out, ky * stride, kx * stride), dtype=w.dtype)
    padded[..., :kh, :kw] = w
    parts = padded.reshape(c_in, c_out, ky, stride, kx, stride).transpose(3, 5, 0, 1, 2, 4)
    return np.ascontiguousarray(parts)


@dataclass(frozen=True)
class TransposedResponse:
    """Per-frequency response of a multi-channel transposed convolution.

    Attributes:
        wy, wx: frequencies in *output* cycles/pixel, shapes ``(Ny,)``, ``(Nx,)``.
        matrix: ``H(fy, fx)``, the ``C_out x C_in`` matrix per frequency, shape
            ``(Ny, Nx, C_out, C_in)``, complex; ``Y(f) = e^{2j pi f.padding} H(f) X(stride f)``.
        spectral_norm: operator 2-norm of ``matrix`` per frequency (largest gain over all
            input channel mixtures), shape ``(Ny, Nx)``.
        frobenius_norm: Frobenius norm of ``matrix`` per frequency (RMS gain times
            ``sqrt(C_in)`` for white channel-independent input), shape ``(Ny, Nx)``.
        stride: the stride the measures below refer to.
        checkerboard_index: :func:`checkerboard_index` of the weight (spectral norms).
        imaging_energy: :func:`imaging_energy` of the weight (Frobenius, summed over channels).
    """

    wy: np.ndarray
    wx: np.ndarray
    matrix: np.ndarray
    spectral_norm: np.ndarray
    frobenius_norm: np.ndarray
    stride: int
    checkerboard_index: float
    imaging_energy: float


def _channel_response(w: np.ndarray, wy: np.ndarray, wx: np.ndarray) -> np.ndarray:
    """``H[fy, fx, c_out, c_in]`` of weights ``(C_in, C_out, ky, kx)``."""
    ey = phasor(wy, w.shape[2])
    ex = phasor(wx, w.shape[3])
    return np.einsum("iomn,am,bn->aboi", w, ey, ex, optimize=True)


def transposed_response(
    weight: torch.Tensor | np.ndarray,
    stride: int,
    worN: int | ArrayLike | tuple[ArrayLike, ArrayLike] = 64,
) -> TransposedResponse:
    """Response maps of transposed-conv weights (zeros + a matrix-valued FIR).

    A transposed conv with stride ``s`` is exactly "insert ``s-1`` zeros, then convolve with
    the kernel", so per output frequency ``f`` (output cycles/pixel) it multiplies the input
    spectrum at ``s f`` by the ``C_out x C_in`` matrix
    ``H(f)[co, ci] = sum_{m,n} weight[ci, co, m, n] exp(-2j pi (fy m + fx n))`` (phase from tap
    ``(0, 0)``; a ``padding`` only adds the unimodular factor ``exp(2j pi f.padding)``, which no
    norm sees). The images of DC sit at ``(ky/s, kx/s)``.

    Args:
        weight: ``ConvTranspose2d.weight``, ``(C_in, C_out, kh, kw)``, real.
        stride: the stride ``s >= 1``.
        worN: frequency grid as in :func:`frequency_response2d` (int: centred FFT grid).

    Returns:
        A :class:`TransposedResponse`.

    Shape:
        - weight: ``(C_in, C_out, kh, kw)``
        - matrix: ``(Ny, Nx, C_out, C_in)``; spectral_norm, frobenius_norm: ``(Ny, Nx)``
    """
    stride = check_int("stride", stride, 1)
    w = as_array(weight, "weight of shape (C_in, C_out, kh, kw)", (4,))
    wy, wx = grid2d(worN, 1.0)
    H = _channel_response(w, wy, wx)
    return TransposedResponse(
        wy=wy,
        wx=wx,
        matrix=H,
        spectral_norm=np.linalg.svd(H, compute_uv=False)[..., 0],
        frobenius_norm=np.sqrt(np.sum(np.abs(H) ** 2, axis=(-2, -1))),
        stride=stride,
        checkerboard_index=checkerboard_index(w, stride),
        imaging_energy=imaging_energy(w, stride),
    )
