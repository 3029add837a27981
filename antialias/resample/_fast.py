"""The fast paths of :mod:`antialias.resample` (equal to the definition up to rounding).

Each stays because a row of ``benchmarks/bench_resample.py`` (or ``bench_layers.py``) keeps it:

- one (transposed) conv instead of zero-stuffing: the inserted zeros are never stored nor
  multiplied (every row; ``impl="reference"`` is what it saves);
- the column-blocked dense conv (:func:`blocked_conv`): depthwise convs run far below the
  machine's speed on CPU (rows "downsample2d zeros" vs "... depthwise", "upsample2d generic
  path" vs "... generic depthwise");
- torch's own ``F.interpolate`` kernel for exactly its taps (:func:`torch_interpolation`;
  rows "upsample2d replicate" vs "upsample2d generic path", and bench_layers' "blur" rows);
- border strips instead of a full-tensor ``F.pad`` copy (:func:`side_strips`; rows
  "downsample2d reflect" vs antialiased-cnns, which pads the whole tensor);
- the adjoint as the backward, by the same fast path (every "fwd+bwd" row).

Private to the package.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from antialias.filters import INTERPOLATION_MODES, MAX_TAPS, interpolation_fir

from ._core import Axis
from ._reference import reference
from .borders import TORCH_PAD, extend, fold

# Above this share of the output, recomputing border strips is no cheaper than one padded copy.
_STRIP_SHARE = 0.25


def conv(
    x: torch.Tensor, kernel: torch.Tensor, axes: tuple[Axis, Axis], blocked: bool
) -> torch.Tensor | None:
    """Zero-padded upfirdn via one (transposed) conv: the first rows/cols it reaches.

    Returns at most ``out`` rows/cols (possibly fewer at the end), or None where the conv
    cannot express the padding (negative padding and the like). The conv is the column-blocked
    dense one (:func:`blocked_conv`) where it applies and ``blocked`` allows it, else a
    depthwise one.
    """
    ah, aw = axes
    up, down, channels = ah.up, ah.down, x.shape[1]
    kh, kw = kernel.shape
    if up == 1:
        if ah.p0 < 0 or aw.p0 < 0 or ah.n + 2 * ah.p0 < kh or aw.n + 2 * aw.p0 < kw:
            return None
        y = blocked_conv(x, kernel, axes, (ah.p0, 0)) if blocked else None
        if y is None:
            # conv2d is a correlation: flip to get the convolution of the definition.
            weight = kernel.flip(0, 1).expand(channels, 1, kh, kw).contiguous()
            y = F.conv2d(x, weight, stride=down, padding=(ah.p0, aw.p0), groups=channels)
    else:
        # Transposed conv with stride up == zero-stuffing + convolution; its padding crops
        # L-1-p0 fine-grid samples from each side and output_padding (< up) extends the end.
        pad, extra = [], []
        for ax in axes:
            crop = ax.taps - 1 - ax.p0
            full = (ax.n - 1) * up - 2 * crop + ax.taps
            pad.append(crop)
            extra.append(min(up - 1, max(0, ax.length - full)))
            if crop < 0 or full + extra[-1] < 1:
                return None
        y = None if down > 1 or not blocked else blocked_conv(x, kernel, axes, (pad[0], extra[0]))
        if y is None:
            weight = kernel.expand(channels, 1, kh, kw).contiguous()
            y = F.conv_transpose2d(
                x,
                weight,
                stride=up,
                padding=tuple(pad),
                output_padding=tuple(extra),
                groups=channels,
            )
            if down > 1:
                y = y[..., ::down, ::down]
    if y.shape[-2] > ah.out or y.shape[-1] > aw.out:
        y = y[..., : ah.out, : aw.out]
    return y


# Column-blocked convolution (see _blocked_conv). The dense channel mixing multiplies the zeros
# of a sparse weight: beyond these multiply-adds per output block column and row (measured,
# 2 threads, float32: binomial 3 and 5 down by 2 and filters of 3 and 5 taps gain 10-40%,
# 7 taps down by 2 or 8 taps up by 2 lose), the depthwise conv is used instead.
BLOCK = 8  # columns per block (per unit of up/down)
_MAX_MACS = {False: 256, True: 144}  # conv2d, conv_transpose2d


@functools.lru_cache(maxsize=64)
def block_index(
    bi: int, bo: int, up: int, down: int, taps: int, p0: int, transposed: bool
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Which tap of the W-axis filter links input column ``c`` of a block to output ``t``.

    Output column ``j = bo*q + t`` reads input ``i = bi*q' + c`` through tap
    ``k = j*down + taps - 1 - p0 - i*up``; with ``bo*down == bi*up`` that depends only on
    ``r = q' - q`` (a neighbouring block: ``|r| <= pad``). Returns ``(k, valid, pad)``, ``k``
    of shape ``(bo, bi, 2 pad + 1)`` (``(bi, bo, ...)`` for a transposed conv, whose last
    index runs over ``-r``), clamped to a valid tap where ``valid`` is False.
    """
    period = bi * up
    t = torch.arange(bo).view(bo, 1, 1)
    c = torch.arange(bi).view(1, bi, 1)
    base = t * down - c * up + taps - 1 - p0  # k for r = 0
    lo = -((taps - 1 - int(base.min())) // period)  # smallest r that reaches a tap (ceil)
    hi = int(base.max()) // period
    pad = max(-lo, hi, 0)
    r = torch.arange(-pad, pad + 1).view(1, 1, -1)
    if transposed:  # conv_transpose2d's kernel index along W is pad - r
        r = -r
    k = base - period * r
    valid = (k >= 0) & (k < taps)
    k = k.clamp(0, taps - 1)
    if transposed:
        k, valid = k.transpose(0, 1), valid.transpose(0, 1)
    return k.contiguous(), valid, pad


def blocked_conv(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[Axis, Axis],
    h_pad: tuple[int, int],
) -> torch.Tensor | None:
    """The zero-padded upfirdn as a dense conv over blocks of columns, or None.

    Depthwise convs (and torch's transposed ones above all) run far below the machine's
    speed on CPU. Viewed as ``(N*C, B, H, W/B)`` (column ``B*q + c`` -> channel ``c``, block
    ``q``), a contiguous NCHW tensor *is* a channels_last tensor with ``B`` channels, and the
    operation becomes an ordinary dense conv mapping ``B_in`` to ``B_out = B_in*up/down``
    channels along W (each output column reads its own and the neighbouring blocks) and the
    usual strided (transposed) conv along H: oneDNN's fast channels_last kernels, and the
    channels_last output *is* the NCHW result. No copy on the way in or out, zero padding
    exact. Only for float32, contiguous NCHW input, width a multiple of the block, one of
    up/down equal to 1, and filters short enough that the dense weight's zeros stay cheap.
    ``h_pad``: the H axis' (padding, output_padding) of the conv (output_padding: transposed).
    """
    ah, aw = axes
    up, down = ah.up, ah.down
    if (up > 1 and down > 1) or x.dtype != torch.float32:
        return None
    bi, bo = BLOCK * down, BLOCK * up
    n, c, h, w = x.shape
    # is_compiling() first: a test of the size while tracing would be recorded as a guard
    if torch.compiler.is_compiling() or w % bi or not x.is_contiguous():
        return None
    if not torch.backends.mkldnn.is_available() or kernel.device.type != "cpu":
        return None
    kh, kw = kernel.shape
    index, valid, pad = block_index(bi, bo, up, down, kw, aw.p0, up > 1)
    if bi * kh * (2 * pad + 1) > _MAX_MACS[up > 1]:
        return None
    if up > 1:
        # weight (bi, bo, kh, 2 pad + 1): rows as the depthwise transposed conv uses them
        weight = kernel[:, index] * valid.to(kernel.dtype)  # (kh, bi, bo, k)
        weight = weight.permute(1, 2, 0, 3).contiguous()
    else:
        # weight (bo, bi, kh, 2 pad + 1): rows flipped (conv2d correlates)
        weight = kernel.flip(0)[:, index] * valid.to(kernel.dtype)
        weight = weight.permute(1, 2, 0, 3).contiguous()
    blocks = x.view(n * c, h, w // bi, bi).permute(0, 3, 1, 2)
    if up > 1:
        y = F.conv_transpose2d(
            blocks,
            weight,
            stride=(up, 1),
            padding=(h_pad[0], pad),
            output_padding=(h_pad[1], 0),
        )
    else:
        y = F.conv2d(blocks, weight, stride=(down, 1), padding=(h_pad[0], pad))
    # (N*C, bo, H', W/bi) -> (N, C, H', W*up/down): a view when y is channels_last
    return y.permute(0, 2, 3, 1).reshape(n, c, y.shape[2], y.shape[3] * bo)


# Use torch's own interpolation kernels where they compute exactly our filter (impl="auto").
AUTO = "auto"  # torch_interpolation: compare the kernel with torch's filters on this call

# 'nearest-exact' rather than 'nearest': the two agree for integer factors (one entry of the
# table each), and the former indexes exactly.
_HANDOVER_MODES = tuple(m for m in INTERPOLATION_MODES if m != "nearest")


@functools.lru_cache(maxsize=32)
def interpolation_filters(up: int) -> tuple[tuple[str, torch.Tensor], ...]:
    # F.interpolate(align_corners=False) == zeros + these taps with replicate edges
    # (antialias.catalogue proves it in its tests).
    return tuple((mode, interpolation_fir(mode, up)) for mode in _HANDOVER_MODES)


def interpolation_mode(taps: torch.Tensor, up: int) -> str | None:
    """The F.interpolate mode computing zeros + ``taps`` (1-D, or a 2-D kernel), if any."""
    if up > MAX_TAPS // 4:  # no torch filter that long is in the table
        return None
    for mode, ref in interpolation_filters(up):
        expected = ref if taps.ndim == 1 else torch.outer(ref, ref)
        if taps.shape == expected.shape:
            expected = expected.to(taps.dtype)
            tol = 4 * torch.finfo(taps.dtype).eps * float(expected.abs().max())
            if bool(((taps.detach().cpu() - expected).abs() <= tol).all()):
                return mode
    return None


def torch_interpolation(
    kernel: torch.Tensor, axes: tuple[Axis, Axis], known: str | None = AUTO
) -> str | None:
    """The F.interpolate mode that computes this up-sampling (replicate edges), if any.

    ``known``: the caller's answer for these taps (a plan decides once, when prepared; None
    for every impl but "auto"); by default the kernel is compared here, except while
    ``torch.compile`` traces (a data-dependent test it cannot follow): the generic path then
    runs, with equal results.
    """
    ah, aw = axes
    if known is None or ah.up == 1 or ah.down != 1:
        return None
    for ax in axes:
        if ax.p0 != (ax.taps + ax.up - 2) // 2 or ax.p1 != ax.taps - 1 - ax.p0:
            return None
    if known != AUTO:
        return known
    if torch.compiler.is_compiling():
        return None
    return interpolation_mode(kernel, ah.up)


def output_block(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[Axis, Axis],
    rows: tuple[int, int],
    cols: tuple[int, int],
    pad_mode: str,
    blocked: bool,
) -> torch.Tensor:
    """Output block [rows) x [cols), from the explicitly extended slice of x it depends on."""
    sub = []
    spans = [(ax.first(j0), ax.last(j1 - 1) + 1) for ax, (j0, j1) in zip(axes, (rows, cols))]
    if any(stop <= start for start, stop in spans):  # no input sample reaches the block
        return x.new_zeros(*x.shape[:2], rows[1] - rows[0], cols[1] - cols[0])
    x = extend(x, spans, pad_mode)
    for ax, (j0, j1), (start, stop) in zip(axes, (rows, cols), spans):
        # Re-express the block as an upfirdn of the slice: output j0 becomes output 0.
        p0 = ax.p0 + ax.up * start - j0 * ax.down
        p1 = (j1 - j0 - 1) * ax.down + ax.taps - (stop - start) * ax.up - p0
        sub.append(Axis(stop - start, ax.up, ax.down, ax.taps, p0, p1))
    y = conv(x, kernel, (sub[0], sub[1]), blocked)
    if y is None or y.shape[-2] < rows[1] - rows[0] or y.shape[-1] < cols[1] - cols[0]:
        pads = (sub[1].p0, sub[1].p1, sub[0].p0, sub[0].p1)
        y = reference(x, kernel, axes[0].up, axes[0].down, pads, "zeros")
    return y


def side_spans(ax: Axis, head: int, tail: int, end: int, mode: str) -> tuple[int, int] | None:
    """Input samples ``[0, a)`` and ``[s, n)`` from which outputs ``[0, head)`` and
    ``[tail, end)`` follow, extended by ``mode`` as if ``[a, s)`` were not there; or None.

    Dropping ``[a, s)`` shifts the later outputs by ``(s - a) * up / down`` places, so ``s``
    moves left until that is whole and leaves them after the first ones. F.pad of the
    shortened signal must read only what the full one would: reflect mirrors inside the
    near side, circular wraps to the far side.
    """
    n = ax.n
    a = min(max(ax.last(head - 1) + 1, 0), n) if head > 0 else 0
    s = min(max(ax.first(tail), 0), n) if tail < end else n
    before, after = ax.pad_before(), ax.pad_after()
    if mode == "circular":
        a, s = max(a, after), min(s, n - before)
    elif mode in ("reflect", "replicate"):  # the samples the padding mirrors or repeats
        near = 1 if mode == "reflect" else 0
        a = max(a, before + near) if before else a
        s = min(s, n - after - near) if after else s
    while s > a and (
        ((s - a) * ax.up) % ax.down or (tail < end and tail - (s - a) * ax.up // ax.down < head)
    ):
        s -= 1
    if 2 * (a + n - s) > n:  # not worth it: little to drop (and small maps)
        return None
    return a, s


def side_strips(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[Axis, Axis],
    pad_mode: str,
    heads: tuple[int, int],
    tails: tuple[int, int],
    ends: tuple[int, int],
    blocked: bool,
) -> list[tuple[int, torch.Tensor, int]] | None:
    """Outputs ``[0, head)`` and ``[tail, end)`` along each axis (all of the other axis), each
    axis in one small conv over the input's two sides put together (:func:`side_spans`).

    Returns ``(dim, block, shift)`` per axis that has strips: ``block`` holds the outputs
    along ``dim``, the later ones ``shift`` places earlier; None where this does not apply
    (then the strips are computed one by one).
    """
    result = []
    for d, (ax, other) in enumerate((axes, axes[::-1])):
        head, tail = heads[d], tails[d]
        if head <= 0 and tail >= ends[d]:
            continue
        sides = side_spans(ax, head, tail, ends[d], pad_mode)
        if sides is None:
            return None
        a, s = sides
        dim = 2 + d
        n = ax.n
        parts = [x.narrow(dim, 0, a)] if a else []
        if s < n or not parts:
            parts.append(x.narrow(dim, s, n - s))
        short = torch.cat(parts, dim) if len(parts) > 1 else parts[0]
        pads = [(ax.pad_before(), ax.pad_after()), (other.pad_before(), other.pad_after())]
        sizes = [a + n - s, other.n]
        if pad_mode == "reflect" and any(max(p) >= m for p, m in zip(pads, sizes)):
            return None
        if pad_mode == "circular" and any(max(p) > m for p, m in zip(pads, sizes)):
            return None
        if d == 1:
            pads, sizes = pads[::-1], sizes[::-1]
        (bh, ah_), (bw, aw_) = pads
        if bh or ah_ or bw or aw_:
            short = F.pad(short, (bw, aw_, bh, ah_), mode=TORCH_PAD[pad_mode])
        shift = (s - a) * ax.up // ax.down
        sub = []
        for i, (axis, (b, e), m) in enumerate(zip(axes, pads, sizes)):
            p0, p1 = axis.p0 - axis.up * b, axis.p1 - axis.up * e
            if i == d:  # exactly the outputs wanted: [0, head) and [tail, end) - shift
                count = ends[d] - shift if tail < ends[d] else head
                p1 = (count - 1) * axis.down + axis.taps - (m + b + e) * axis.up - p0
            sub.append(Axis(m + b + e, axis.up, axis.down, axis.taps, p0, p1))
        if axes[0].up > 1 and short.dtype == torch.float32:
            # torch's depthwise transposed conv is up to 10x faster on small channels_last
            # tensors (oneDNN's kernel) than on NCHW ones; the copy costs little here
            short = short.contiguous(memory_format=torch.channels_last)
        block = exact_conv(short, kernel, (sub[0], sub[1]), blocked)
        result.append((dim, block, shift))
    return result


def exact_conv(
    x: torch.Tensor, kernel: torch.Tensor, axes: tuple[Axis, Axis], blocked: bool
) -> torch.Tensor:
    """All outputs of the zero-padded upfirdn of x: the conv, or :func:`output_block` where the conv
    cannot express the padding."""
    y = conv(x, kernel, axes, blocked)
    if y is None or y.shape[-2] < axes[0].out or y.shape[-1] < axes[1].out:
        y = output_block(x, kernel, axes, (0, axes[0].out), (0, axes[1].out), "zeros", blocked)
    return y


def forward(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[Axis, Axis],
    pad_mode: str,
    torch_mode: str | None,
    blocked: bool,
) -> torch.Tensor:
    """upfirdn2d by the fast path (differentiable by autograd, but see _UpFirDn2d).

    ``torch_mode``: the F.interpolate mode computing this up-sampling (torch_interpolation);
    ``blocked``: whether the column-blocked conv may run.
    """
    ah, aw = axes
    out_h, out_w = ah.out, aw.out
    if pad_mode == "zeros" and torch_mode is None:
        head_h = head_w = 0  # the conv's own zero padding is exact
        tail_h, tail_w = out_h, out_w
    elif pad_mode == "replicate" and torch_mode is not None:
        head_h = head_w = 0  # F.interpolate clamps: exact
        tail_h, tail_w = out_h, out_w
    else:
        head_h, head_w, tail_h, tail_w = ah.head(), aw.head(), ah.tail(), aw.tail()
    border = out_h * out_w - max(0, tail_h - head_h) * max(0, tail_w - head_w)
    if border > _STRIP_SHARE * out_h * out_w:
        y = None
    elif torch_mode is not None:
        y = F.interpolate(x, scale_factor=ah.up, mode=torch_mode)
    else:
        y = conv(x, kernel, axes, blocked)
    if y is None:
        return output_block(x, kernel, axes, (0, out_h), (0, out_w), pad_mode, blocked)

    got_h, got_w = y.shape[-2], y.shape[-1]
    tail_h, tail_w = min(tail_h, got_h), min(tail_w, got_w)
    mid = (head_h, max(head_h, tail_h))
    # Rows/cols the conv did not reach (e.g. even taps, odd size): appended below.
    right = bottom = None
    if got_w < out_w:
        right = output_block(x, kernel, axes, (0, got_h), (got_w, out_w), pad_mode, blocked)
    if got_h < out_h:
        bottom = output_block(x, kernel, axes, (got_h, out_h), (0, out_w), pad_mode, blocked)
    # Border strips that depend on the padding: recomputed, written in below; both
    # sides of an axis in one small conv where that applies, else strip by strip.
    sides = side_strips(
        x, kernel, axes, pad_mode, (head_h, head_w), (tail_h, tail_w), (got_h, got_w), blocked
    )
    strips = []
    if sides is None:
        if head_h > 0:
            strips.append(((0, head_h), (0, out_w)))
        if tail_h < got_h:
            strips.append(((tail_h, got_h), (0, out_w)))
        if mid[1] > mid[0] and head_w > 0:
            strips.append((mid, (0, head_w)))
        if mid[1] > mid[0] and tail_w < got_w:
            strips.append((mid, (tail_w, got_w)))
        strips = [(r, c, output_block(x, kernel, axes, r, c, pad_mode, blocked)) for r, c in strips]
    if right is not None:
        y = torch.cat([y, right], dim=3)
    if bottom is not None:
        y = torch.cat([y, bottom], dim=2)
    for (r0, r1), (c0, c1), block in strips:
        y[..., r0:r1, c0:c1] = block
    for dim, block, shift in sides or ():
        head, tail, got = (head_h, tail_h, got_h) if dim == 2 else (head_w, tail_w, got_w)
        if 0 < head <= tail and got - tail == head and not torch.compiler.is_compiling():
            # both sides in one strided copy (as_strided: not for a traced graph)
            two_sides(y, dim, head, tail).copy_(two_sides(block, dim, head, tail - shift))
            continue
        if head > 0:
            y.narrow(dim, 0, head).copy_(block.narrow(dim, 0, head))
        if tail < got:
            y.narrow(dim, tail, got - tail).copy_(block.narrow(dim, tail - shift, got - tail))
    return y


def two_sides(t: torch.Tensor, dim: int, width: int, start: int) -> torch.Tensor:
    """View of ``t``'s entries ``[0, width)`` and ``[start, start + width)`` along ``dim``
    (2 or 3), stacked on a new axis before ``dim``."""
    size, stride = list(t.shape), list(t.stride())
    size[dim : dim + 1] = [2, width]
    stride[dim : dim + 1] = [start * stride[dim], stride[dim]]
    return t.as_strided(size, stride, t.storage_offset())


def adjoint_axes(ax: Axis, before: int, total: int) -> Axis:
    """Axis of the adjoint: an upfirdn (up <-> down, flipped taps) from the output back to
    input positions [-before, total - before)."""
    p0 = ax.taps - 1 - ax.p0 + ax.up * before
    p1 = (total - 1) * ax.up + ax.taps - ax.out * ax.down - p0
    return Axis(ax.out, ax.down, ax.up, ax.taps, p0, p1)


def adjoint(
    grad: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[Axis, Axis],
    pad_mode: str,
    blocked: bool,
) -> torch.Tensor:
    """Gradient of _forward with respect to x, by the fast path (no full-size padded copy).

    The forward is ``F_zero(E x)``: E extends x by pad_mode, F_zero is the zero-padded
    upfirdn. The adjoint is ``E^T F_zero^T g``: F_zero^T is an upfirdn with up and down
    swapped and the kernel flipped, evaluated on the input rows/cols (fast, one conv) and on
    the few padding rows/cols (small blocks), which E^T then adds onto their sources.
    """
    ah, aw = axes
    if not (grad.is_contiguous() or grad.is_contiguous(memory_format=torch.channels_last)):
        # e.g. the stride-0 gradient of a sum(): convs on it take torch's slow paths
        grad = grad.contiguous()
    flipped = kernel.flip(0, 1)
    inner = (adjoint_axes(ah, 0, ah.n), adjoint_axes(aw, 0, aw.n))
    result = forward(grad, flipped, inner, "zeros", None, blocked)
    if pad_mode == "zeros":
        return result
    if result.requires_grad:  # double backward: keep the interior out of in-place adds
        result = result.clone()
    bh, eh, bw, ew = ah.pad_before(), ah.pad_after(), aw.pad_before(), aw.pad_after()
    if not (bh or eh or bw or ew):
        return result
    th, tw = ah.n + bh + eh, aw.n + bw + ew
    ext = (adjoint_axes(ah, bh, th), adjoint_axes(aw, bw, tw))
    # Top and bottom bands span the full extended width (fold W, then add onto rows); left
    # and right bands the input rows. Both bands of an axis from one small conv where
    # _side_strips applies, else band by band.
    sides = side_strips(
        grad, flipped, ext, "zeros", (bh, bw), (bh + ah.n, bw + aw.n), (th, tw), blocked
    )
    if sides is None:
        rows = [
            (r0, r1, output_block(grad, flipped, ext, (r0, r1), (0, tw), "zeros", blocked))
            for r0, r1 in ((0, bh), (bh + ah.n, th))
            if r1 > r0
        ]
        cols = [
            (c0, output_block(grad, flipped, ext, (bh, bh + ah.n), (c0, c1), "zeros", blocked))
            for c0, c1 in ((0, bw), (bw + aw.n, tw))
            if c1 > c0
        ]
    else:
        rows, cols = [], []
        for dim, block, shift in sides:
            if dim == 2:
                if bh:
                    rows.append((0, bh, block.narrow(2, 0, bh)))
                if eh:
                    rows.append((bh + ah.n, th, block.narrow(2, bh + ah.n - shift, eh)))
            else:
                block = block.narrow(2, bh, ah.n)
                if bw:
                    cols.append((0, block.narrow(3, 0, bw)))
                if ew:
                    cols.append((bw + aw.n, block.narrow(3, bw + aw.n - shift, ew)))
    for r0, _, band in rows:
        shape = (*band.shape[:-1], aw.n)
        folded = fold(band.new_zeros(shape), band, 3, -bw, pad_mode)
        fold(result, folded, 2, r0 - bh, pad_mode)
    for c0, band in cols:
        fold(result, band, 3, c0 - bw, pad_mode)
    return result


class _UpFirDn2d(torch.autograd.Function):
    """upfirdn2d with its adjoint as backward (each the other's backward: any order)."""

    @staticmethod
    def forward(ctx, x, kernel, axes, pad_mode, torch_mode, blocked):  # type: ignore[override]
        ctx.save_for_backward(kernel)
        ctx.args = (axes, pad_mode, torch_mode, blocked)
        return forward(x, kernel, axes, pad_mode, torch_mode, blocked)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (kernel,) = ctx.saved_tensors
        return _Adjoint.apply(grad, kernel, *ctx.args), None, None, None, None, None


class _Adjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, grad, kernel, axes, pad_mode, torch_mode, blocked):  # type: ignore[override]
        ctx.save_for_backward(kernel)
        ctx.args = (axes, pad_mode, torch_mode, blocked)
        return adjoint(grad, kernel, axes, pad_mode, blocked)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (kernel,) = ctx.saved_tensors
        return _UpFirDn2d.apply(grad, kernel, *ctx.args), None, None, None, None, None


def upfirdn2d_fast(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[Axis, Axis],
    pad_mode: str,
    torch_mode: str | None,
    blocked: bool,
) -> torch.Tensor:
    """The fast path with its own adjoint as backward (one conv, no full-size padded copy)."""
    if kernel.requires_grad and torch.is_grad_enabled():
        # Gradients for the taps too: let autograd differentiate the composite.
        return forward(x, kernel, axes, pad_mode, torch_mode, blocked)
    if x.requires_grad and torch.is_grad_enabled():
        return _UpFirDn2d.apply(x, kernel, axes, pad_mode, torch_mode, blocked)
    return forward(x, kernel, axes, pad_mode, torch_mode, blocked)
