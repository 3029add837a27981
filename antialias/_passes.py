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
    mode: str


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
        return
    partial = [sum(fs[: k + 1]) for k in range(len(fs))]
    if len(srcs) >= 2 and abs(partial[-1] - 1.0) <= 1e-12 and all(partial[1:]):
        # Weights summing to 1 (a low-pass, or one phase of an interpolator): a chain of
        # lerps, L - 1 passes instead of a multiply and L - 1 adds. r_k = lerp(r_{k-1}, s_k,
        # f_k / (f_0 + ... + f_k)) keeps r_k the normalised sum of the first k + 1 terms.
        torch.lerp(srcs[0], srcs[1], fs[1] / partial[1], out=out)
        for k in range(2, len(srcs)):
            torch.lerp(out, srcs[k], fs[k] / partial[k], out=out)
        return
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
    if any(ph.edges for ph in p.phases):
        for xc, yc in _slab_chunks((x, y), dim):
            _edges_forward(xc, yc, p)
    return y


def _edges_forward(x: torch.Tensor, y: torch.Tensor, p: Pass) -> None:
    """The outputs of ``p`` that read padding: one op per distinct input sample (narrow
    views: index ops are far slower)."""
    dim = p.dim
    for ph in p.phases:
        view = _strided(y, dim, ph.start, ph.count, p.period)
        for e in ph.edges:
            out = view.narrow(dim, e.q, 1)
            if not e.reads:
                out.zero_()
            for n, (src, terms) in enumerate(e.reads):
                f = sum(p.taps[ph.terms[i].tap] for i in terms)
                if n == 0:
                    torch.mul(x.narrow(dim, src, 1), f, out=out)
                else:
                    out.add_(x.narrow(dim, src, 1), alpha=f)


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
    if any(ph.edges for ph in p.phases):
        for gc, gxc in _slab_chunks((g, gx), dim):
            _edges_adjoint(gc, gxc, p)
    return gx


def _edges_adjoint(g: torch.Tensor, gx: torch.Tensor, p: Pass) -> None:
    dim = p.dim
    for ph in p.phases:
        view = _strided(g, dim, ph.start, ph.count, p.period)
        for e in ph.edges:
            band = view.narrow(dim, e.q, 1)
            for src, terms in e.reads:
                f = sum(p.taps[ph.terms[i].tap] for i in terms)
                gx.narrow(dim, src, 1).add_(band, alpha=f)


# torch runs an elementwise op on fewer elements than this in the calling thread
# (at::internal::GRAIN_SIZE); larger ones wake the thread pool. The border ops are many and
# small: on a busy machine each wake waited for a descheduled thread (3-D blur-pool, reflect,
# 2 threads, load 5: 20 ms per border op after the conv, 23 us in a warm loop; 164 -> 30 ms
# for the whole layer once the border ops ran in chunks under this size).
_GRAIN = 32768


def _slab_chunks(ts: Sequence[torch.Tensor], dim: int) -> list[tuple[torch.Tensor, ...]]:
    """``ts`` (same N and C, any layout) cut along N and C so that one index along ``dim`` of
    each chunk (a border slab) has fewer elements than torch's grain size."""
    n, c = ts[0].shape[:2]
    slab = max(t[0, 0].numel() // t.shape[dim] for t in ts) if ts[0].numel() else 1
    if n * c * slab < _GRAIN:
        return [tuple(ts)]
    step = max(1, (_GRAIN - 1) // slab)
    chunks = []
    for i in range(n):
        for j in range(0, c, step):
            k = min(step, c - j)
            chunks.append(tuple(t.narrow(0, i, 1).narrow(1, j, k) for t in ts))
    return chunks


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
    as one channels_last conv on ``x``."""
    return x.is_contiguous() and _pairable_kind(x, a, b)


def _pairable_kind(x: torch.Tensor, a: Pass, b: Pass | None) -> bool:
    """:func:`pairable` but for the layout (the adjoint makes its gradient contiguous)."""
    dims = {a.dim} if b is None else {a.dim, b.dim}
    if x.ndim != 5 or not (dims == {2, 3} or (b is None and a.dim in (2, 3))):
        return False
    if x.dtype != torch.float32 or x.device.type != "cpu":
        return False
    if not torch.backends.mkldnn.is_available() or torch.compiler.is_compiling():
        return False
    if b is not None and (a.axis.up > 1) != (b.axis.up > 1):
        return False  # one conv either correlates or scatters
    return all(_pair_geometry(p) is not None for p in (a, b) if p is not None)


def _identity(n: int, dim: int) -> Pass:
    """The identity pass along ``dim`` (the partner of a lone D or H pass in one conv)."""
    ax = Axis(n, 1, 1, 1, 0, 0)
    return Pass(dim, ax, 1, 1, (1.0,), _phases(ax, "zeros")[2], "zeros")


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


@dataclass(frozen=True)
class _PairConv:
    """The one depthwise conv of :func:`_pair_forward`: passes, weight and geometry."""

    pd: Pass  # along D (dim 2)
    ph: Pass  # along H (dim 3)
    weight: torch.Tensor  # (W, 1, L_D, L_H)
    transposed: bool
    stride: tuple[int, int]
    padding: tuple[int, int]
    extra: tuple[int, int]  # output_padding of the transposed conv


def _pair_conv(t: torch.Tensor, a: Pass, b: Pass | None) -> _PairConv:
    d, h, w = t.shape[2], t.shape[3], t.shape[4]
    if b is None:  # the identity keeps its axis' size: input and output sizes agree there
        b = _identity(h if a.dim == 2 else d, 3 if a.dim == 2 else 2)
    pd, ph = (a, b) if a.dim == 2 else (b, a)
    kernel = torch.outer(
        torch.tensor(pd.taps, dtype=t.dtype), torch.tensor(ph.taps, dtype=t.dtype)
    ).to(t.device)
    (pad_d, extra_d), (pad_h, extra_h) = _pair_geometry(pd), _pair_geometry(ph)  # type: ignore[misc]
    transposed = pd.axis.up > 1 or ph.axis.up > 1
    if transposed:  # conv_transpose2d scatters: the convolution of the definition as is
        weight, stride = kernel, (pd.axis.up, ph.axis.up)
    else:  # conv2d correlates: flip
        weight, stride = kernel.flip(0, 1), (pd.axis.down, ph.axis.down)
    weight = weight.expand(w, 1, *kernel.shape).contiguous()
    return _PairConv(pd, ph, weight, transposed, stride, (pad_d, pad_h), (extra_d, extra_h))


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
    pc = _pair_conv(x, a, b)
    pd, ph = pc.pd, pc.ph
    view = x.view(n * c, d, h, w).permute(0, 3, 1, 2)
    if pc.transposed:
        y = F.conv_transpose2d(view, pc.weight, None, pc.stride, pc.padding, pc.extra, groups=w)
    else:
        y = F.conv2d(view, pc.weight, None, pc.stride, pc.padding, groups=w)
    od, oh = pd.axis.out, ph.axis.out
    y = y[:, :, :od, :oh].permute(0, 2, 3, 1).reshape(n, c, od, oh, w)
    if not y.is_contiguous():  # the conv reached past the outputs: cropped, so copied once
        y = y.contiguous()
    if _reads_padding(pd) or _reads_padding(ph):
        for xc, yc in _channel_chunks(x, y):
            _fix_borders(xc, yc, pd, ph)
    return y


def _channel_chunks(*ts: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
    """Contiguous ``(N, C, D, H, W)`` tensors as chunks of their ``N*C`` channels, each chunk's
    largest border slab (one D-row or H-column) under torch's grain size."""
    n, c, d, h, w = ts[0].shape
    slab = max(t.shape[3] * t.shape[4] for t in ts) + max(t.shape[2] * t.shape[4] for t in ts)
    step = max(1, (_GRAIN - 1) // slab)
    flat = [t.view(1, n * c, *t.shape[2:]) for t in ts]
    return [
        tuple(f.narrow(1, i, min(step, n * c - i)) for f in flat) for i in range(0, n * c, step)
    ]


def _fix_borders(x: torch.Tensor, y: torch.Tensor, pd: Pass, ph: Pass) -> None:
    """Recompute the outputs ``y`` of the pair (D, H) that read padding, from ``x``."""
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


def _fold_borders(
    g: torch.Tensor,
    gx: torch.Tensor,
    pd: Pass,
    ph: Pass,
    rows: list[tuple[int, list[tuple[int, float]]]],
    cols: list[tuple[int, list[tuple[int, float]]]],
) -> None:
    """The adjoint of :func:`_fix_borders`: ``g`` at the border outputs, folded into ``gx``."""
    for j, reads in rows:  # D-rows: the H pass' adjoint, then onto the samples they read
        t = _pass_adjoint(g.narrow(2, j, 1), ph)
        for src, f in reads:
            gx.narrow(2, src, 1).add_(t, alpha=f)
    for j, reads in cols:  # H-columns (without the D-rows, counted above): the D pass' adjoint
        col = g.narrow(3, j, 1)
        if rows:
            col = col.clone()
            for jd, _ in rows:
                col.narrow(2, jd, 1).zero_()
        t = _pass_adjoint(col, pd)
        for src, f in reads:
            gx.narrow(3, src, 1).add_(t, alpha=f)


def _pair_adjoint(g: torch.Tensor, a: Pass, b: Pass | None) -> torch.Tensor:
    """The adjoint of :func:`_pair_forward` (``g`` contiguous), again as one conv.

    The forward is the zero-padded conv ``A0`` except at the border outputs ``E`` that read
    other padding, which the true passes ``A`` give: ``(I - P_E) A0 + P_E A``. Its adjoint is
    ``A0^T`` (the transposed conv, or conv, with the same weight) of ``g`` with ``E`` zeroed,
    plus the thin passes' adjoints of ``g`` on ``E`` (each border output counted once).
    """
    n, c, od, oh, w = g.shape
    pc = _pair_conv(g, a, b)
    pd, ph = pc.pd, pc.ph
    d, h = pd.axis.n, ph.axis.n
    rows = _edge_list(pd) if _reads_padding(pd) else []
    cols = _edge_list(ph) if _reads_padding(ph) else []
    masked = g
    if rows or cols:
        masked = g.clone()
        for (mc,) in _channel_chunks(masked):
            for j, _ in rows:
                mc.narrow(2, j, 1).zero_()
            for j, _ in cols:
                mc.narrow(3, j, 1).zero_()
    view = masked.view(n * c, od, oh, w).permute(0, 3, 1, 2)
    (ld, lh) = pc.weight.shape[2:]
    (sd, sh), (pad_d, pad_h) = pc.stride, pc.padding
    if pc.transposed:
        # the forward's transposed conv had (T_D, T_H) outputs before the crop to (od, oh)
        full = [
            (n_ - 1) * s - 2 * p + k + e
            for n_, s, p, k, e in zip((d, h), pc.stride, pc.padding, (ld, lh), pc.extra)
        ]
        if full[0] > od or full[1] > oh:
            view = F.pad(view, (0, full[1] - oh, 0, full[0] - od))
        gx = F.conv2d(view, pc.weight, None, pc.stride, pc.padding, groups=w)
    else:
        full = [
            (n_ + 2 * p - k) // s + 1
            for n_, s, p, k in zip((d, h), pc.stride, pc.padding, (ld, lh))
        ]
        if full[0] > od or full[1] > oh:
            view = F.pad(view, (0, full[1] - oh, 0, full[0] - od))
        extra = (
            d - ((full[0] - 1) * sd - 2 * pad_d + ld),
            h - ((full[1] - 1) * sh - 2 * pad_h + lh),
        )
        gx = F.conv_transpose2d(view, pc.weight, None, pc.stride, pc.padding, extra, groups=w)
    gx = gx.permute(0, 2, 3, 1).reshape(n, c, d, h, w)
    if not gx.is_contiguous():
        gx = gx.contiguous()
    if rows or cols:
        for gc, gxc in _channel_chunks(g, gx):
            _fold_borders(gc, gxc, pd, ph, rows, cols)
    return gx


def _reads_padding(p: Pass) -> bool:
    """Whether some output of ``p`` reads a sample the pad mode provides (the conv's zero
    padding is exact otherwise)."""
    return p.mode != "zeros" and any(ph.edges for ph in p.phases)


def _groups(
    t: torch.Tensor, passes: tuple[Pass, ...], layout_free: bool
) -> list[tuple[Pass, Pass | None, bool]]:
    """The passes as run: ``(a, b, conv)``; ``conv``: one channels_last conv (b None: a alone).

    Every step's output is contiguous, so only the first step depends on ``t``'s layout
    (``layout_free``: the adjoint, which makes its gradient contiguous).
    """
    groups: list[tuple[Pass, Pass | None, bool]] = []
    i = 0
    while i < len(passes):
        layout_ok = layout_free or i > 0 or t.is_contiguous()
        a = passes[i]
        b = passes[i + 1] if i + 1 < len(passes) else None
        if layout_ok and b is not None and _pairable_kind(t, a, b):
            groups.append((a, b, True))
            i += 2
            continue
        groups.append((a, None, layout_ok and _pairable_kind(t, a, None)))
        i += 1
    return groups


def _run(x: torch.Tensor, passes: tuple[Pass, ...], gain: float) -> torch.Tensor:
    if not passes:
        return x * gain
    for a, b, conv in _groups(x, passes, False):
        x = _pair_forward(x, a, b) if conv else _pass_forward(x, a)
    return x


def _run_adjoint(g: torch.Tensor, passes: tuple[Pass, ...], gain: float) -> torch.Tensor:
    if not passes:
        return g * gain
    for a, b, conv in reversed(_groups(g, passes, True)):
        g = _pair_adjoint(g.contiguous(), a, b) if conv else _pass_adjoint(g, a)
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
        passes.append(Pass(2 + d, ax, period, stride, tuple(values), phases, mode))
    return tuple(passes)


def apply_passes(x: torch.Tensor, passes: tuple[Pass, ...], gain: float) -> torch.Tensor:
    """Run the passes on ``x``; with autograd, their adjoint is the backward."""
    if x.requires_grad and torch.is_grad_enabled():
        return _Separable.apply(x, passes, gain)
    return _run(x, passes, gain)
