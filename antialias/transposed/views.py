"""Three views of ``F.conv_transpose2d`` through ordinary operations: zero insertion, the
conv's matrix transposed, polyphase convs interleaved by pixel shuffle."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from antialias._checks import check_int

from ._common import MAX_MATRIX_ENTRIES, pair, phase_index
from .shapes import conv_transpose_output_size

# ---------------------------------------------------------------------------------------------
# three views of F.conv_transpose2d
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Args:
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    kernel: tuple[int, int]
    size_in: tuple[int, int]
    size_out: tuple[int, int]


def _check_args(
    x: Tensor,
    weight: Tensor,
    stride: int | tuple[int, int],
    padding: int | tuple[int, int],
    output_padding: int | tuple[int, int],
    dilation: int | tuple[int, int],
    groups: int,
) -> _Args:
    for name, t in (("x", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected {name} to be a Tensor, got {type(t).__name__}")
    if x.dim() != 4:
        raise ValueError(f"expected x of shape (N, C_in, H, W), got {tuple(x.shape)}")
    if weight.dim() != 4:
        raise ValueError(
            f"expected weight of shape (C_in, C_out/groups, kH, kW), got {tuple(weight.shape)}"
        )
    check_int("groups", groups, 1)
    if x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(
            f"expected x channels == weight.shape[0] (C_in), divisible by groups={groups}, "
            f"got x {tuple(x.shape)}, weight {tuple(weight.shape)}"
        )
    s = pair("stride", stride, 1)
    p = pair("padding", padding, 0)
    op = pair("output_padding", output_padding, 0)
    d = pair("dilation", dilation, 1)
    k = (int(weight.shape[2]), int(weight.shape[3]))
    size_in = (int(x.shape[2]), int(x.shape[3]))
    size_out = tuple(
        conv_transpose_output_size(size_in[a], k[a], s[a], p[a], op[a], d[a]) for a in (0, 1)
    )
    return _Args(s, p, op, d, groups, k, size_in, size_out)  # type: ignore[arg-type]


def _swap_channels(weight: Tensor, groups: int) -> Tensor:
    """``(C_in, C_out/g, ...)`` transposed-conv layout to ``(C_out, C_in/g, ...)`` conv layout."""
    c_in, c_out_g = weight.shape[:2]
    rest = weight.shape[2:]
    w = weight.reshape(groups, c_in // groups, c_out_g, *rest).transpose(1, 2)
    return w.reshape(groups * c_out_g, c_in // groups, *rest)


@dataclass(frozen=True)
class ZeroInsertionView:
    """The transposed conv as an ordinary stride-1 conv over a zero-stuffed, padded input.

    Attributes:
        stuffed: ``x`` with ``stride - 1`` zeros between samples,
            ``(N, C_in, (H-1) s_h + 1, (W-1) s_w + 1)``.
        padded: ``stuffed`` padded by ``pad`` (``(top, bottom, left, right)``; a negative entry
            crops), i.e. ``d (k-1) - padding`` before and that plus ``output_padding`` after.
        kernel: the weight flipped in both spatial axes with its in/out channel axes swapped
            (per group): ``(C_out, C_in/groups, kH, kW)``, ready for ``F.conv2d``.
        pad: the padding applied to ``stuffed``.
        result: ``F.conv2d(padded, kernel, dilation=dilation, groups=groups)``, equal to
            ``F.conv_transpose2d(x, weight, ...)``.
    """

    stuffed: Tensor
    padded: Tensor
    kernel: Tensor
    pad: tuple[int, int, int, int]
    result: Tensor


def conv_transpose_as_zero_insertion(
    x: Tensor,
    weight: Tensor,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> ZeroInsertionView:
    """Compute ``F.conv_transpose2d`` as zero insertion, padding and a stride-1 conv.

    Args:
        x: input ``(N, C_in, H, W)``.
        weight: transposed-conv weight ``(C_in, C_out/groups, kH, kW)``.
        stride, padding, output_padding, dilation, groups: as in ``F.conv_transpose2d``
            (ints or pairs).

    Returns:
        A :class:`ZeroInsertionView` holding every intermediate tensor and the result.

    Shape:
        - x: ``(N, C_in, H, W)``
        - result: ``(N, C_out, H_out, W_out)`` with ``H_out`` from
          :func:`conv_transpose_output_size`.

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0]]]])
        >>> w = torch.tensor([[[[1.0, 10.0, 100.0]]]])
        >>> v = conv_transpose_as_zero_insertion(x, w, stride=2)
        >>> v.stuffed.tolist(), v.padded.tolist()
        ([[[[1.0, 0.0, 2.0]]]], [[[[0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0]]]])
        >>> v.result.tolist()
        [[[[1.0, 10.0, 102.0, 20.0, 200.0]]]]
    """
    a = _check_args(x, weight, stride, padding, output_padding, dilation, groups)
    (sh, sw), (h, w) = a.stride, a.size_in
    stuffed = x.new_zeros(x.shape[0], x.shape[1], (h - 1) * sh + 1, (w - 1) * sw + 1)
    stuffed[..., ::sh, ::sw] = x
    before = [a.dilation[i] * (a.kernel[i] - 1) - a.padding[i] for i in (0, 1)]
    pad = (before[0], before[0] + a.output_padding[0], before[1], before[1] + a.output_padding[1])
    # F.pad takes (left, right, top, bottom); negative amounts crop, which is what a padding
    # larger than d(k-1) means here
    padded = F.pad(stuffed, (pad[2], pad[3], pad[0], pad[1]))
    kernel = _swap_channels(weight, groups).flip(-2, -1)
    result = F.conv2d(padded, kernel, dilation=a.dilation, groups=groups)
    return ZeroInsertionView(stuffed, padded, kernel, pad, result)


def conv_matrix(
    weight: Tensor,
    input_size: tuple[int, int],
    output_size: tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """The matrix of ``z -> F.conv2d(z, weight, stride, padding, dilation, groups)``.

    Built entry by entry from the index formula (row ``i`` of the conv output reads input row
    ``i stride - padding + dilation a`` through tap ``a``), not from torch's conv. ``weight``
    is read as a conv weight ``(C_out', C_in'/groups, kH, kW)``; for a transposed conv's weight
    ``(C_in, C_out/groups, k, k)`` that is the conv from ``C_out`` to ``C_in`` channels whose
    adjoint the transposed conv is. Conv output rows beyond ``output_size`` are dropped (needed
    when ``output_padding >= stride``, which only ``dilation`` allows).

    Returns:
        ``M`` with ``conv(z).flatten() == M @ z.flatten()`` per sample (channel-major, then
        rows, then columns).

    Shape:
        ``(C_out' * H * W, C_in' * H_in * W_in)`` for ``output_size = (H, W)``,
        ``input_size = (H_in, W_in)``.

    Raises:
        ValueError: a matrix of more than :data:`MAX_MATRIX_ENTRIES` entries (it is dense).
    """
    s = pair("stride", stride, 1)
    p = pair("padding", padding, 0)
    d = pair("dilation", dilation, 1)
    hi, wi = (check_int("input_size", v, 1) for v in input_size)
    ho, wo = (check_int("output_size", v, 1) for v in output_size)
    c_out, c_in_g, kh, kw = weight.shape
    c_in = c_in_g * groups
    entries = c_out * ho * wo * c_in * hi * wi
    if entries > MAX_MATRIX_ENTRIES:
        raise ValueError(
            f"expected a conv matrix of at most {MAX_MATRIX_ENTRIES} entries, got "
            f"{c_out * ho * wo} x {c_in * hi * wi} (input_size={tuple(input_size)}, "
            f"output_size={tuple(output_size)}): a dense matrix is for small examples"
        )
    co, i, j, cl, ta, tb = torch.meshgrid(
        *(torch.arange(n) for n in (c_out, ho, wo, c_in_g, kh, kw)), indexing="ij"
    )
    r = i * s[0] - p[0] + d[0] * ta
    c = j * s[1] - p[1] + d[1] * tb
    valid = (r >= 0) & (r < hi) & (c >= 0) & (c < wi)
    ci = (co // (c_out // groups)) * c_in_g + cl
    rows = ((co * ho + i) * wo + j)[valid]
    cols = ((ci * hi + r) * wi + c)[valid]
    matrix = weight.new_zeros(c_out * ho * wo, c_in * hi * wi)
    matrix.index_put_((rows, cols), weight[co, cl, ta, tb][valid], accumulate=True)
    return matrix


@dataclass(frozen=True)
class MatrixView:
    """The transposed conv as the transpose of a conv's matrix.

    Attributes:
        matrix: ``M`` of the conv ``z (C_out, H_out, W_out) -> (C_in, H, W)`` with the same
            weight, stride, padding, dilation and groups (:func:`conv_matrix`).
        result: ``M^T x`` per sample, reshaped to ``(N, C_out, H_out, W_out)``; equal to
            ``F.conv_transpose2d`` and to the gradient of ``<conv(z), x>`` with respect to ``z``.
    """

    matrix: Tensor
    result: Tensor


def conv_transpose_as_matrix(
    x: Tensor,
    weight: Tensor,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> MatrixView:
    """Compute ``F.conv_transpose2d`` as ``M^T x``, where ``M`` is the matching conv's matrix.

    This is why it is called *transposed*, and why it is the conv's gradient: for
    ``y = M z``, ``dL/dz = M^T dL/dy``. It is not the conv's inverse (``M^T M != I``).

    Args:
        x, weight, stride, padding, output_padding, dilation, groups: as in
            ``F.conv_transpose2d``. Meant for small tensors: ``M`` has
            ``C_in H W x C_out H_out W_out`` entries.

    Returns:
        A :class:`MatrixView`.

    Shape:
        - matrix: ``(C_in * H * W, C_out * H_out * W_out)``
        - result: ``(N, C_out, H_out, W_out)``

    Example:
        >>> v = conv_transpose_as_matrix(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3), stride=2)
        >>> tuple(v.matrix.shape), v.result[0, 0, 2].tolist()
        ((4, 25), [2.0, 2.0, 4.0, 2.0, 2.0])
    """
    a = _check_args(x, weight, stride, padding, output_padding, dilation, groups)
    matrix = conv_matrix(
        weight, a.size_out, a.size_in, a.stride, a.padding, a.dilation, groups=groups
    )
    c_out = weight.shape[1] * groups
    result = (x.reshape(x.shape[0], -1) @ matrix).reshape(x.shape[0], c_out, *a.size_out)
    return MatrixView(matrix, result)


@dataclass(frozen=True)
class PolyphaseView:
    """The transposed conv as ``s_h s_w`` ordinary convs whose outputs are interleaved.

    Output row ``o`` belongs to phase ``(o + padding) mod stride``; each phase is an ordinary
    (stride-1, full) conv of the *low-resolution* input with the taps of that phase, so nothing
    is ever multiplied by an inserted zero.

    Attributes:
        kernels: ``(s_h, s_w, C_out, C_in/groups, Q_h, Q_w)``: phase ``(r_h, r_w)``'s conv
            kernel (conv layout, ready for ``F.conv2d`` with padding ``Q - 1``), where
            ``Q = dilation (k - 1) // stride + 1``. With dilation 1 it is the flipped
            ``weight[..., r_h::s_h, r_w::s_w]``, zero-filled up to ``Q``.
        phases: ``(N, C_out, s_h, s_w, H + Q_h - 1, W + Q_w - 1)``, each phase's output.
        shuffled: the phases interleaved (``F.pixel_shuffle`` when ``s_h == s_w``):
            ``(N, C_out, s_h (H + Q_h - 1), s_w (W + Q_w - 1))``, the uncropped output.
        result: ``shuffled`` (zero-extended for ``output_padding``) cropped from ``padding``:
            equal to ``F.conv_transpose2d``.
    """

    kernels: Tensor
    phases: Tensor
    shuffled: Tensor
    result: Tensor


def conv_transpose_as_polyphase(
    x: Tensor,
    weight: Tensor,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> PolyphaseView:
    """Compute ``F.conv_transpose2d`` as ``stride^2`` ordinary convs plus a pixel shuffle.

    Every argument combination torch accepts is supported (any padding, output padding,
    dilation and groups; tested): padding and output padding only change which rows of the
    interleaved result are kept.

    Args:
        x, weight, stride, padding, output_padding, dilation, groups: as in
            ``F.conv_transpose2d``.

    Returns:
        A :class:`PolyphaseView`.

    Shape:
        - result: ``(N, C_out, H_out, W_out)``

    Example:
        >>> w = torch.arange(1.0, 5.0).reshape(1, 1, 1, 4)  # taps 1 2 3 4, stride 2
        >>> v = conv_transpose_as_polyphase(torch.ones(1, 1, 1, 3), w, stride=(1, 2))
        >>> v.kernels[0, 0, 0, 0].tolist(), v.kernels[0, 1, 0, 0].tolist()  # flipped phases
        ([[3.0, 1.0]], [[4.0, 2.0]])
        >>> v.result.tolist()  # interior alternates 1+3=4 and 2+4=6: the checkerboard
        [[[[1.0, 2.0, 4.0, 6.0, 4.0, 6.0, 3.0, 4.0]]]]
    """
    a = _check_args(x, weight, stride, padding, output_padding, dilation, groups)
    (sh, sw), (h, w) = a.stride, a.size_in
    rh, qh, nqh = phase_index(a.kernel[0], sh, a.dilation[0])
    rw, qw, nqw = phase_index(a.kernel[1], sw, a.dilation[1])
    c_in, c_out_g = weight.shape[:2]
    scatter = weight.new_zeros(sh, sw, c_in, c_out_g, nqh, nqw)
    th, tw = torch.meshgrid(torch.arange(a.kernel[0]), torch.arange(a.kernel[1]), indexing="ij")
    scatter[rh[th], rw[tw], :, :, qh[th], qw[tw]] = weight.permute(2, 3, 0, 1)
    # each phase: u[m] = sum_q K[q] x[m - q], a full convolution = conv2d with flipped taps
    kernels = torch.stack(
        [torch.stack([_swap_channels(scatter[i, j], groups) for j in range(sw)]) for i in range(sh)]
    ).flip(-2, -1)
    c_out = c_out_g * groups
    # one conv with C_out s_h s_w channels ordered (c, r_h, r_w): pixel shuffle's order
    stacked = kernels.permute(2, 0, 1, 3, 4, 5).reshape(c_out * sh * sw, -1, nqh, nqw)
    out = F.conv2d(x, stacked, padding=(nqh - 1, nqw - 1), groups=groups)
    n, hq, wq = x.shape[0], h + nqh - 1, w + nqw - 1
    phases = out.reshape(n, c_out, sh, sw, hq, wq)
    if sh == sw:
        shuffled = F.pixel_shuffle(out, sh)
    else:
        shuffled = phases.permute(0, 1, 4, 2, 5, 3).reshape(n, c_out, sh * hq, sw * wq)
    (ph, pw), (ho, wo) = a.padding, a.size_out
    # rows past the uncropped output (reachable only through output_padding) are zeros
    extra = (max(0, ph + ho - sh * hq), max(0, pw + wo - sw * wq))
    full = F.pad(shuffled, (0, extra[1], 0, extra[0]))
    result = full[..., ph : ph + ho, pw : pw + wo]
    return PolyphaseView(kernels, phases, shuffled, result)
