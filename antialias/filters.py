"""Filter *design*: 1-D taps and 2-D kernels with stated normalisation.

Everything here is designed in float64 and returned as a ``torch.Tensor`` with the ``dtype``
(default ``torch.float64``) and ``device`` asked for. Nothing here applies a filter (see
:mod:`antialias.resample`) or builds an ``nn.Module`` (see :mod:`antialias.layers`).

Two normalisations (DC gain = sum of the taps), used throughout the package:

- **Low-pass taps** for filtering or down-sampling (:func:`binomial_taps`, :func:`box_taps`,
  :func:`kaiser_lowpass_taps`) sum to 1 (``gain`` changes that where offered), so a constant
  input passes unchanged.
- **Interpolation taps** for an up-sampler by ``up`` (:func:`linear_taps`, :func:`cubic_taps`,
  :func:`lanczos_taps`) sum to ``up``: zero insertion divides the DC level by ``up`` and the
  filter gives it back, so zeros + FIR preserves a constant.

Interpolation taps are the continuous kernel sampled on the fine grid at spacing ``1/up``
(in input pixels) with the half-pixel convention of ``F.interpolate(align_corners=False)``:
for odd ``up`` the samples sit at ``t = m/up`` (the kernel's centre is a tap), for even
``up`` at ``t = (m + 1/2)/up`` (the centre falls between two taps). The taps are symmetric,
have length ``2*support*up - (up % 2)`` and omit the zero samples at ``|t| = support``.

Frequencies (``cutoff``, ``width``) are in cycles/pixel (Nyquist 0.5) unless ``fs`` says
otherwise.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import scipy.signal
import torch

from antialias._checks import check_choice, check_float, check_int

__all__ = [
    "INTERPOLATION_MODES",
    "MAX_BINOMIAL_TAPS",
    "MAX_TAPS",
    "as_taps",
    "binomial_taps",
    "box_taps",
    "cubic_taps",
    "interpolation_fir",
    "interpolation_reach",
    "kaiser_lowpass_taps",
    "keys_cubic",
    "lanczos_taps",
    "linear_taps",
    "outer2d",
]


#: The most taps any designer here returns. The 2-D kernel a resampler builds from them is their
#: outer product: 4096**2 float64 values are 128 MiB, the most one size argument may cost; a
#: typo such as ``up=10**6`` is refused at once instead of allocating gigabytes. No feature map
#: this library resamples needs a longer filter.
MAX_TAPS = 4096

#: The most binomial taps: ``comb(n - 1, k)`` and their sum ``2**(n - 1)`` overflow float64
#: (max ~2**1024) beyond ``n = 1024``, which would return NaN. Such a filter is a Gaussian of
#: standard deviation ``sqrt(n - 1)/2`` (16 px at the bound) anyway; design longer low-passes
#: with :func:`kaiser_lowpass_taps`.
MAX_BINOMIAL_TAPS = 1024


def _to_torch(
    values: np.ndarray, dtype: torch.dtype | None, device: torch.device | str | None
) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64)).to(
        dtype=dtype or torch.float64, device=device
    )


def binomial_taps(
    n: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Binomial low-pass taps ``comb(n-1, k) / 2**(n-1)``, ``k = 0..n-1``; they sum to 1.

    ``n = 1`` is the identity ``[1]`` (no blur), ``n = 2`` the box ``[1, 1]/2``, ``n = 3`` the
    classic ``[1, 2, 1]/4``. Its response is ``|cos(pi f)|**(n-1)`` (``f`` in cycles/pixel): a
    zero of order ``n-1`` at Nyquist.

    Args:
        n: number of taps, ``1 <= n <= MAX_BINOMIAL_TAPS`` (1024: beyond it the integer
            coefficients and their sum ``2**(n-1)`` overflow float64).
        dtype: dtype of the result (default ``torch.float64``).
        device: device of the result.

    Returns:
        Taps, shape ``(n,)``, summing to 1 (exactly: every coefficient is divided by the
        power of two ``2**(n-1)``).

    Raises:
        ValueError: ``n`` outside ``[1, MAX_BINOMIAL_TAPS]``.

    Example:
        >>> binomial_taps(3)
        tensor([0.2500, 0.5000, 0.2500], dtype=torch.float64)
        >>> binomial_taps(5).mul(16).tolist()
        [1.0, 4.0, 6.0, 4.0, 1.0]
    """
    n = check_int("n", n, 1, MAX_BINOMIAL_TAPS)
    values = np.array([math.comb(n - 1, k) for k in range(n)], dtype=np.float64)
    return _to_torch(values / values.sum(), dtype, device)


def box_taps(
    n: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Box (moving-average) taps ``[1/n] * n``; they sum to 1.

    ``up * box_taps(up)`` is the nearest-neighbour interpolation filter for factor ``up``
    (interpolation convention: sum ``up``).

    Args:
        n: number of taps, ``1 <= n <= MAX_TAPS``.
        dtype: dtype of the result (default ``torch.float64``).
        device: device of the result.

    Returns:
        Taps, shape ``(n,)``, summing to 1.

    Example:
        >>> box_taps(4)
        tensor([0.2500, 0.2500, 0.2500, 0.2500], dtype=torch.float64)
    """
    n = check_int("n", n, 1, MAX_TAPS)
    return _to_torch(np.full(n, 1.0 / n), dtype, device)


def _sample_kernel(kernel: Callable[[np.ndarray], np.ndarray], support: int, up: int) -> np.ndarray:
    # Half-pixel grid of F.interpolate(align_corners=False): centred on a tap for odd `up`,
    # between two taps for even `up`. Samples at |t| = support are zero and left out.
    if up % 2:
        m = np.arange(-(support * up - 1), support * up)
        t = m / up
    else:
        m = np.arange(-support * up, support * up)
        t = (m + 0.5) / up
    return kernel(np.abs(t))


def linear_taps(
    up: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Linear-interpolation (triangle) taps for up-sampling by ``up``; they sum to ``up``.

    Samples of ``max(0, 1 - |t|)`` on the half-pixel grid (module docstring); zeros + these
    taps (replicate edges) equals ``F.interpolate(mode='bilinear', align_corners=False)``
    along one axis. Length ``2*up - (up % 2)``.

    Args:
        up: up-sampling factor, ``1 <= up <= MAX_TAPS // 2``.
        dtype: dtype of the result (default ``torch.float64``).
        device: device of the result.

    Returns:
        Taps, shape ``(2*up - up % 2,)``, summing to ``up``.

    Example:
        >>> linear_taps(2).mul(4).tolist()
        [1.0, 3.0, 3.0, 1.0]
        >>> linear_taps(3).mul(3).tolist()
        [1.0, 2.0, 3.0, 2.0, 1.0]
    """
    up = check_int("up", up, 1, MAX_TAPS // 2)
    return _to_torch(_sample_kernel(lambda t: np.maximum(0.0, 1.0 - t), 1, up), dtype, device)


def keys_cubic(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys' cubic convolution kernel ``W(t)`` (``a = -0.75`` in torch, ``-0.5`` in Keys 1981).

    Args:
        t: positions in input pixels, any shape.
        a: the free parameter (slope of the kernel at ``|t| = 1``).

    Returns:
        ``W(t)``, same shape as ``t``; ``W(0) = 1``, ``W(k) = 0`` for non-zero integers ``k``.
    """
    t = np.abs(np.asarray(t, dtype=np.float64))
    inner = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    outer = ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a
    return np.where(t <= 1.0, inner, np.where(t < 2.0, outer, 0.0))


def cubic_taps(
    up: int,
    a: float = -0.75,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Keys cubic-convolution taps for up-sampling by ``up``; they sum to ``up``.

    Samples of :func:`keys_cubic` (support 2) on the half-pixel grid (module docstring). With
    ``a = -0.75`` and replicate edges, zeros + these taps equals
    ``F.interpolate(mode='bicubic', align_corners=False)`` along one axis. Each polyphase
    component sums to 1 for any ``a`` (the kernel is a partition of unity), so the sum is
    ``up`` up to rounding. Length ``4*up - (up % 2)``.

    Args:
        up: up-sampling factor, ``1 <= up <= MAX_TAPS // 4``.
        a: Keys' parameter (torch uses -0.75).
        dtype: dtype of the result (default ``torch.float64``).
        device: device of the result.

    Returns:
        Taps, shape ``(4*up - up % 2,)``, summing to ``up``.

    Example:
        >>> cubic_taps(2).mul(256).tolist()
        [-9.0, -27.0, 67.0, 225.0, 225.0, 67.0, -27.0, -9.0]
        >>> cubic_taps(1).tolist()
        [0.0, 1.0, 0.0]
    """
    up = check_int("up", up, 1, MAX_TAPS // 4)
    a = check_float("a", a)
    return _to_torch(_sample_kernel(lambda t: keys_cubic(t, a), 2, up), dtype, device)


def _lanczos(t: np.ndarray, a: int) -> np.ndarray:
    # np.sinc(k) is ~1e-17, not 0, at non-zero integers: make the zero crossings exact.
    values = np.sinc(t) * np.sinc(t / a)
    return np.where((t == np.round(t)) & (t != 0), 0.0, values)


def lanczos_taps(
    up: int,
    a: int = 3,
    *,
    normalize: bool = True,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Lanczos-``a`` taps ``sinc(t) sinc(t/a)`` for up-sampling by ``up``; they sum to ``up``.

    Samples on the half-pixel grid (module docstring), length ``2*a*up - (up % 2)``. The
    Lanczos kernel is not a partition of unity, so with ``normalize=True`` (default, as in
    PIL) each polyphase component (taps ``k, k+up, k+2up, ...``) is scaled to sum to 1: the
    sum is then exactly ``up`` and a constant input gives a constant output (no
    checkerboard). With ``normalize=False`` the raw samples are returned (sum close to ``up``).

    Args:
        up: up-sampling factor, ``1 <= up <= MAX_TAPS // 2``.
        a: number of lobes (support ``a`` input pixels each side), ``>= 1`` and at most
            ``MAX_TAPS // (2 up)`` (the taps' length ``2 a up`` within :data:`MAX_TAPS`).
        normalize: scale each polyphase component to sum 1.
        dtype: dtype of the result (default ``torch.float64``).
        device: device of the result.

    Returns:
        Taps, shape ``(2*a*up - up % 2,)``, summing to ``up`` (exactly if ``normalize``).

    Example:
        >>> taps = lanczos_taps(2, a=2)
        >>> taps.shape, round(float(taps.sum()), 12)
        (torch.Size([8]), 2.0)
        >>> lanczos_taps(1, a=3).tolist()
        [0.0, 0.0, 1.0, 0.0, 0.0]
    """
    up = check_int("up", up, 1, MAX_TAPS // 2)
    a = check_int("a", a, 1, MAX_TAPS // (2 * up))
    values = _sample_kernel(lambda t: _lanczos(t, a), a, up)
    if normalize:
        for phase in range(up):
            values[phase::up] /= values[phase::up].sum()
    return _to_torch(values, dtype, device)


#: ``F.interpolate(x, scale_factor=up, mode=m, align_corners=False)`` for an integer ``up`` is,
#: per axis, zeros + a fixed FIR (:func:`interpolation_fir`) with replicated edges. The one
#: table of those modes: mode -> how many input samples beyond a border an output reads
#: (nearest none, bilinear 1, bicubic 2). :mod:`antialias.catalogue` documents and tests it;
#: :mod:`antialias.resample` (its hand-over to torch's kernels) and the layers (their circular
#: wrap) read it.
INTERPOLATION_MODES: dict[str, int] = {
    "nearest": 0,
    "nearest-exact": 0,  # for integer factors the same operator as nearest (floor(j/up))
    "bilinear": 1,
    "bicubic": 2,
}


def interpolation_fir(
    mode: str,
    up: int,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The taps (sum ``up``) of ``F.interpolate(mode=mode, align_corners=False)`` by ``up``.

    ``nearest``/``nearest-exact``: the box ``[1] * up``; ``bilinear``: :func:`linear_taps`;
    ``bicubic``: :func:`cubic_taps` with torch's ``a = -0.75``. Applied with the default
    padding of :func:`antialias.resample.upfirdn2d` and ``pad_mode="replicate"`` they give
    torch's result (see :mod:`antialias.catalogue`).

    Args:
        mode: one of :data:`INTERPOLATION_MODES`.
        up: integer factor, ``1 <= up <= MAX_TAPS // 4``.
        dtype: dtype of the result (default ``torch.float64``).
        device: device of the result.

    Returns:
        Taps, shape ``(L,)``, summing to ``up``.

    Example:
        >>> interpolation_fir("bilinear", 2).mul(4).tolist()
        [1.0, 3.0, 3.0, 1.0]
    """
    mode = check_choice("mode", mode, INTERPOLATION_MODES)
    up = check_int("up", up, 1, MAX_TAPS // 4)
    if mode in ("nearest", "nearest-exact"):
        return _to_torch(np.ones(up), dtype, device)
    if mode == "bilinear":
        return linear_taps(up, dtype=dtype, device=device)
    return cubic_taps(up, -0.75, dtype=dtype, device=device)


def interpolation_reach(mode: str) -> int:
    """Input samples beyond each border that ``F.interpolate(mode=mode)`` reads (0, 1 or 2).

    Example:
        >>> interpolation_reach("bicubic")
        2
    """
    return INTERPOLATION_MODES[check_choice("mode", mode, INTERPOLATION_MODES)]


def kaiser_lowpass_taps(
    numtaps: int,
    cutoff: float,
    width: float | None = None,
    fs: float = 1.0,
    gain: float = 1.0,
    *,
    beta: float | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Kaiser-windowed sinc low-pass taps (``scipy.signal.firwin``), summing to ``gain``.

    Units: ``cutoff`` and ``width`` are in the units of ``fs``; with the default ``fs = 1``
    they are in cycles/pixel and Nyquist is 0.5 (so ``cutoff = 0.25`` is the ideal
    anti-aliasing cutoff before down-sampling by 2, or the ideal anti-imaging cutoff after
    up-sampling by 2: then pass ``gain=2`` to get interpolation taps summing to ``up = 2``).

    The Kaiser ``beta`` is derived from ``width`` (the transition-band width) exactly as
    ``firwin`` does (``kaiser_beta(kaiser_atten(numtaps, width / (fs/2)))``); without
    ``width``, ``beta`` is used, defaulting to ``kaiser_beta(60) ~= 5.65`` (60 dB side lobes).

    Args:
        numtaps: number of taps, ``1 <= numtaps <= MAX_TAPS``.
        cutoff: -6 dB cutoff frequency, ``0 < cutoff < fs/2``.
        width: transition-band width, ``> 0``, or ``None`` to use ``beta``.
        fs: sampling frequency (1 means cycles/pixel).
        gain: DC gain (sum of the taps).
        beta: Kaiser window parameter when ``width`` is ``None``.
        dtype: dtype of the result (default ``torch.float64``).
        device: device of the result.

    Returns:
        Symmetric taps, shape ``(numtaps,)``, summing to ``gain``.

    Example:
        >>> taps = kaiser_lowpass_taps(12, cutoff=0.25, width=0.1)
        >>> taps.shape, round(float(taps.sum()), 12), bool((taps == taps.flip(0)).all())
        (torch.Size([12]), 1.0, True)
    """
    numtaps = check_int("numtaps", numtaps, 1, MAX_TAPS)
    fs = check_float("fs", fs)
    cutoff = check_float("cutoff", cutoff)
    gain = check_float("gain", gain)
    if fs <= 0:
        raise ValueError(f"expected fs > 0, got {fs}")
    if not 0.0 < cutoff < fs / 2:
        raise ValueError(f"expected 0 < cutoff < fs/2 = {fs / 2}, got cutoff={cutoff}")
    if width is not None:
        width = check_float("width", width)
        if width <= 0:
            raise ValueError(f"expected width > 0 (or None), got {width}")
        values = scipy.signal.firwin(numtaps, cutoff, width=width, fs=fs)
    else:
        beta = scipy.signal.kaiser_beta(60.0) if beta is None else check_float("beta", beta)
        values = scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta), fs=fs)
    # firwin scales to unit DC gain; rescale in float64 so the sum is exact to rounding.
    values = np.asarray(values, dtype=np.float64)
    return _to_torch(values * (gain / values.sum()), dtype, device)


def outer2d(
    taps: torch.Tensor | Sequence[float] | np.ndarray,
    taps_w: torch.Tensor | Sequence[float] | np.ndarray | None = None,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Separable 2-D kernel ``K[i, j] = taps[i] * taps_w[j]`` (``taps_w`` defaults to ``taps``).

    The DC gain of the kernel is the product of the two DC gains (``up**2`` for interpolation
    taps, 1 for low-pass taps).

    Args:
        taps: 1-D taps along H (anything :func:`as_taps` accepts).
        taps_w: 1-D taps along W; ``None`` means the same as ``taps``.
        dtype: dtype of the result (default: that of ``taps`` if a float tensor, else float64).
        device: device of the result.

    Returns:
        Kernel, shape ``(len(taps), len(taps_w))``.

    Example:
        >>> outer2d([1.0, 2.0, 1.0]).tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    th = as_taps(taps, dtype=torch.float64)
    tw = th if taps_w is None else as_taps(taps_w, dtype=torch.float64)
    kernel = torch.outer(th, tw)
    if dtype is None:
        dtype = taps.dtype if isinstance(taps, torch.Tensor) and taps.is_floating_point() else None
    return kernel.to(dtype=dtype or torch.float64, device=device)


def as_taps(
    taps: int | torch.Tensor | Sequence[float] | np.ndarray,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Validate and convert 1-D taps; an int ``n`` means ``binomial_taps(n)``.

    Args:
        taps: an integer length (binomial taps, sum 1) or 1-D taps as a sequence, NumPy
            array or tensor. The taps are used as given (no renormalisation).
        dtype: dtype of the result. Default: a floating tensor keeps its dtype, anything else
            becomes ``torch.float64``.
        device: device of the result (default: a tensor keeps its device, else CPU).

    Returns:
        Taps, shape ``(n,)``.

    Raises:
        TypeError: ``taps`` is not an int, sequence, array or tensor of real numbers.
        ValueError: not 1-D, empty, or not finite.

    Example:
        >>> as_taps(2)
        tensor([0.5000, 0.5000], dtype=torch.float64)
        >>> as_taps([1, 3, 3, 1], dtype=torch.float32)
        tensor([1., 3., 3., 1.])
    """
    if isinstance(taps, bool):
        raise TypeError(f"expected taps as an int length or 1-D real values, got {taps!r}")
    if isinstance(taps, numbers.Integral):
        return binomial_taps(int(taps), dtype=dtype, device=device)
    if isinstance(taps, torch.Tensor):
        if taps.is_complex() or taps.dtype == torch.bool:
            raise TypeError(f"expected real-valued taps, got a tensor of dtype {taps.dtype}")
        if dtype is None and not taps.is_floating_point():
            dtype = torch.float64
        result = taps.to(dtype=dtype or taps.dtype, device=device)
    else:
        try:
            array = np.asarray(taps)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"expected taps as an int length or 1-D real values, got {taps!r}"
            ) from err
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"expected taps as an int length or 1-D real values, got dtype {array.dtype}"
            )
        result = torch.as_tensor(array.astype(np.float64)).to(
            dtype=dtype or torch.float64, device=device
        )
    if result.ndim != 1:
        raise ValueError(f"expected 1-D taps, got shape {tuple(result.shape)}")
    if result.numel() == 0:
        raise ValueError("expected at least one tap, got an empty sequence")
    if not bool(torch.isfinite(result).all()):
        raise ValueError(f"expected finite taps, got {result.tolist()}")
    return result
