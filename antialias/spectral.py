"""Frequency responses of filters, transposed convolutions and whole modules, and the measures
built on them: DC gain, checkerboard index, imaging / aliasing energy, -3 dB cutoff, stop-band
attenuation.

Conventions used throughout:

- Frequencies are in cycles/pixel (Nyquist 0.5) unless ``fs`` says otherwise; with ``fs`` they
  are in the units of ``fs`` (Nyquist ``fs/2``), exactly as in :func:`scipy.signal.freqz`.
- 1-D taps ``h[0..K-1]`` have the response ``H(f) = sum_n h[n] exp(-2j pi f n / fs)``, phase
  measured from tap 0 (as ``freqz``). Moving the origin multiplies ``H`` by a unimodular factor,
  so every *measure* here (all are built on magnitudes) is independent of it.
- An up-sampler by ``up`` is "zeros + FIR": insert ``up - 1`` zeros after every sample, then
  convolve with the taps. Its output spectrum is ``Y(f) = H(f) X(up f)`` (``f`` in output
  cycles/pixel); it preserves a constant when ``H(0) = up`` per axis. A down-sampler by ``down``
  filters (``H(0) = 1``) and keeps every ``down``-th sample.
- The general multi-rate model (scipy's ``upfirdn``) used by :func:`impulse_response`:
  ``y[o] = sum_i x[i] h[down*o - up*i + origin]``, per axis.

What lives elsewhere: filter design (:mod:`antialias.filters`), applying filters
(:mod:`antialias.resample`), the taps of torch's interpolation modes (:mod:`antialias.catalogue`).
Everything here computes in float64 (NumPy), also when given torch tensors.
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import torch

from antialias._checks import check_float, check_int
from antialias.transposed import phase_gains

__all__ = [
    "AliasingProbe",
    "ImpulseResponse",
    "TransposedResponse",
    "aliasing_energy",
    "aliasing_energy_empirical",
    "checkerboard_index",
    "constant_input_checkerboard",
    "cutoff_3db",
    "dc_gain",
    "frequency_response",
    "frequency_response2d",
    "imaging_energy",
    "impulse_response",
    "polyphase_components",
    "stopband_attenuation_db",
    "transposed_response",
]

ArrayLike = torch.Tensor | np.ndarray | Sequence[float] | Sequence[Sequence[float]]


# ----------------------------------------------------------------------------- validation


#: The most frequencies of a 1-D response grid (``worN`` as a count), and per axis of a 2-D
#: one: the responses are dense phasor products, so ``worN = 10**9`` would allocate gigabytes.
MAX_FREQUENCIES = 2**18
MAX_FREQUENCIES_2D = 2**12

#: The most float64 values of the probe batch a measured response feeds a module (256 MiB).
MAX_PROBE_VALUES = 2**25


def _check_fs(fs: object) -> float:
    fs = check_float("fs", fs)
    if fs <= 0:
        raise ValueError(f"expected fs to be a finite real number > 0, got {fs}")
    return fs


def _check_probe(what: str, values: int) -> None:
    """Refuse a probe batch of more than :data:`MAX_PROBE_VALUES` values before building it."""
    if values > MAX_PROBE_VALUES:
        raise ValueError(
            f"expected a probe batch of at most {MAX_PROBE_VALUES} values, got {values} "
            f"({what}): use a smaller size or fewer channels"
        )


def _as_array(
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


def _frequencies(worN: int | ArrayLike, whole: bool, fs: float) -> np.ndarray:
    """The frequency grid of :func:`frequency_response` (scipy's ``freqz`` rule)."""
    if isinstance(worN, numbers.Integral) and not isinstance(worN, bool):
        n = check_int("worN", worN, 1, MAX_FREQUENCIES)
        # freqz: n points from 0, endpoint excluded, over [0, fs) or [0, fs/2).
        return np.arange(n) * ((fs if whole else fs / 2) / n)
    return _as_array(worN, "worN (frequencies)", (1,))


def _grid2d(worN: int | ArrayLike | tuple[ArrayLike, ArrayLike], fs: float):
    """``(wy, wx)`` for 2-D responses: an int gives the centred FFT grid over ``[-fs/2, fs/2)``."""
    if isinstance(worN, numbers.Integral) and not isinstance(worN, bool):
        n = check_int("worN", worN, 1, MAX_FREQUENCIES_2D)
        w = np.fft.fftshift(np.fft.fftfreq(n, d=1.0 / fs))
        return w, w.copy()
    if isinstance(worN, tuple) and len(worN) == 2 and all(np.ndim(v) == 1 for v in worN):
        return (
            _as_array(worN[0], "worN[0] (frequencies along H)", (1,)),
            _as_array(worN[1], "worN[1] (frequencies along W)", (1,)),
        )
    w = _as_array(worN, "worN (frequencies)", (1,))
    return w, w.copy()


def _phasor(w: np.ndarray, n: int, fs: float = 1.0) -> np.ndarray:
    """``exp(-2j pi w k / fs)`` for ``k = 0..n-1``, shape ``(len(w), n)``."""
    return np.exp(-2j * np.pi * np.outer(w / fs, np.arange(n)))


# ----------------------------------------------------------------------------- responses


def frequency_response(
    taps: ArrayLike, worN: int | ArrayLike = 512, whole: bool = False, fs: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency response of 1-D FIR taps, like :func:`scipy.signal.freqz` with ``a = 1``.

    ``h[k] = sum_n taps[n] exp(-2j pi w[k] n / fs)``, phase measured from tap 0.

    Args:
        taps: 1-D taps (sequence, NumPy array or tensor), real or complex, finite.
        worN: number of frequencies (``[0, fs/2)``, or ``[0, fs)`` when ``whole``; endpoint
            excluded, as ``freqz``) or a 1-D array of frequencies in the units of ``fs``.
        whole: with an int ``worN``, cover the whole period ``[0, fs)``.
        fs: sampling frequency; 1 (default) means cycles/pixel, Nyquist 0.5. ``2*pi`` gives
            radians/sample, as ``freqz``'s default.

    Returns:
        ``(w, h)``: frequencies (units of ``fs``) and the complex response (float64/complex128).

    Shape:
        - taps: ``(K,)``
        - w, h: ``(worN,)`` or ``(len(worN),)``

    Example:
        >>> w, h = frequency_response([1, 1], worN=4)  # nearest x2: |H| = 2|cos(pi f)|
        >>> w.tolist(), np.round(np.abs(h), 4).tolist()
        ([0.0, 0.125, 0.25, 0.375], [2.0, 1.8478, 1.4142, 0.7654])
    """
    fs = _check_fs(fs)
    h = _as_array(taps, "taps", (1,), allow_complex=True)
    w = _frequencies(worN, whole, fs)
    return w, _phasor(w, h.shape[0], fs) @ h


def frequency_response2d(
    kernel: ArrayLike, worN: int | ArrayLike | tuple[ArrayLike, ArrayLike] = 64, fs: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency response of a 2-D kernel on a grid of ``(fy, fx)``.

    ``H[i, j] = sum_{m,n} kernel[m, n] exp(-2j pi (wy[i] m + wx[j] n) / fs)`` (phase from tap
    ``(0, 0)``); ``m`` runs along H (rows), ``n`` along W (columns).

    Args:
        kernel: 2-D kernel, real or complex, finite.
        worN: an int ``n`` gives the centred grid ``fftshift(fftfreq(n, 1/fs))`` on both axes
            (covers ``[-fs/2, fs/2)``, contains 0, and ``-fs/2`` when ``n`` is even); a 1-D array
            is used on both axes; a tuple ``(wy, wx)`` of 1-D arrays gives each axis its own.
        fs: sampling frequency; 1 means cycles/pixel (Nyquist 0.5).

    Returns:
        ``(wy, wx, H)`` with ``H`` complex.

    Shape:
        - kernel: ``(Ky, Kx)``
        - wy: ``(Ny,)``, wx: ``(Nx,)``, H: ``(Ny, Nx)``

    Example:
        >>> wy, wx, H = frequency_response2d(np.ones((2, 2)), worN=4)
        >>> wy.tolist(), np.round(np.abs(H[2]), 4).tolist()  # row fy = 0
        ([-0.5, -0.25, 0.0, 0.25], [0.0, 2.8284, 4.0, 2.8284])
    """
    fs = _check_fs(fs)
    k = _as_array(kernel, "kernel", (2,), allow_complex=True)
    wy, wx = _grid2d(worN, fs)
    H = _phasor(wy, k.shape[0], fs) @ k @ _phasor(wx, k.shape[1], fs).T
    return wy, wx, H


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
    w = _as_array(weight, "weight of shape (C_in, C_out, kh, kw)", (4,), allow_complex=True)
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
    ey = _phasor(wy, w.shape[2])
    ex = _phasor(wx, w.shape[3])
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
    w = _as_array(weight, "weight of shape (C_in, C_out, kh, kw)", (4,))
    wy, wx = _grid2d(worN, 1.0)
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


# ----------------------------------------------------------------------------- measures


def dc_gain(taps: ArrayLike) -> float:
    """DC gain ``H(0) = sum of the taps`` of 1-D taps or a 2-D kernel.

    Conventions: interpolation taps for ``up`` have DC gain ``up`` per axis (``up**2`` for a 2-D
    kernel); low-pass taps for down-sampling have DC gain 1.

    Shape:
        - taps: ``(K,)`` or ``(Ky, Kx)``

    Example:
        >>> dc_gain([0.25, 0.75, 0.75, 0.25])
        2.0
    """
    return float(_as_array(taps, "taps", (1, 2)).sum())


def _dc_images(up: int, ndim: int) -> list[tuple[int, ...]]:
    return [k for k in itertools.product(range(up), repeat=ndim) if any(k)]


def checkerboard_index(taps: ArrayLike, up: int) -> float:
    """Response at the images of DC relative to DC: ``max_k |H(k/up)| / |H(0)|``.

    After zero insertion by ``up`` the spectrum of a constant input has images at the
    frequencies ``k/up`` (cycles/pixel, ``k = 1..up-1``; in 2-D all ``(ky/up, kx/up) != (0, 0)``,
    e.g. ``(0.5, 0)``, ``(0, 0.5)``, ``(0.5, 0.5)`` for ``up = 2``). Whatever of them the filter
    lets through is a periodic pattern of period ``up`` on flat input: the checkerboard. Since
    ``H(k/up) = sum_r exp(-2j pi k r/up) G_r`` with ``G_r`` the sums of the polyphase
    components (:func:`polyphase_components`), the index is 0 exactly when all polyphase
    components have the same DC gain. For a constant input the output's peak-to-mean modulation
    at each image is this ratio (see :func:`constant_input_checkerboard` for the measured twin).

    For multi-channel weights ``H`` is a matrix and ``|.|`` is its operator 2-norm, so the index
    is the worst case over input channel mixtures of the ratio of norms; either layout
    ``(C_in, C_out, k, k)`` or ``(C_out, C_in, k, k)`` gives the same value.

    Args:
        taps: 1-D taps ``(K,)``, a 2-D kernel ``(Ky, Kx)`` or multi-channel weights
            ``(C_a, C_b, Ky, Kx)``; real.
        up: the up-sampling factor (stride) ``>= 1``; ``up = 1`` has no images and gives 0.

    Returns:
        The index, >= 0; ``inf`` when ``H(0) = 0`` but an image does not vanish, ``nan`` when
        both vanish.

    Example:
        >>> checkerboard_index([1, 1], 2), checkerboard_index([1, 1, 1], 2)
        (0.0, 0.3333333333333333)
    """
    up = check_int("up", up, 1)
    h = _as_array(taps, "taps", (1, 2, 4))
    if up == 1:
        return 0.0
    # Through the polyphase sums G_r, with exact roots of unity where they exist (up = 2, 4), so
    # equal sums give exactly 0: H(k/up) = sum_r exp(-2j pi k r / up) G_r.
    roots = np.exp(-2j * np.pi * np.arange(up) / up)
    roots = np.where(np.abs(roots.real) < 1e-15, 0, roots.real) + 1j * np.where(
        np.abs(roots.imag) < 1e-15, 0, roots.imag
    )
    r = np.arange(up)
    if h.ndim == 1:
        # the polyphase sums G_r: transposed.phase_gains of the taps as a (1, 1, 1, K) weight
        sums = phase_gains(torch.from_numpy(h).view(1, 1, 1, -1), (1, up))[0, :, 0, 0].numpy()
        gains = np.array([abs(np.sum(roots[(k * r) % up] * sums)) for k in r])
        return _image_ratio(gains[0], gains[1:])
    if h.ndim == 2:
        h = h[None, None]
    sums = phase_gains(torch.from_numpy(np.ascontiguousarray(h)), up).numpy()
    mats = np.stack(
        [
            np.einsum("y,x,yxab->ab", roots[(ky * r) % up], roots[(kx * r) % up], sums)
            for ky, kx in [(0, 0), *_dc_images(up, 2)]
        ]
    )
    gains = np.linalg.svd(mats, compute_uv=False)[:, 0]
    return _image_ratio(gains[0], gains[1:])


def _image_ratio(dc: float, images: np.ndarray) -> float:
    worst = float(np.max(images)) if len(images) else 0.0
    if dc == 0:
        return math.nan if worst == 0 else math.inf
    return float(worst / dc)


def _sinc_matrix(n: int, a: float) -> np.ndarray:
    """``S[m, k] = integral_{-a}^{a} exp(-2j pi f (m - k)) df = 2a sinc(2a (m - k))``."""
    d = np.subtract.outer(np.arange(n), np.arange(n))
    return 2 * a * np.sinc(2 * a * d)


def _energy_outside(h: np.ndarray, factor: int) -> float:
    """Share of ``integral |H|^2`` outside ``|f| < 1/(2 factor)`` (per axis), exact."""
    a = 1.0 / (2 * factor)
    total = float(np.sum(h * h))
    if total == 0:
        return math.nan
    if h.ndim == 1:
        inside = float(h @ _sinc_matrix(h.shape[0], a) @ h)
    else:
        # Parseval on the square pass-band: sum_{m,n} K[m] K[n] S_y[m_y, n_y] S_x[m_x, n_x];
        # leading (channel) axes are summed, which is the Frobenius norm over channels.
        sy, sx = _sinc_matrix(h.shape[-2], a), _sinc_matrix(h.shape[-1], a)
        inside = float(np.sum(h * (sy @ h @ sx)))
    return min(1.0, max(0.0, 1.0 - inside / total))


def imaging_energy(taps: ArrayLike, up: int) -> float:
    """Share of an up-sampler's ``|H|^2`` energy outside the pass-band ``|f| < 1/(2 up)``.

    Definition: with ``H`` the response of the interpolation taps (output cycles/pixel),

        ``E = 1 - integral_{P} |H(f)|^2 df / integral_{[-1/2, 1/2)^d} |H(f)|^2 df``,

    where the pass-band ``P`` is ``|f| < 1/(2 up)`` in 1-D and the square
    ``|fy|, |fx| < 1/(2 up)`` in 2-D (the input's Nyquist band, per axis). For white input this
    is the share of output power that sits in the spectral images (the imaging artefacts); the
    ideal interpolator has 0, zero insertion without filter ``1 - 1/up**d``. Multi-channel weights
    ``(C_a, C_b, Ky, Kx)`` use ``||H(f)||_F^2`` (summed over channel pairs). Computed exactly
    (Parseval with the sinc matrix), no frequency grid.

    Args:
        taps: 1-D taps, 2-D kernel or 4-D multi-channel weights; real.
        up: the up-sampling factor ``>= 1``.

    Returns:
        The share in ``[0, 1]`` (``nan`` for all-zero taps).

    Example:
        >>> round(imaging_energy([1, 1], 2), 6)  # nearest x2: (1 - 2/pi) / 2
        0.18169
    """
    up = check_int("up", up, 1)
    return _energy_outside(_as_array(taps, "taps", (1, 2, 4)), up)


def aliasing_energy(taps: ArrayLike, down: int) -> float:
    """Share of a down-sampler's ``|H|^2`` energy above the new Nyquist, which folds back.

    Definition: for "filter with ``taps``, keep every ``down``-th sample", with ``H`` the taps'
    response (input cycles/pixel),

        ``A = 1 - integral_{P} |H(f)|^2 df / integral_{[-1/2, 1/2)^d} |H(f)|^2 df``,

    with ``P`` the band ``|f| < 1/(2 down)`` (1-D) or the square ``|fy|, |fx| < 1/(2 down)``
    (2-D). For white input it is the share of output power that arrived by aliasing (every
    frequency outside ``P`` lands on a different one inside the new band). Decimation without
    filter (``taps = [1]``) gives ``1 - 1/down**d``; the ideal low-pass 0. Exact (Parseval).

    Args:
        taps: 1-D taps, a 2-D kernel or 4-D weights (Frobenius over channels); real.
        down: the down-sampling factor ``>= 1``.

    Returns:
        The share in ``[0, 1]``.

    Example:
        >>> aliasing_energy([1.0], 2), round(aliasing_energy(np.ones((1, 1)), 2), 12)
        (0.5, 0.75)
    """
    down = check_int("down", down, 1)
    return _energy_outside(_as_array(taps, "taps", (1, 2, 4)), down)


def cutoff_3db(taps: ArrayLike, worN: int = 4096) -> float:
    """The -3 dB (half-power) cutoff of 1-D taps, in cycles/pixel.

    Definition: the smallest ``f`` in ``(0, 0.5]`` with ``|H(f)|^2 <= |H(0)|^2 / 2`` (gain
    ``10 log10(1/2) = -3.01`` dB relative to DC), located on a grid of ``worN`` intervals and
    refined by root finding (Brent) to ~1e-12. ``nan`` if the response never falls that low
    (e.g. an all-pass) or ``H(0) = 0``.

    Args:
        taps: 1-D taps, real.
        worN: number of grid intervals on ``[0, 0.5]`` used to bracket the crossing.

    Example:
        >>> round(cutoff_3db([1, 1]), 9)  # 2|cos(pi f)| = 2/sqrt(2) at f = 1/4
        0.25
    """
    h = _as_array(taps, "taps", (1,))
    n = check_int("worN", worN, 2, MAX_FREQUENCIES)
    dc = abs(h.sum())
    if dc == 0:
        return math.nan

    def excess(f: float) -> float:
        return float(abs(frequency_response(h, np.array([f]))[1][0]) ** 2 - dc * dc / 2)

    w = np.linspace(0.0, 0.5, n + 1)
    below = np.abs(frequency_response(h, w)[1]) ** 2 - dc * dc / 2 <= 0
    if not below.any():
        return math.nan
    i = int(np.argmax(below))
    if excess(w[i]) == 0:
        return float(w[i])
    return float(scipy.optimize.brentq(excess, w[i - 1], w[i], xtol=1e-14))


def stopband_attenuation_db(taps: ArrayLike, edge: float, worN: int = 4096) -> float:
    """Minimum stop-band attenuation of 1-D taps, in dB relative to DC.

    Definition: ``-20 log10( max_{edge <= f <= 0.5} |H(f)| / |H(0)| )``, the maximum taken on a
    uniform grid of ``worN + 1`` points over ``[edge, 0.5]`` (both ends included). Larger is
    better; ``inf`` when the stop band is exactly zero on the grid.

    Args:
        taps: 1-D taps, real, with ``H(0) != 0``.
        edge: start of the stop band in cycles/pixel, ``0 <= edge <= 0.5`` (e.g. for an
            up-sampler by 2 with transition width ``w``: ``0.25 + w/2``).
        worN: grid intervals over the stop band.

    Example:
        >>> round(stopband_attenuation_db([1, 1], 0.375), 2)  # 20 log10(2 / (2 cos(3 pi/8)))
        8.34
    """
    h = _as_array(taps, "taps", (1,))
    n = check_int("worN", worN, 1, MAX_FREQUENCIES)
    if isinstance(edge, bool) or not isinstance(edge, numbers.Real) or not 0 <= edge <= 0.5:
        raise ValueError(f"expected 0 <= edge <= 0.5 (cycles/pixel), got {edge!r}")
    dc = abs(h.sum())
    if dc == 0:
        raise ValueError("expected taps with non-zero DC gain, got sum(taps) = 0")
    peak = np.abs(frequency_response(h, np.linspace(float(edge), 0.5, n + 1))[1]).max()
    return math.inf if peak == 0 else float(-20 * np.log10(peak / dc))


# ----------------------------------------------------------------------------- measuring modules


def _prepare(module: Callable[[torch.Tensor], torch.Tensor]):
    """A float64, eval-mode copy of ``module`` (never the module itself) and its device."""
    if not callable(module):
        raise TypeError(f"expected a torch module or callable, got {type(module).__name__}")
    device = torch.device("cpu")
    if isinstance(module, torch.nn.Module):
        module = copy.deepcopy(module).to(torch.float64).eval()
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            device = tensor.device
            break
    return module, device


def _forward(module: Callable, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = module(x)
    if not isinstance(y, torch.Tensor) or y.ndim != 4 or y.shape[0] != x.shape[0]:
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"expected the module to return (N={x.shape[0]}, C, H, W), got {got}")
    if not torch.is_floating_point(y):
        raise TypeError(f"expected a floating-point output, got {y.dtype}")
    return y.to(torch.float64)


@dataclass(frozen=True)
class ImpulseResponse:
    """Effective taps of a module and whether they mean anything.

    Model, per axis: ``y[o] = sum_i x[i] taps[c_out, c_in][down*o - up*i + origin]`` (scipy's
    ``upfirdn`` convention). For ``ConvTranspose2d(stride=s, padding=p)``:
    ``taps[co, ci] = weight[ci, co]``, ``origin = (p, p)``. For a strided ``Conv2d`` (torch
    convolutions are correlations) the taps are the kernel flipped.

    Attributes:
        taps: ``(C_out, C_in, Ky, Kx)``, float64, from ``f(impulse) - f(0)``, trimmed to the
            support (entries ``> tol * max``).
        origin: ``(origin_y, origin_x)`` in the model above.
        up, down: the period assumed: shifting the input by ``down`` shifts the output by ``up``.
        linear: superposition holds and ``f(0) = 0``.
        affine: superposition holds for ``f(x) - f(0)`` (e.g. a bias).
        linearity_error: ``max|g(a x1 + b x2) - a g(x1) - b g(x2)| / max(|g(x1)|, |g(x2)|)``
            with ``g = f - f(0)``, random ``x1, x2``.
        offset: ``max |f(0)|`` relative to the same scale.
        shift_invariant: periodically shift-invariant: shifting a random input by ``down``
            along H (then W) equals shifting the output by ``up``, away from the borders (by
            the response's extent plus ``up`` output pixels).
        shift_error: the largest relative deviation in that test.
        truncated: the response reaches the output border: taps are cut, increase ``size``.
    """

    taps: np.ndarray
    origin: tuple[int, int]
    up: int
    down: int
    linear: bool
    affine: bool
    linearity_error: float
    offset: float
    shift_invariant: bool
    shift_error: float
    truncated: bool

    @property
    def kernel(self) -> np.ndarray:
        """The 2-D kernel of a single-channel response, ``(Ky, Kx)``."""
        if self.taps.shape[:2] != (1, 1):
            raise ValueError(
                f"expected a single-channel response (1, 1, Ky, Kx), got {self.taps.shape}"
            )
        return self.taps[0, 0]


def impulse_response(
    module: Callable[[torch.Tensor], torch.Tensor],
    up: int = 1,
    down: int = 1,
    size: int = 32,
    channels: int = 1,
    *,
    tol: float = 1e-12,
    rtol: float = 1e-9,
    seed: int = 0,
) -> ImpulseResponse:
    """Measure the effective taps of a torch module by probing it with impulses.

    The module (a float64, eval-mode deep copy; the original is untouched) is fed a unit impulse
    in each input channel at each of the ``down x down`` input phases near the centre of a
    ``size x size`` input (one impulse suffices for a pure up-sampler), and the all-zeros input.
    Each response ``f(impulse) - f(0)`` is scattered into ``taps`` by the model
    ``y[o] = sum_i x[i] taps[down*o - up*i + origin]`` (``gcd(up, down) = 1`` makes that
    one-to-one). Two further tests say whether these taps describe the module:

    - linearity: superposition on two random inputs (see :class:`ImpulseResponse`);
    - periodic shift invariance: shift a random input by ``down``, expect the output shifted
      by ``up``, compared away from the borders (so padding and wrap-around do not count).

    Works for ``nn.Upsample``, ``nn.ConvTranspose2d``, conv + ``nn.PixelShuffle``, strided or
    pooling layers, and any callable mapping ``(N, C_in, H, W)`` to ``(N, C_out, H', W')``.

    Args:
        module: the module or callable.
        up: output shift per input shift of ``down`` (the up-sampling factor), ``>= 1``.
        down: the input period (down-sampling factor), ``>= 1``, coprime with ``up``.
        size: input height and width, ``>= 8``; the response must fit in the output.
        channels: number of input channels ``C_in``.
        tol: relative threshold below which a tap counts as zero when trimming.
        rtol: relative error below which the linearity / shift tests pass.
        seed: seed of the random test inputs (a private generator).

    Returns:
        An :class:`ImpulseResponse`.

    Shape:
        - module input: ``(N, C_in, size, size)``; taps: ``(C_out, C_in, Ky, Kx)``

    Example:
        >>> r = impulse_response(torch.nn.Upsample(scale_factor=2, mode="bilinear"), up=2)
        >>> (r.kernel[1] * 16).tolist(), r.origin, r.linear, r.shift_invariant
        ([3.0, 9.0, 9.0, 3.0], (1, 1), True, True)
    """
    up = check_int("up", up, 1)
    down = check_int("down", down, 1)
    size = check_int("size", size, 8)
    channels = check_int("channels", channels, 1)
    if math.gcd(up, down) != 1:
        raise ValueError(f"expected coprime up and down, got up={up}, down={down}")
    _check_probe(
        f"(channels*down**2 + 1) x channels x size**2 with channels={channels}, down={down}, "
        f"size={size}",
        (channels * down * down + 1) * channels * size * size,
    )
    module, device = _prepare(module)
    opts = {"dtype": torch.float64, "device": device}

    # All probes in one batch: zeros first, then (c_in, py, px) impulses.
    i0 = size // 2 - down // 2
    probes = list(itertools.product(range(channels), range(down), range(down)))
    x = torch.zeros(len(probes) + 1, channels, size, size, **opts)
    for b, (ci, py, px) in enumerate(probes, start=1):
        x[b, ci, i0 + py, i0 + px] = 1.0
    y = _forward(module, x).cpu().numpy()
    zero, resp = y[0], y[1:] - y[:1]
    c_out, ho, wo = zero.shape

    # Scatter by t = down*o - up*i (origin unknown until the support is known), over the
    # union of the probes' supports only (the full output grid can be large for many channels).
    peak = np.abs(resp).max()
    if peak == 0:
        taps, origin, truncated = np.zeros((c_out, channels, 1, 1)), (0, 0), False
    else:
        nonzero = np.abs(resp) > tol * peak  # (probes, C_out, Ho, Wo)
        truncated = bool(
            nonzero[..., 0, :].any()
            or nonzero[..., -1, :].any()
            or nonzero[..., 0].any()
            or nonzero[..., -1].any()
        )
        rows = [np.flatnonzero(m.any(axis=(0, 2))) for m in nonzero]
        cols = [np.flatnonzero(m.any(axis=(0, 1))) for m in nonzero]
        shifts = [(up * (i0 + py), up * (i0 + px)) for _, py, px in probes]
        lo_y = min(down * r[0] - sy for r, (sy, _) in zip(rows, shifts) if r.size)
        hi_y = max(down * r[-1] - sy for r, (sy, _) in zip(rows, shifts) if r.size)
        lo_x = min(down * c[0] - sx for c, (_, sx) in zip(cols, shifts) if c.size)
        hi_x = max(down * c[-1] - sx for c, (_, sx) in zip(cols, shifts) if c.size)
        taps = np.zeros((c_out, channels, hi_y - lo_y + 1, hi_x - lo_x + 1))
        for b, (ci, _, _) in enumerate(probes):
            if rows[b].size == 0:
                continue
            oy = np.arange(rows[b][0], rows[b][-1] + 1)
            ox = np.arange(cols[b][0], cols[b][-1] + 1)
            ty, tx = down * oy - shifts[b][0] - lo_y, down * ox - shifts[b][1] - lo_x
            block = resp[b][:, oy[0] : oy[-1] + 1, ox[0] : ox[-1] + 1]
            taps[:, ci][np.ix_(np.arange(c_out), ty, tx)] = block
        origin = (int(-lo_y), int(-lo_x))

    gen = torch.Generator().manual_seed(seed)
    x1, x2 = torch.randn(2, 1, channels, size, size, generator=gen, dtype=torch.float64)
    a, b = 0.7, -1.3
    batch = torch.cat(
        [torch.zeros_like(x1), x1, x2, a * x1 + b * x2, x1.roll(down, -2), x1.roll(down, -1)]
    )
    z0, g1, g2, g3, s_y, s_x = _forward(module, batch.to(device)).cpu().numpy()
    g1, g2, g3 = g1 - z0, g2 - z0, g3 - z0
    scale = max(np.abs(g1).max(), np.abs(g2).max(), np.finfo(np.float64).tiny)
    linearity_error = float(np.abs(g3 - a * g1 - b * g2).max() / scale)
    offset = float(np.abs(z0).max() / scale)
    affine = linearity_error <= rtol
    linear = affine and offset <= rtol

    full = g1 + z0  # f(x1)
    # Skip what the roll wraps around and what the padding touches: the response's extent
    # (output pixels) plus one period from each border.
    by, bx = (-(-k // down) + up for k in taps.shape[-2:])
    if full.shape[-2] - 2 * by < up or full.shape[-1] - 2 * bx < up:
        raise ValueError(
            f"expected size large enough to leave an interior for the shift test beyond the "
            f"response ({taps.shape[-2]}x{taps.shape[-1]} taps), got size={size}"
        )
    inner = (slice(None), slice(by, full.shape[-2] - by), slice(bx, full.shape[-1] - bx))
    expect_y, expect_x = np.roll(full, up, axis=-2), np.roll(full, up, axis=-1)
    ref = max(np.abs(full[inner]).max(), np.finfo(np.float64).tiny)
    shift_error = float(
        max(np.abs(s_y - expect_y)[inner].max(), np.abs(s_x - expect_x)[inner].max()) / ref
    )
    return ImpulseResponse(
        taps=taps,
        origin=origin,
        up=up,
        down=down,
        linear=bool(linear),
        affine=bool(affine),
        linearity_error=linearity_error,
        offset=offset,
        shift_invariant=shift_error <= rtol,
        shift_error=shift_error,
        truncated=truncated,
    )


def constant_input_checkerboard(
    module: Callable[[torch.Tensor], torch.Tensor],
    up: int,
    size: int = 32,
    channels: int = 1,
    margin: int | None = None,
) -> float:
    """Measured twin of :func:`checkerboard_index`: feed constants, measure the modulation.

    For each input channel ``c`` the module (float64, eval-mode copy) gets the input that is 1
    on channel ``c`` and 0 elsewhere; ``f(0)`` is subtracted (a bias is not a pattern). Away
    from the borders (``margin``), the mean of every output phase
    ``(o_y mod up, o_x mod up)`` gives ``G[c_out, c, ry, rx]``; its 2-D DFT over the phases,
    ``M_k = sum_r G_r exp(-2j pi k.r/up)``, equals ``H(k/up)`` up to a unimodular factor for
    a linear periodically shift-invariant module. Returns
    ``max_{k != 0} ||M_k||_2 / ||M_0||_2`` (operator norms over channels), which then equals
    :func:`checkerboard_index` of the module's taps. For other modules it is still the
    period-``up`` modulation of the constant response, relative to its mean.

    Args:
        module: module or callable mapping ``(N, C_in, H, W)`` to ``(N, C_out, H', W')``.
        up: the period of the output pattern (up-sampling factor), ``>= 1``.
        size: input height and width, ``>= 8``.
        channels: number of input channels.
        margin: output pixels left out at each border; must exceed the reach of the padding
            (about the kernel length); default a quarter of the output size.

    Returns:
        The index (``inf`` / ``nan`` as in :func:`checkerboard_index`).
    """
    up = check_int("up", up, 1)
    size = check_int("size", size, 8)
    channels = check_int("channels", channels, 1)
    if margin is not None:
        margin = check_int("margin", margin, 0)
    _check_probe(
        f"(channels + 1) x channels x size**2 with channels={channels}, size={size}",
        (channels + 1) * channels * size * size,
    )
    module, device = _prepare(module)
    x = torch.zeros(channels + 1, channels, size, size, dtype=torch.float64, device=device)
    for c in range(channels):
        x[c + 1, c] = 1.0
    y = _forward(module, x).cpu().numpy()
    g = y[1:] - y[:1]  # (C_in, C_out, Ho, Wo)
    ho, wo = g.shape[-2:]
    my, mx = (ho // 4, wo // 4) if margin is None else (margin, margin)
    ny, nx = (ho - 2 * my) // up, (wo - 2 * mx) // up
    if ny < 1 or nx < 1:
        raise ValueError(
            f"expected an output larger than 2 * margin + up, got {(ho, wo)} with margin "
            f"{(my, mx)}: increase size"
        )
    inner = g[..., my : my + ny * up, mx : mx + nx * up]
    phases = inner.reshape(*g.shape[:2], ny, up, nx, up).mean(axis=(2, 4))
    spectrum = np.fft.fft2(phases, axes=(-2, -1))  # (C_in, C_out, ky, kx)
    norms = np.linalg.svd(spectrum.transpose(2, 3, 0, 1), compute_uv=False)[..., 0]
    return _image_ratio(norms[0, 0], np.array([norms[k] for k in _dc_images(up, 2)]))


@dataclass(frozen=True)
class AliasingProbe:
    """Result of :func:`aliasing_energy_empirical`.

    Attributes:
        freqs: input frequencies ``f`` (cycles/pixel along W), the midpoints of ``n_freqs`` equal
            bins of ``[0, 0.5]``, shape ``(F,)``.
        aliased: where each lands after down-sampling, ``|down f - round(down f)|`` in output
            cycles/pixel, shape ``(F,)``.
        transfer: output power at ``aliased`` divided by the input power at ``f`` (phase- and
            channel-averaged), shape ``(F,)``; equals ``|H(f)|^2`` for a linear down-sampler.
        share: ``sum_{f > 1/(2 down)} transfer / sum_f transfer``, the empirical aliasing energy.
        distortion: output power at every *other* non-zero frequency (harmonics a nonlinear op
            creates, folded by the decimation), divided by the input power, shape ``(F,)``;
            0 for a linear down-sampler.
        share_with_distortion: the share of all output AC power that is not the faithful
            component: ``(sum_{f > 1/(2 down)} transfer + sum_f distortion) /
            sum_f (transfer + distortion)``; equals ``share`` for a linear down-sampler.
    """

    freqs: np.ndarray
    aliased: np.ndarray
    transfer: np.ndarray
    share: float
    distortion: np.ndarray
    share_with_distortion: float


def aliasing_energy_empirical(
    module: Callable[[torch.Tensor], torch.Tensor],
    down: int,
    n_freqs: int = 64,
    n_phases: int = 8,
    channels: int = 1,
    margin: int = 8,
) -> AliasingProbe:
    """Aliasing energy of any down-sampler, linear or not (max-pool), from sinusoid probes.

    Each probe is ``x[n] = cos(2 pi f n + phi)`` along W (constant along H and over channels),
    for ``f`` the midpoints ``(2j + 1) / (4 n_freqs)`` of ``[0, 0.5]`` and ``n_phases`` phases
    ``phi`` evenly spaced in ``[0, 2 pi)``. Down-sampling maps ``f`` to ``down f`` (output
    cycles/pixel), which above the new Nyquist ``1/(2 down)`` folds to ``|down f - round(down f)|``.
    The output (a float64 eval-mode copy of the module) is periodic with period
    ``L = 4 n_freqs`` outputs, so the DFT of ``L`` interior outputs (middle row, ``margin``
    output pixels from each end) holds the component at exactly that frequency; its amplitude
    ``2|Y_k|/L``, squared, is the transfer ``T(f)`` (input amplitude 1). ``n_freqs`` even keeps
    every landing bin off DC and Nyquist. Harmonics and the DC that a nonlinear op creates are
    not counted in ``share`` (they are not where ``f`` lands) but in ``distortion`` and
    ``share_with_distortion``. (For ``nn.MaxPool2d(2)``, ``max(a, b) = (a + b)/2 + |a - b|/2``:
    the transfer at the landing frequency is exactly avg-pool's, and everything max-pool adds
    lies in DC and even harmonics, which is why the second share exists.)

    The share ``sum_{f > 1/(2 down)} T / sum_f T`` is the midpoint-rule version of
    :func:`aliasing_energy` along one axis: for a linear down-sampler ``T(f) = |H(f)|^2``
    exactly and the share converges to the analytic 1-D value as ``n_freqs`` grows.

    Args:
        module: maps ``(N, channels, H, W)`` to ``(N, C_out, H', W')``, down-sampling W by
            ``down`` (e.g. ``nn.MaxPool2d(2)``).
        down: the down-sampling factor ``>= 2``.
        n_freqs: number of probe frequencies (even, ``>= 2``).
        n_phases: phases per frequency, ``>= 1``.
        channels: input channels.
        margin: output pixels kept clear of each border (must exceed the receptive-field
            radius divided by ``down``).

    Returns:
        An :class:`AliasingProbe`.
    """
    down = check_int("down", down, 2)
    n_freqs = check_int("n_freqs", n_freqs, 2)
    if n_freqs % 2:
        raise ValueError(f"expected an even n_freqs, got {n_freqs}")
    n_phases = check_int("n_phases", n_phases, 1)
    channels = check_int("channels", channels, 1)
    margin = check_int("margin", margin, 1)
    period = 4 * n_freqs
    width = down * (period + 2 * margin)
    height = down * (margin + 1)
    _check_probe(
        f"n_freqs x n_phases x channels x {height} x {width} with n_freqs={n_freqs}, "
        f"n_phases={n_phases}, channels={channels}, margin={margin}, down={down}",
        n_freqs * n_phases * channels * height * width,
    )
    module, device = _prepare(module)
    j = np.arange(n_freqs)
    freqs = (2 * j + 1) / (4 * n_freqs)
    phis = 2 * np.pi * np.arange(n_phases) / n_phases
    n = np.arange(width)
    rows = np.cos(2 * np.pi * freqs[:, None, None] * n + phis[None, :, None])  # (F, P, W)
    x = torch.from_numpy(rows.reshape(-1, 1, 1, width)).to(device)
    x = x.expand(-1, channels, height, width)
    y = _forward(module, x).cpu().numpy()
    ho, wo = y.shape[-2:]
    if abs(wo * down - width) > down * margin or wo < period + 2:
        raise ValueError(
            f"expected the module to down-sample W by {down} (about {width // down} output "
            f"columns for {width} input columns), got {wo} columns"
        )
    start = (wo - period) // 2
    window = y[:, :, ho // 2, start : start + period]  # (F*P, C_out, L)
    spectrum = np.fft.rfft(window, axis=-1).reshape(n_freqs, n_phases, y.shape[1], -1)
    bins = (down * (2 * j + 1)) % period
    bins = np.minimum(bins, period - bins)  # real output: bin k and L-k are the same cosine
    amp = 2 * np.abs(spectrum[j, :, :, bins]) / period  # (F, P, C_out)
    # Powers relative to the input's 1/2: a cosine of amplitude A carries A^2 / 2.
    transfer = (amp**2).mean(axis=(1, 2))
    ac_power = window.var(axis=-1).reshape(n_freqs, n_phases, -1)  # Parseval, DC removed
    distortion = np.maximum(2 * ac_power - amp**2, 0.0).mean(axis=(1, 2))
    above = freqs > 1 / (2 * down)
    total = transfer.sum()
    share = float(transfer[above].sum() / total) if total > 0 else math.nan
    total_all = total + distortion.sum()
    share_all = (
        float((transfer[above].sum() + distortion.sum()) / total_all) if total_all > 0 else math.nan
    )
    aliased = np.abs(down * freqs - np.round(down * freqs))
    return AliasingProbe(
        freqs=freqs,
        aliased=aliased,
        transfer=transfer,
        share=share,
        distortion=distortion,
        share_with_distortion=share_all,
    )
