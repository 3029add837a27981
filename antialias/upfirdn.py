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
  padding are recomputed by the passes on thin slabs. 3-D blur-pool by 2 then costs about one
  ``avg_pool3d`` (see the benchmark).
- Backward: the adjoint, by the slice passes (slices scattered back, border outputs added
  onto the samples they read), in a custom ``autograd.Function`` whose own backward is the
  forward (any order of derivatives). Taps that require grad: ``"reference"``.
- ``"reference"``: :func:`upfirdn_reference`.

Bounds: any tensor the chosen path would allocate above :data:`MAX_BYTES`, factors above
:data:`MAX_FACTOR` or more than :data:`MAX_TAPS` taps are refused with a ``ValueError``
(they would take GBs or minutes); split the batch instead.

All ops are differentiable with respect to ``x`` and run in float16/bfloat16/float32/float64.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from antialias._checks import check_choice, check_float, check_int, check_pad_mode
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
#: Largest tensor (bytes) one call may allocate.
MAX_BYTES = 2 * 1024**3
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


def _check_bytes(what: str, shape: Sequence[int], dtype: torch.dtype) -> None:
    size = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    if size > MAX_BYTES:
        raise ValueError(
            f"expected {what} of at most {MAX_BYTES / 1024**3:.0f} GiB, got shape "
            f"{tuple(shape)} ({size / 1024**3:.1f} GiB); split the batch"
        )


# --------------------------------------------------------------------------- index arithmetic


@dataclass(frozen=True)
class _Axis:
    """Index arithmetic of one axis (the definition in the module docstring)."""

    n: int
    up: int
    down: int
    taps: int
    p0: int
    p1: int

    @property
    def length(self) -> int:  # before decimation
        return self.n * self.up + self.p0 + self.p1 - self.taps + 1

    @property
    def out(self) -> int:
        return (self.length - 1) // self.down + 1

    def pad_before(self) -> int:
        """Input samples the padding provides before index 0."""
        first = -((self.p0) // self.up)  # ceil(-p0 / up): first input read by output 0
        return max(0, -first)

    def pad_after(self) -> int:
        last = ((self.out - 1) * self.down + self.taps - 1 - self.p0) // self.up
        return max(0, last - (self.n - 1))


def _source(i: int, n: int, mode: str) -> int:
    """Input index that virtual position ``i`` reads under ``mode`` (-1: a zero), as numpy.pad."""
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return -1
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    if n == 1:  # reflect of a single sample
        return 0
    r = i % (2 * n - 2)
    return 2 * n - 2 - r if r >= n else r


@dataclass(frozen=True)
class _Term:
    """One tap of one output phase: ``y[r + P q] += f[k] * x[s q + offset]`` for every ``q``."""

    tap: int
    offset: int


@dataclass(frozen=True)
class _Edge:
    """Output ``q`` of a phase that reads padding: the input samples it reads, each with the
    terms that read it (their taps are summed: one op per distinct sample)."""

    q: int
    reads: tuple[tuple[int, tuple[int, ...]], ...]  # (source index, term indices)


@dataclass(frozen=True)
class _Phase:
    start: int  # r
    count: int  # number of outputs r, r + P, ...
    terms: tuple[_Term, ...]
    core: tuple[int, int]  # q range where every term reads inside the input
    edges: tuple[_Edge, ...]


@dataclass(frozen=True)
class _Pass:
    """One 1-D pass along ``dim``: its phases, with the taps as Python floats."""

    dim: int
    axis: _Axis
    period: int  # P
    stride: int  # s
    taps: tuple[float, ...]
    phases: tuple[_Phase, ...]


@functools.lru_cache(maxsize=256)
def _phases(ax: _Axis, mode: str) -> tuple[int, int, tuple[_Phase, ...]]:
    """Polyphase plan of one axis: ``(P, s, phases)``.

    Output ``j = r + P q`` (``P = up / gcd(up, down)``) reads the taps ``k`` with
    ``j*down + L - 1 - p0 - k`` a multiple of ``up``, at input ``s q + offset``
    (``s = down / gcd``). The core (every term inside the input) is a few strided slices; each
    edge output reads its samples by ``pad_mode``.
    """
    g = math.gcd(ax.up, ax.down)
    period, stride = ax.up // g, ax.down // g
    c = ax.taps - 1 - ax.p0
    phases = []
    for r in range(period):
        count = (ax.out - r + period - 1) // period
        if count <= 0:
            continue
        terms = tuple(
            _Term(k, (r * ax.down + c - k) // ax.up)
            for k in range(ax.taps)
            if (r * ax.down + c - k) % ax.up == 0  # else it meets an inserted zero
        )
        q0, q1 = 0, count
        for t in terms:
            q0 = max(q0, -(t.offset // stride))  # ceil(-offset / s)
            q1 = min(q1, (ax.n - 1 - t.offset) // stride + 1)
        q0 = min(q0, count)
        q1 = max(q1, q0)
        edges = []
        for q in (*range(q0), *range(q1, count)):
            reads: dict[int, list[int]] = {}
            for i, t in enumerate(terms):
                src = _source(q * stride + t.offset, ax.n, mode)
                if src >= 0:
                    reads.setdefault(src, []).append(i)
            edges.append(_Edge(q, tuple((src, tuple(i)) for src, i in sorted(reads.items()))))
        phases.append(_Phase(r, count, terms, (q0, q1), tuple(edges)))
    return period, stride, tuple(phases)


def _strided(t: torch.Tensor, dim: int, start: int, count: int, step: int) -> torch.Tensor:
    """Positions ``start, start + step, ...`` (``count`` of them) of ``t`` along ``dim``: a view."""
    index = [slice(None)] * t.ndim
    index[dim] = slice(start, start + (count - 1) * step + 1, step)
    return t[tuple(index)]


# --------------------------------------------------------------------------- separable passes


def _core(out: torch.Tensor, srcs: list[torch.Tensor], fs: list[float]) -> None:
    """``out = sum_i fs[i] * srcs[i]`` in the fewest passes over memory."""
    if not srcs:
        out.zero_()
    elif len(srcs) == 2 and fs[0] + fs[1] == 1.0:
        # Interpolation phases (linear taps: each phase sums to 1): one fused pass.
        torch.lerp(srcs[0], srcs[1], fs[1], out=out)
    else:
        torch.mul(srcs[0], fs[0], out=out)
        for src, f in zip(srcs[1:], fs[1:]):
            out.add_(src, alpha=f)


def _pass_forward(x: torch.Tensor, p: _Pass) -> torch.Tensor:
    """One 1-D polyphase pass along ``p.dim`` (see the module docstring)."""
    shape = list(x.shape)
    shape[p.dim] = p.axis.out
    y = x.new_empty(shape)
    dim = p.dim
    for ph in p.phases:
        view = _strided(y, dim, ph.start, ph.count, p.period)
        q0, q1 = ph.core
        if q1 > q0:
            srcs = [_strided(x, dim, q0 * p.stride + t.offset, q1 - q0, p.stride) for t in ph.terms]
            _core(view.narrow(dim, q0, q1 - q0), srcs, [p.taps[t.tap] for t in ph.terms])
        for e in ph.edges:
            # One op per distinct input sample (narrow views: index ops are far slower).
            out = view.narrow(dim, e.q, 1)
            if not e.reads:
                out.zero_()
            for n, (src, terms) in enumerate(e.reads):
                f = sum(p.taps[ph.terms[i].tap] for i in terms)
                if n == 0:
                    torch.mul(x.narrow(dim, src, 1), f, out=out)
                else:
                    out.add_(x.narrow(dim, src, 1), alpha=f)
    return y


def _pass_adjoint(g: torch.Tensor, p: _Pass) -> torch.Tensor:
    """The adjoint of :func:`_pass_forward`: slices scattered back, edge samples folded."""
    shape = list(g.shape)
    shape[p.dim] = p.axis.n
    gx = g.new_zeros(shape)
    dim = p.dim
    for ph in p.phases:
        view = _strided(g, dim, ph.start, ph.count, p.period)
        q0, q1 = ph.core
        if q1 > q0:
            core = view.narrow(dim, q0, q1 - q0)
            for t in ph.terms:
                dst = _strided(gx, dim, q0 * p.stride + t.offset, q1 - q0, p.stride)
                dst.add_(core, alpha=p.taps[t.tap])
        for e in ph.edges:
            band = view.narrow(dim, e.q, 1)
            for src, terms in e.reads:
                f = sum(p.taps[ph.terms[i].tap] for i in terms)
                gx.narrow(dim, src, 1).add_(band, alpha=f)
    return gx


# --------------------------------------------------------------------------- D and H in one conv


def _pair_geometry(p: _Pass) -> tuple[int, int] | None:
    """(padding, output_padding) of the conv (transposed conv for up > 1) computing pass ``p``
    with zero padding, or None where one conv cannot express it."""
    ax = p.axis
    if ax.up == 1:
        got = (ax.n + 2 * ax.p0 - ax.taps) // ax.down + 1
        ok = ax.p0 >= 0 and ax.n + 2 * ax.p0 >= ax.taps and got >= ax.out
        return (ax.p0, 0) if ok else None
    if ax.down != 1:
        return None
    crop = ax.taps - 1 - ax.p0
    full = (ax.n - 1) * ax.up - 2 * crop + ax.taps
    extra = min(ax.up - 1, max(0, ax.length - full))
    return (crop, extra) if crop >= 0 and full + extra >= ax.out else None


def _pairable(x: torch.Tensor, a: _Pass, b: _Pass | None) -> bool:
    """Whether passes ``a``, ``b`` (axes D and H of a volume; ``b`` None: ``a`` alone) can run
    as one channels_last conv."""
    dims = {a.dim} if b is None else {a.dim, b.dim}
    if x.ndim != 5 or not (dims == {2, 3} or (b is None and a.dim in (2, 3))):
        return False
    if x.dtype != torch.float32 or x.device.type != "cpu" or not x.is_contiguous():
        return False
    if not torch.backends.mkldnn.is_available() or torch.compiler.is_compiling():
        return False
    if b is not None and (a.axis.up > 1) != (b.axis.up > 1):
        return False  # one conv either correlates or scatters
    return all(_pair_geometry(p) is not None for p in (a, b) if p is not None)


def _identity(n: int, dim: int) -> _Pass:
    """The identity pass along ``dim`` (the partner of a lone D or H pass in one conv)."""
    ax = _Axis(n, 1, 1, 1, 0, 0)
    return _Pass(dim, ax, 1, 1, (1.0,), _phases(ax, "zeros")[2])


def _edge_list(p: _Pass) -> list[tuple[int, list[tuple[int, float]]]]:
    """Outputs of pass ``p`` that read padding: (position, [(input sample, weight)])."""
    result = []
    for ph in p.phases:
        for e in ph.edges:
            reads = [(src, sum(p.taps[ph.terms[i].tap] for i in terms)) for src, terms in e.reads]
            result.append((ph.start + p.period * e.q, reads))
    return result


def _weighted(parts: list[tuple[torch.Tensor, float]], like: torch.Tensor) -> torch.Tensor:
    if not parts:
        return torch.zeros_like(like)
    out = parts[0][0] * parts[0][1]
    for t, f in parts[1:]:
        out.add_(t, alpha=f)
    return out


def _pair_forward(x: torch.Tensor, a: _Pass, b: _Pass | None) -> torch.Tensor:
    """Passes along D and H of a contiguous float32 volume as one depthwise 2-D conv.

    A contiguous ``(N, C, D, H, W)`` tensor viewed as ``(N*C, W, D, H)`` *is* a channels_last
    tensor with ``W`` channels, so the two passes are one depthwise ``conv2d`` (or
    ``conv_transpose2d`` for up-sampling) with the ``outer(taps_D, taps_H)`` kernel: oneDNN's
    channels_last kernels, one read of the input and one write of the output, no copy in or
    out (its channels_last output *is* the NCDHW result). The conv pads with zeros; for other
    pad modes the few output rows/columns that read padding are then recomputed by the
    passes themselves on thin slabs.
    """
    n, c, d, h, w = x.shape
    if b is None:
        b = _identity(h if a.dim == 2 else d, 3 if a.dim == 2 else 2)
    pd, ph = (a, b) if a.dim == 2 else (b, a)
    view = x.view(n * c, d, h, w).permute(0, 3, 1, 2)
    td = torch.tensor(pd.taps, dtype=x.dtype)
    th = torch.tensor(ph.taps, dtype=x.dtype)
    kernel = torch.outer(td, th).to(x.device)
    (pad_d, extra_d), (pad_h, extra_h) = _pair_geometry(pd), _pair_geometry(ph)  # type: ignore[misc]
    if pd.axis.up == 1 and ph.axis.up == 1:
        weight = kernel.flip(0, 1).expand(w, 1, *kernel.shape).contiguous()
        stride = (pd.axis.down, ph.axis.down)
        y = F.conv2d(view, weight, stride=stride, padding=(pad_d, pad_h), groups=w)
    else:
        weight = kernel.expand(w, 1, *kernel.shape).contiguous()
        y = F.conv_transpose2d(
            view,
            weight,
            stride=(pd.axis.up, ph.axis.up),
            padding=(pad_d, pad_h),
            output_padding=(extra_d, extra_h),
            groups=w,
        )
    od, oh = pd.axis.out, ph.axis.out
    y = y[:, :, :od, :oh].permute(0, 2, 3, 1).reshape(n, c, od, oh, w)
    if _reads_padding(pd):
        for j, reads in _edge_list(pd):  # D-rows that read padding, every H
            slab = _weighted([(x.narrow(2, src, 1), f) for src, f in reads], x.narrow(2, 0, 1))
            y.narrow(2, j, 1).copy_(_pass_forward(slab, ph))
    if _reads_padding(ph):
        rows: dict[int, torch.Tensor] = {}
        for j, reads in _edge_list(ph):  # H-columns that read padding, every D
            for src, _ in reads:
                if src not in rows:
                    rows[src] = _pass_forward(x.narrow(3, src, 1), pd)
            like = y.narrow(3, j, 1)
            y.narrow(3, j, 1).copy_(_weighted([(rows[src], f) for src, f in reads], like))
    return y


def _reads_padding(p: _Pass) -> bool:
    """Whether some output of ``p`` reads a sample the pad mode provides (not a zero)."""
    return any(e.reads for ph in p.phases for e in ph.edges)


def _run(x: torch.Tensor, passes: tuple[_Pass, ...], gain: float) -> torch.Tensor:
    if not passes:
        return x * gain
    i = 0
    while i < len(passes):
        if i + 1 < len(passes) and _pairable(x, passes[i], passes[i + 1]):
            x = _pair_forward(x, passes[i], passes[i + 1])
            i += 2
        elif _pairable(x, passes[i], None):
            x = _pair_forward(x, passes[i], None)
            i += 1
        else:
            x = _pass_forward(x, passes[i])
            i += 1
    return x


def _run_adjoint(g: torch.Tensor, passes: tuple[_Pass, ...], gain: float) -> torch.Tensor:
    if not passes:
        return g * gain
    for p in reversed(passes):
        g = _pass_adjoint(g, p)
    return g


class _Separable(torch.autograd.Function):
    """The separable passes with their adjoint as backward (each the other's: any order)."""

    @staticmethod
    def forward(ctx, x, passes, gain):  # type: ignore[override]
        ctx.passes, ctx.gain = passes, gain
        return _run(x, passes, gain)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        return _SeparableAdjoint.apply(grad, ctx.passes, ctx.gain), None, None


class _SeparableAdjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, grad, passes, gain):  # type: ignore[override]
        ctx.passes, ctx.gain = passes, gain
        return _run_adjoint(grad, passes, gain)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        return _Separable.apply(grad, ctx.passes, ctx.gain), None, None


def _plan(
    x: torch.Tensor,
    taps: Sequence[torch.Tensor],
    axes: Sequence[_Axis],
    mode: str,
    gain: float,
) -> tuple[_Pass, ...]:
    """The passes, down-sampling axes first, identity axes dropped, gain in the first pass."""

    # Shrinking axes first, growing ones last; among growing ones the contiguous last axis
    # first (its phases are strided writes: cheapest on the smallest tensor), among shrinking
    # ones last (its strided reads, likewise).
    ratios = [ax.up / ax.down for ax in axes]
    if len(axes) == 3 and (ratios[0] > 1) == (ratios[1] > 1):
        # D and H next to each other: they may run as one conv (_pair_forward)
        ratios[0] = ratios[1] = (max if ratios[0] > 1 else min)(ratios[:2])

    def key(d: int) -> tuple[float, int]:
        return ratios[d], (-d if ratios[d] > 1 else d)

    order = sorted(range(len(axes)), key=key)
    passes = []
    shape = list(x.shape)
    for d in order:
        ax = axes[d]
        values = taps[d].tolist()
        if ax.up == ax.down == 1 and ax.p0 == ax.p1 == 0 and values == [1.0]:
            continue  # identity
        shape[2 + d] = ax.out
        _check_bytes("an intermediate result", shape, x.dtype)
        if not passes and gain != 1.0:
            values = [v * gain for v in values]
        period, stride, phases = _phases(ax, mode)
        passes.append(_Pass(2 + d, ax, period, stride, tuple(values), phases))
    return tuple(passes)


# --------------------------------------------------------------------------- reference


def _reference(
    x: torch.Tensor, taps: Sequence[torch.Tensor], axes: Sequence[_Axis], mode: str, gain: float
) -> torch.Tensor:
    """The definition, step by step: extend, zero-stuff, pad/crop, one N-D conv, decimate."""
    dims = len(axes)
    # 1. extend every axis by pad_mode (index_select of the sources: numpy.pad's semantics,
    #    also where the padding is longer than the input).
    for d, ax in enumerate(axes):
        before, after = ax.pad_before(), ax.pad_after()
        if not (before or after):
            continue
        src = [_source(i, ax.n, mode) for i in range(-before, ax.n + after)]
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
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], tuple[_Axis, ...], str, float]:
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
        _Axis(n, u, dn, v.numel(), p0, p1)
        for n, u, dn, v, (p0, p1) in zip(x.shape[2:], ups, downs, t, pads)
    )
    for d, ax in enumerate(axes):
        if ax.length < 1:
            raise ValueError(
                f"expected a non-empty output along spatial axis {d} (n*up + p0 + p1 >= taps), "
                f"got n={ax.n}, up={ax.up}, padding=({ax.p0}, {ax.p1}), taps={ax.taps}"
            )
    _check_bytes("the output", (*x.shape[:2], *(ax.out for ax in axes)), x.dtype)
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
    passes = _plan(x, t, axes, mode, gain)
    if x.requires_grad and torch.is_grad_enabled():
        return _Separable.apply(x, passes, gain)
    return _run(x, passes, gain)


def _upfirdn2d(
    x: torch.Tensor, t: Sequence[torch.Tensor], axes: Sequence[_Axis], mode: str, gain: float
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
    axes: Sequence[_Axis],
    mode: str,
    gain: float,
    hint: str,
) -> torch.Tensor:
    stuffed = [(ax.n + ax.pad_before() + ax.pad_after()) * ax.up for ax in axes]
    _check_bytes("the reference's zero-stuffed input", (*x.shape[:2], *stuffed), x.dtype)
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
