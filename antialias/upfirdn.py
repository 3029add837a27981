"""Filter *application* in 1, 2 or 3 spatial dimensions: :func:`upfirdn` and its wrappers.

What lives here: the N-D resampling primitive :func:`upfirdn` (zero-stuff, pad, FIR,
decimate, with ``up``, ``down``, taps and padding per axis: a volume is often anisotropic,
e.g. ``up=(1, 2, 2)``), its slow and obvious twin :func:`upfirdn_reference` (the definition,
used by the tests), and the thin wrappers :func:`upsample_nd`, :func:`downsample_nd`,
:func:`filter_nd` (suffix ``_nd`` so that they never clash with the 2-D ``upsample2d`` & co.).
What does not: filter *design* (:mod:`antialias.filters`), the 2-D fast paths
(:mod:`antialias.resample`, to which 2-D calls are delegated, see below), modules
(:mod:`antialias.layers`).

Definition (per axis ``d``, exactly :mod:`antialias.resample`'s, axis by axis). Let ``x`` have
``n`` samples along the axis and the taps ``f`` have ``L`` entries. Extend ``x`` to all
integers by ``pad_mode`` (``zeros``: 0 outside; ``reflect``: mirror without repeating the
edge, as ``F.pad(mode='reflect')``; ``replicate``: clamp; ``circular``: periodic; padding
longer than the input goes on reflecting or wrapping, as ``numpy.pad``). Zero-stuff:
``z[up*i] = x[i]``, zeros between. Filter and keep every ``down``-th sample::

    y[j] = sum_k f[k] * z[j*down + (L - 1 - p0) - k],     j = 0 .. out - 1,
    out  = (n*up + p0 + p1 - L) // down + 1.

That is a true convolution (``flip_filter=False``, the default, as ``upfirdn2d``);
``flip_filter=True`` correlates instead (``f[k]`` weighs ``z[j*down - p0 + k]``, as
``F.conv3d`` and the layers do; the same for symmetric taps). ``padding = (p0, p1)`` is the
padding of the zero-stuffed signal in fine-grid samples; the default ``p0 = (L + up - 2) // 2``,
``p1 = L - 1 - p0`` gives ``out = ceil(n*up/down)`` and the phase convention of
:mod:`antialias.resample` (half-pixel grid of ``F.interpolate(align_corners=False)`` when
up-sampling with ``L + up`` even; output ``j`` on input ``j*down`` for odd ``L`` when
down-sampling). The N-D kernel is the outer product of the per-axis taps, times ``gain``
(the *whole* kernel's factor, as ``upfirdn2d``'s: its DC gain is ``gain * prod_d sum(f_d)``;
the wrappers normalise each axis to DC gain ``up_d``, or 1, before).

Implementations (``impl=``):

- ``"auto"``: 2-D input with the same ``up`` and ``down`` on both axes goes to
  :func:`antialias.resample.upfirdn2d` (its column-blocked, interpolation-kernel and
  border-strip fast paths; equal to ``"separable"`` to rounding). Everything else runs
  ``"separable"``.
- ``"separable"``: one 1-D pass per axis, down-sampling axes first (each shrinks what the
  next one reads), identity axes skipped. Each pass is polyphase: output phase ``r`` (of
  ``up / gcd(up, down)``) is a strided sum of input slices, one per tap of its sub-filter,
  written into its own strided view of the output, so no zero-stuffed tensor is stored and
  no inserted zero multiplied; the few border outputs that read padding are computed from the
  input samples the padding repeats (one narrow op per sample: no full-tensor ``F.pad``
  copy, no index ops, which torch runs far slower on inner axes). Why slices and not a
  depthwise ``conv3d`` with a ``(L, 1, 1)`` kernel: on CPU torch's NCDHW depthwise 3-D convs
  are several times slower than these memory-bound passes (``benchmarks/bench_volumes.py``).
- ... except for D and H of a contiguous float32 volume on CPU: viewed as ``(N*C, W, D, H)``
  it *is* a channels_last 2-D batch with ``W`` channels, so both passes (both down-sampling
  or both up-sampling; or one of them alone) run as one depthwise ``conv2d`` /
  ``conv_transpose2d`` with the ``outer(taps_D, taps_H)`` kernel on oneDNN's channels_last
  kernels: one read of the input, one write of the output, no copy (its channels_last output
  is the NCDHW result). The conv pads with zeros; the few border rows/columns that read other
  padding are recomputed by the passes on thin slabs. 3-D blur-pool by 2 then costs 1.5-1.8
  ``avg_pool3d`` on 2 threads, about one on 1 thread (``benchmarks/bench_volumes.py``).
- Backward: the adjoint, in a custom ``autograd.Function`` whose own backward is the forward
  (any order of derivatives): per slice pass, slices scattered back and border outputs added
  onto the samples they read; per one-conv step, the transposed conv (or conv) with the same
  weight of the gradient with the border outputs zeroed, plus the thin passes' adjoints of
  those. Taps that require grad: ``"reference"`` (autograd through it).
- The execution engine lives in :mod:`antialias._passes`.
- ``"reference"``: :func:`upfirdn_reference`.

Bounds: any tensor the chosen path would allocate above :data:`MAX_BYTES`, factors above
:data:`MAX_FACTOR` or more than :data:`MAX_TAPS` taps are refused with a ``ValueError``
(they would take GBs or minutes); split the batch instead.

All ops are differentiable with respect to ``x`` and run in float16/bfloat16/float32/float64.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from antialias._checks import check_choice, check_float, check_int, check_pad_mode
from antialias._passes import (
    MAX_BYTES,
    Axis,
    apply_passes,
    check_bytes,
    plan_passes,
    source_index,
)
from antialias.filters import as_taps

__all__ = [
    "IMPLS",
    "MAX_BYTES",
    "MAX_FACTOR",
    "MAX_TAPS",
    "downsample_nd",
    "filter_nd",
    "upfirdn",
    "upfirdn_reference",
    "upsample_nd",
]

#: Implementations of :func:`upfirdn` (see the module docstring).
IMPLS: tuple[str, ...] = ("auto", "separable", "reference")
#: Largest up / down factor per axis.
MAX_FACTOR = 256
#: Most taps per axis.
MAX_TAPS = 1024
# Largest multiply-add count of the reference's dense N-D conv (about a minute on one core).
_MAX_REFERENCE_MACS = 2 * 10**10

TapsLike = int | torch.Tensor | Sequence[float] | np.ndarray
TapsND = TapsLike | Sequence[TapsLike]
PerAxis = int | Sequence[int]
PaddingND = int | Sequence[int] | Sequence[tuple[int, int] | None] | None


# --------------------------------------------------------------------------- validation


def _check_x(x: object, spatial_dims: int | None) -> tuple[torch.Tensor, int]:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected x to be a torch.Tensor, got {type(x).__name__}")
    if spatial_dims is None:
        if x.ndim not in (3, 4, 5):
            raise ValueError(
                "expected x of shape (N, C, L), (N, C, H, W) or (N, C, D, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        dims = x.ndim - 2
    else:
        dims = check_int("spatial_dims", spatial_dims, minimum=1, maximum=3)
        if x.ndim != dims + 2:
            raise ValueError(
                f"expected x of shape (N, C, *spatial) with {dims} spatial dims, "
                f"got shape {tuple(x.shape)}"
            )
    if not x.is_floating_point():
        raise TypeError(f"expected x to be a floating-point tensor, got dtype {x.dtype}")
    if any(s == 0 for s in x.shape[2:]):
        raise ValueError(f"expected x with non-empty spatial axes, got shape {tuple(x.shape)}")
    return x, dims


def _per_axis(name: str, value: object, dims: int) -> tuple[int, ...]:
    """An int for every axis, or one per axis."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != dims:
            raise ValueError(
                f"expected {name} to be an integer or {dims} integers (one per spatial axis), "
                f"got {value!r}"
            )
        return tuple(check_int(name, v, minimum=1, maximum=MAX_FACTOR) for v in value)
    return (check_int(name, value, minimum=1, maximum=MAX_FACTOR),) * dims


def _is_taps_like(value: object) -> bool:
    return isinstance(value, torch.Tensor | np.ndarray) or (
        isinstance(value, Sequence) and not isinstance(value, str)
    )


def _taps_per_axis(taps: object, dims: int) -> tuple[torch.Tensor, ...]:
    """Validated 1-D taps per axis (float64 unless given as a floating tensor).

    An int is a binomial length; one 1-D set of taps is used along every axis; a sequence
    with one entry per axis, at least one of them itself a sequence/array/tensor, gives
    per-axis taps (``[1, [1, 2, 1], [1, 2, 1]]``: none along D).
    """
    if isinstance(taps, torch.Tensor | np.ndarray) and taps.ndim != 1:
        raise ValueError(
            f"expected 1-D taps (separable; per-axis taps as a list), got shape {tuple(taps.shape)}"
        )
    per_axis = (
        isinstance(taps, Sequence)
        and not isinstance(taps, str)
        and any(_is_taps_like(t) for t in taps)
    )
    if per_axis:
        if len(taps) != dims:  # type: ignore[arg-type]
            raise ValueError(
                f"expected per-axis taps for {dims} spatial axes, got {len(taps)} entries"  # type: ignore[arg-type]
            )
        result = tuple(as_taps(t) for t in taps)  # type: ignore[union-attr]
    else:
        result = (as_taps(taps),) * dims  # type: ignore[arg-type]
    for t in result:
        if t.numel() > MAX_TAPS:
            raise ValueError(f"expected at most {MAX_TAPS} taps per axis, got {t.numel()}")
    return result


def _is_int(v: object) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _padding(
    padding: object, lengths: Sequence[int], ups: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """(p0, p1) per axis from None / int / (p0, p1) / F.pad order / one pair per axis."""
    dims = len(lengths)
    defaults = [((L + u - 2) // 2, L - 1 - (L + u - 2) // 2) for L, u in zip(lengths, ups)]
    if padding is None:
        return tuple(defaults)
    if _is_int(padding):
        p = int(padding)  # type: ignore[arg-type]
        return ((p, p),) * dims
    if isinstance(padding, Sequence) and not isinstance(padding, str):
        if len(padding) == 2 and all(_is_int(p) for p in padding):
            return ((int(padding[0]), int(padding[1])),) * dims
        if len(padding) == 2 * dims and all(_is_int(p) for p in padding):
            # F.pad order: last axis first
            pairs = [(int(padding[2 * i]), int(padding[2 * i + 1])) for i in range(dims)]
            return tuple(pairs[::-1])
        if len(padding) == dims:
            result = []
            for d, pair in enumerate(padding):
                if pair is None:
                    result.append(defaults[d])
                elif (
                    isinstance(pair, Sequence) and len(pair) == 2 and all(_is_int(p) for p in pair)
                ):
                    result.append((int(pair[0]), int(pair[1])))
                else:
                    break
            else:
                return tuple(result)
    raise TypeError(
        "expected padding to be None, an int, (p0, p1), F.pad's order of ints "
        f"(last axis first) or one (p0, p1) or None per axis, got {padding!r}"
    )


# --------------------------------------------------------------------------- reference


def _reference(
    x: torch.Tensor, taps: Sequence[torch.Tensor], axes: Sequence[Axis], mode: str, gain: float
) -> torch.Tensor:
    """The definition, step by step: extend, zero-stuff, pad/crop, one N-D conv, decimate."""
    dims = len(axes)
    # 1. extend every axis by pad_mode (index_select of the sources: numpy.pad's semantics,
    #    also where the padding is longer than the input).
    for d, ax in enumerate(axes):
        before, after = ax.pad_before(), ax.pad_after()
        if not (before or after):
            continue
        src = [source_index(i, ax.n, mode) for i in range(-before, ax.n + after)]
        ext = x.index_select(2 + d, torch.tensor([max(s, 0) for s in src], device=x.device))
        if mode == "zeros":
            shape = [1] * x.ndim
            shape[2 + d] = len(src)
            keep = torch.tensor([s >= 0 for s in src], device=x.device).view(shape)
            ext = ext * keep.to(x.dtype)
        x = ext
    # 2. zero-stuff: x[i] goes to up*i, zeros between (up - 1 zeros after the last sample).
    z = x.new_zeros(*x.shape[:2], *(s * ax.up for s, ax in zip(x.shape[2:], axes)))
    z[(..., *(slice(None, None, ax.up) for ax in axes))] = x
    # 3. keep fine-grid positions [-p0, n*up + p1) (F.pad crops given negative amounts).
    pad: list[int] = []
    for ax in reversed(axes):  # F.pad order: last axis first
        before = ax.pad_before() * ax.up
        stuffed = (ax.n + ax.pad_before() + ax.pad_after()) * ax.up
        pad += [ax.p0 - before, (ax.n * ax.up + ax.p1) - (stuffed - before)]
    z = F.pad(z, pad)
    # 4. convolve with the outer-product kernel (convNd correlates: flip it), per channel.
    kernel = taps[0].to(x.dtype)
    for t in taps[1:]:
        kernel = kernel[..., None] * t.to(x.dtype)
    kernel = (kernel * gain).flip(list(range(dims)))
    c = x.shape[1]
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    y = conv(z, kernel.expand(c, 1, *kernel.shape), groups=c)
    # 5. decimate.
    return y[(..., *(slice(None, None, ax.down) for ax in axes))]


# --------------------------------------------------------------------------- public API


def _prepare(
    x: object,
    taps: object,
    up: object,
    down: object,
    padding: object,
    pad_mode: object,
    gain: object,
    flip_filter: object,
    spatial_dims: int | None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], tuple[Axis, ...], str, float]:
    """Every check of :func:`upfirdn`, once: x, taps (flipped if asked), axes, mode, gain."""
    x, dims = _check_x(x, spatial_dims)
    ups, downs = _per_axis("up", up, dims), _per_axis("down", down, dims)
    mode = check_pad_mode(pad_mode)
    gain = check_float("gain", gain)
    if not isinstance(flip_filter, bool):
        raise TypeError(f"expected flip_filter to be a bool, got {flip_filter!r}")
    t = _taps_per_axis(taps, dims)
    if flip_filter:
        t = tuple(v.flip(0) for v in t)
    pads = _padding(padding, [v.numel() for v in t], ups)
    axes = tuple(
        Axis(n, u, dn, v.numel(), p0, p1)
        for n, u, dn, v, (p0, p1) in zip(x.shape[2:], ups, downs, t, pads)
    )
    for d, ax in enumerate(axes):
        if ax.length < 1:
            raise ValueError(
                f"expected a non-empty output along spatial axis {d} (n*up + p0 + p1 >= taps), "
                f"got n={ax.n}, up={ax.up}, padding=({ax.p0}, {ax.p1}), taps={ax.taps}"
            )
    check_bytes("the output", (*x.shape[:2], *(ax.out for ax in axes)), x.dtype)
    return x, t, axes, mode, gain


def upfirdn(
    x: torch.Tensor,
    taps: TapsND,
    up: PerAxis = 1,
    down: PerAxis = 1,
    padding: PaddingND = None,
    pad_mode: str = "zeros",
    gain: float = 1.0,
    flip_filter: bool = False,
    *,
    spatial_dims: int | None = None,
    impl: str = "auto",
) -> torch.Tensor:
    """Zero-stuff by ``up``, pad, apply the separable FIR filter, keep every ``down``-th sample.

    The definition, phase convention, default padding and implementations are in the module
    docstring. The taps are used as given (times ``gain``): no normalisation here (see the
    ``*_nd`` wrappers).

    Args:
        x: input, shape ``(N, C, *spatial)`` with 1, 2 or 3 spatial axes; floating point, any
            memory layout.
        taps: 1-D taps used along every axis, an int ``n`` (``binomial_taps(n)``), or one per
            spatial axis as a list (``[1, [1, 2, 1], [1, 2, 1]]``: identity along D).
        up: up-sampling factor, an int for every axis or one per axis (``(1, 2, 2)``).
        down: down-sampling factor, likewise.
        padding: padding of the zero-stuffed signal in fine-grid samples: ``None`` (default
            phase convention per axis), an int (all sides), ``(p0, p1)`` (every axis),
            ``2 * spatial_dims`` ints in ``F.pad``'s order (last axis first), or one ``(p0,
            p1)`` (or ``None``: the default) per axis, in axis order. Negative values crop.
        pad_mode: how ``x`` is extended: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        gain: factor on the whole N-D kernel.
        flip_filter: ``False``: convolution (as ``upfirdn2d``); ``True``: correlation.
        spatial_dims: number of spatial axes; default ``x.ndim - 2``.
        impl: ``"auto"``, ``"separable"`` or ``"reference"`` (module docstring).

    Returns:
        Output, shape ``(N, C, *out)`` with ``out_d = (n_d*up_d + p0_d + p1_d - L_d)//down_d +
        1`` (``ceil(n_d*up_d/down_d)`` with the default padding); same dtype and device as x.

    Shape:
        - Input: :math:`(N, C, *S)` with ``len(S)`` in 1..3
        - Output: :math:`(N, C, *S_{out})`

    Raises:
        TypeError: non-tensor or non-float ``x``, non-integer factors, bad ``padding`` type.
        ValueError: wrong rank, factors out of range, empty or non-finite taps, unknown
            ``pad_mode`` or ``impl``, empty output, allocations above :data:`MAX_BYTES`.

    Example:
        >>> x = torch.tensor([[[1.0, 2.0, 3.0]]])
        >>> upfirdn(x, [1.0], up=2, padding=0)  # zero-stuffing only
        tensor([[[1., 0., 2., 0., 3., 0.]]])
        >>> upfirdn(torch.ones(1, 1, 2, 4, 4), [1, [1, 1], [1, 1]], up=(1, 2, 2)).shape
        torch.Size([1, 1, 2, 8, 8])
    """
    impl = check_choice("impl", impl, IMPLS)
    x, t, axes, mode, gain = _prepare(
        x, taps, up, down, padding, pad_mode, gain, flip_filter, spatial_dims
    )
    if impl == "reference":
        return _reference_checked(x, t, axes, mode, gain, "use impl='auto'")
    if any(v.requires_grad for v in t):
        return _reference_checked(x, t, axes, mode, gain, "taps that require grad take it")
    if impl == "auto" and len(axes) == 2 and axes[0].up == axes[1].up:
        if axes[0].down == axes[1].down:
            return _upfirdn2d(x, t, axes, mode, gain)
    if mode != "zeros" and _pad_first(x, axes, mode):
        x, axes = _extend(x, axes, mode)
        mode = "zeros"
    return apply_passes(x, plan_passes(x, t, axes, mode, gain), gain)


def _pad_first(x: torch.Tensor, axes: Sequence[Axis], mode: str) -> bool:
    """Whether to extend ``x`` by ``F.pad`` first, so that every pass reads real samples only.

    One copy of the input against a dozen small border ops per axis: where the input is no
    larger than the output (up-sampling) the copy is the cheaper, most of all on a busy
    machine, where each small op waits for its threads (benchmarks/bench_volumes.py: 3-D
    blur-up by 2, reflect: 77 vs 81 ms on 1 thread, 200 vs 268 ms on 2 loaded threads). For
    down-sampling the copy of the large input costs more than the border ops (3-D blur-pool:
    87 vs 24 ms on 1 thread). F.pad refuses reflect padding >= size, circular padding > size.
    """
    extended = math.prod(ax.n + ax.pad_before() + ax.pad_after() for ax in axes)
    if extended > math.prod(ax.out for ax in axes):
        return False
    limit = {"reflect": 1, "circular": 0}.get(mode, None)
    return limit is None or all(max(ax.pad_before(), ax.pad_after()) <= ax.n - limit for ax in axes)


def _extend(
    x: torch.Tensor, axes: Sequence[Axis], mode: str
) -> tuple[torch.Tensor, tuple[Axis, ...]]:
    """``x`` extended by ``mode`` as far as the outputs read, and the axes of the extended x."""
    pads: list[int] = []
    for ax in reversed(axes):  # F.pad order: last axis first
        pads += [ax.pad_before(), ax.pad_after()]
    new = tuple(
        Axis(
            ax.n + ax.pad_before() + ax.pad_after(),
            ax.up,
            ax.down,
            ax.taps,
            ax.p0 - ax.pad_before() * ax.up,
            ax.p1 - ax.pad_after() * ax.up,
        )
        for ax in axes
    )
    return F.pad(x, pads, mode=mode), new


def _upfirdn2d(
    x: torch.Tensor, t: Sequence[torch.Tensor], axes: Sequence[Axis], mode: str, gain: float
) -> torch.Tensor:
    # resample's fast paths for 2-D (imported here: resample is being redesigned, and this
    # module must not depend on more of it than its public upfirdn2d).
    from antialias.resample import upfirdn2d

    th, tw = t
    same = th.shape == tw.shape and bool((th == tw).all())
    kernel = th if same else torch.outer(th.to(torch.float64), tw.to(torch.float64))
    ah, aw = axes
    padding = (aw.p0, aw.p1, ah.p0, ah.p1)
    return upfirdn2d(x, kernel, ah.up, ah.down, padding, mode, gain)


def _reference_checked(
    x: torch.Tensor,
    t: Sequence[torch.Tensor],
    axes: Sequence[Axis],
    mode: str,
    gain: float,
    hint: str,
) -> torch.Tensor:
    stuffed = [(ax.n + ax.pad_before() + ax.pad_after()) * ax.up for ax in axes]
    check_bytes("the reference's zero-stuffed input", (*x.shape[:2], *stuffed), x.dtype)
    macs = math.prod(x.shape[:2]) * math.prod(ax.length * ax.taps for ax in axes)
    if macs > _MAX_REFERENCE_MACS:
        raise ValueError(
            f"expected a reference conv of at most {_MAX_REFERENCE_MACS:.0e} multiply-adds, "
            f"got {macs:.2e}; {hint}"
        )
    return _reference(x, t, axes, mode, gain)


def upfirdn_reference(
    x: torch.Tensor,
    taps: TapsND,
    up: PerAxis = 1,
    down: PerAxis = 1,
    padding: PaddingND = None,
    pad_mode: str = "zeros",
    gain: float = 1.0,
    flip_filter: bool = False,
    *,
    spatial_dims: int | None = None,
) -> torch.Tensor:
    """Slow, obvious :func:`upfirdn`: extend, zero-stuff, pad, one dense N-D conv, slice.

    Same arguments, result and errors as :func:`upfirdn`. It stores and multiplies the
    inserted zeros, copies the whole extended tensor and convolves with the full outer-product
    kernel: the definition the fast paths are tested against.

    Shape:
        - Input: :math:`(N, C, *S)`
        - Output: :math:`(N, C, *S_{out})`

    Example:
        >>> upfirdn_reference(torch.arange(2.0).view(1, 1, 2), [1.0, 1.0], up=2)  # nearest
        tensor([[[0., 0., 1., 1.]]])
    """
    return upfirdn(
        x,
        taps,
        up,
        down,
        padding,
        pad_mode,
        gain,
        flip_filter,
        spatial_dims=spatial_dims,
        impl="reference",
    )


def _normalized(taps: object, dims: int, dc: Sequence[float], normalize: bool) -> list:
    """Per-axis taps, each scaled to DC gain ``dc[d]`` when ``normalize``."""
    t = _taps_per_axis(taps, dims)
    if not normalize:
        return list(t)
    result = []
    for v, g in zip(t, dc):
        total = float(v.sum())
        if total == 0.0:
            raise ValueError(
                "expected taps with a non-zero sum to normalise, got sum 0; "
                "pass normalize=False to use them as given"
            )
        result.append(v * (g / total))
    return result


def _dims(x: object, spatial_dims: int | None) -> int:
    return _check_x(x, spatial_dims)[1]


def upsample_nd(
    x: torch.Tensor,
    taps: TapsND,
    up: PerAxis = 2,
    padding: PaddingND = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
    *,
    spatial_dims: int | None = None,
    impl: str = "auto",
) -> torch.Tensor:
    """Up-sample by ``up`` (per axis): zero-stuff and interpolate (:func:`upfirdn`, down=1).

    DC gain: with ``normalize=True`` each axis' taps are scaled to sum to its ``up`` (a constant
    stays constant away from zero padding). With ``pad_mode='replicate'`` and
    :func:`antialias.filters.linear_taps`, this is ``F.interpolate(mode='linear' |
    'bilinear' | 'trilinear', align_corners=False)``.

    Shape:
        - Input: :math:`(N, C, *S)`
        - Output: :math:`(N, C, *(S_d \\cdot up_d))`

    Example:
        >>> x = torch.tensor([[[0.0, 4.0]]])
        >>> upsample_nd(x, [1, 3, 3, 1], pad_mode="replicate")
        tensor([[[0., 1., 3., 4.]]])
    """
    dims = _dims(x, spatial_dims)
    ups = _per_axis("up", up, dims)
    t = _normalized(taps, dims, [float(u) for u in ups], normalize)
    return upfirdn(x, t, ups, 1, padding, pad_mode, gain, spatial_dims=spatial_dims, impl=impl)


def downsample_nd(
    x: torch.Tensor,
    taps: TapsND,
    down: PerAxis = 2,
    padding: PaddingND = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
    *,
    spatial_dims: int | None = None,
    impl: str = "auto",
) -> torch.Tensor:
    """Low-pass filter and keep every ``down``-th sample (per axis; :func:`upfirdn`, up=1).

    DC gain 1 per axis with ``normalize=True``. Output ``j`` is centred on input ``j*down``
    for an odd number of taps and at ``j*down + 1/2`` for an even number, as
    :func:`antialias.resample.downsample2d`.

    Shape:
        - Input: :math:`(N, C, *S)`
        - Output: :math:`(N, C, *\\lceil S_d / down_d \\rceil)`

    Example:
        >>> x = torch.tensor([[[0.0, 0.0, 4.0, 4.0, 4.0]]])
        >>> downsample_nd(x, 3, pad_mode="replicate")
        tensor([[[0., 3., 4.]]])
    """
    dims = _dims(x, spatial_dims)
    downs = _per_axis("down", down, dims)
    t = _normalized(taps, dims, [1.0] * dims, normalize)
    return upfirdn(x, t, 1, downs, padding, pad_mode, gain, spatial_dims=spatial_dims, impl=impl)


def filter_nd(
    x: torch.Tensor,
    taps: TapsND,
    padding: PaddingND = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
    *,
    spatial_dims: int | None = None,
    impl: str = "auto",
) -> torch.Tensor:
    """Filter at the same resolution (:func:`upfirdn` with up = down = 1), DC gain 1 per axis.

    Shape:
        - Input: :math:`(N, C, *S)`
        - Output: :math:`(N, C, *S)`

    Example:
        >>> filter_nd(torch.tensor([[[0.0, 4.0, 0.0]]]), 3, pad_mode="circular")
        tensor([[[1., 2., 1.]]])
    """
    dims = _dims(x, spatial_dims)
    t = _normalized(taps, dims, [1.0] * dims, normalize)
    return upfirdn(x, t, 1, 1, padding, pad_mode, gain, spatial_dims=spatial_dims, impl=impl)
