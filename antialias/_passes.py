"""The execution engine of :mod:`antialias.upfirdn`: index arithmetic, polyphase passes, the
one-conv path for D and H of volumes, and the autograd functions (forward and adjoint).

What lives here: :class:`Axis` (one axis of the definition in :mod:`antialias.upfirdn`),
:func:`source_index` (which input sample a padded position reads), :func:`plan_passes` (one
1-D pass per axis, in the order they run), :func:`apply_passes` (run them; differentiable, the
adjoint as backward) and :func:`check_bytes`. What does not: argument checks, the reference,
the public API and its documentation (:mod:`antialias.upfirdn`, the only user of this module).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "MAX_BYTES",
    "Axis",
    "Pass",
    "apply_passes",
    "check_bytes",
    "pairable",
    "plan_passes",
    "source_index",
]

#: Largest tensor (bytes) one call may allocate.
MAX_BYTES = 2 * 1024**3


def check_bytes(what: str, shape: Sequence[int], dtype: torch.dtype) -> None:
    size = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    if size > MAX_BYTES:
        raise ValueError(
            f"expected {what} of at most {MAX_BYTES / 1024**3:.0f} GiB, got shape "
            f"{tuple(shape)} ({size / 1024**3:.1f} GiB); split the batch"
        )


# --------------------------------------------------------------------------- index arithmetic


@dataclass(frozen=True)
class Axis:
    """Index arithmetic of one axis (the definition in :mod:`antialias.upfirdn`)."""

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


def source_index(i: int, n: int, mode: str) -> int:
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
class Pass:
    """One 1-D pass along ``dim``: its phases, with the taps as Python floats."""

    dim: int
    axis: Axis
    period: int  # P
    stride: int  # s
    taps: tuple[float, ...]
    phases: tuple[_Phase, ...]


@functools.lru_cache(maxsize=256)
def _phases(ax: Axis, mode: str) -> tuple[int, int, tuple[_Phase, ...]]:
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
                src = source_index(q * stride + t.offset, ax.n, mode)
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


def _pass_forward(x: torch.Tensor, p: Pass) -> torch.Tensor:
    """One 1-D polyphase pass along ``p.dim`` (:mod:`antialias.upfirdn`, "separable")."""
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


def _pass_adjoint(g: torch.Tensor, p: Pass) -> torch.Tensor:
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


def _pair_geometry(p: Pass) -> tuple[int, int] | None:
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


def pairable(x: torch.Tensor, a: Pass, b: Pass | None) -> bool:
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


def _identity(n: int, dim: int) -> Pass:
    """The identity pass along ``dim`` (the partner of a lone D or H pass in one conv)."""
    ax = Axis(n, 1, 1, 1, 0, 0)
    return Pass(dim, ax, 1, 1, (1.0,), _phases(ax, "zeros")[2])


def _edge_list(p: Pass) -> list[tuple[int, list[tuple[int, float]]]]:
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


def _pair_forward(x: torch.Tensor, a: Pass, b: Pass | None) -> torch.Tensor:
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


def _reads_padding(p: Pass) -> bool:
    """Whether some output of ``p`` reads a sample the pad mode provides (not a zero)."""
    return any(e.reads for ph in p.phases for e in ph.edges)


def _run(x: torch.Tensor, passes: tuple[Pass, ...], gain: float) -> torch.Tensor:
    if not passes:
        return x * gain
    i = 0
    while i < len(passes):
        if i + 1 < len(passes) and pairable(x, passes[i], passes[i + 1]):
            x = _pair_forward(x, passes[i], passes[i + 1])
            i += 2
        elif pairable(x, passes[i], None):
            x = _pair_forward(x, passes[i], None)
            i += 1
        else:
            x = _pass_forward(x, passes[i])
            i += 1
    return x


def _run_adjoint(g: torch.Tensor, passes: tuple[Pass, ...], gain: float) -> torch.Tensor:
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


def plan_passes(
    x: torch.Tensor,
    taps: Sequence[torch.Tensor],
    axes: Sequence[Axis],
    mode: str,
    gain: float,
) -> tuple[Pass, ...]:
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
        check_bytes("an intermediate result", shape, x.dtype)
        if not passes and gain != 1.0:
            values = [v * gain for v in values]
        period, stride, phases = _phases(ax, mode)
        passes.append(Pass(2 + d, ax, period, stride, tuple(values), phases))
    return tuple(passes)


def apply_passes(x: torch.Tensor, passes: tuple[Pass, ...], gain: float) -> torch.Tensor:
    """Run the passes on ``x``; with autograd, their adjoint is the backward."""
    if x.requires_grad and torch.is_grad_enabled():
        return _Separable.apply(x, passes, gain)
    return _run(x, passes, gain)
