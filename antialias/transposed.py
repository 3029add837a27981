"""Transposed convolution: shape arithmetic, three equivalent views, and two initialisers.

What lives here:

- three views of ``F.conv_transpose2d`` that compute the same tensor through ordinary
  operations, each returning its intermediate tensors: :func:`conv_transpose_as_zero_insertion`
  (zero-stuff, pad, stride-1 conv with the flipped, channel-swapped kernel),
  :func:`conv_transpose_as_matrix` (the transpose of the conv's matrix, i.e. its gradient) and
  :func:`conv_transpose_as_polyphase` (``stride^2`` ordinary convs interleaved by pixel shuffle);
- fixed up-samplers as transposed convs (:func:`nearest_weight`) and the composition of a
  transposed conv with a following stride-1 conv (:func:`compose_with_conv`): a resize-conv is
  one transposed conv whose kernel is ``box * kernel``; :func:`phase_gains` and
  :func:`dc_image_response` say whether a transposed kernel can checkerboard on flat input;
- shape arithmetic: :func:`conv_output_size`, :func:`conv_transpose_output_size` and the
  inverse :func:`transpose_padding_for` (which ``padding`` / ``output_padding`` give a wanted
  output size, or a ``ValueError`` saying why none does);
- initialisers: :func:`init_bilinear_` (FCN, Long et al. 2015) for a ``ConvTranspose2d``
  weight and :func:`init_icnr_` (Aitken et al. 2017) for a conv feeding ``PixelShuffle``.

What does not: frequency responses of kernels (``antialias.spectral``), the up-sampling layers
themselves (``antialias.layers``).

All sizes are per spatial axis and follow PyTorch's conventions exactly (tested against torch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from antialias._checks import check_int

__all__ = [
    "MAX_MATRIX_ENTRIES",
    "MatrixView",
    "PolyphaseView",
    "ZeroInsertionView",
    "bilinear_kernel_size",
    "bilinear_taps",
    "compose_with_conv",
    "conv_matrix",
    "conv_transpose_as_matrix",
    "conv_transpose_as_polyphase",
    "conv_transpose_as_zero_insertion",
    "dc_image_response",
    "nearest_weight",
    "overlap_counts",
    "phase_gains",
    "conv_output_size",
    "conv_transpose_output_size",
    "init_bilinear_",
    "init_icnr_",
    "transpose_padding_for",
]


#: The most entries of a dense matrix (or pixels of a counting map) built here from size
#: arguments: 2**25 float64 values are 256 MiB; these views are for small examples.
MAX_MATRIX_ENTRIES = 2**25


# ---------------------------------------------------------------------------------------------
# shape arithmetic
# ---------------------------------------------------------------------------------------------


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of ``nn.Conv2d`` along one axis.

    ``o = floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1``.

    Args:
        size: input length in pixels, >= 1.
        kernel: kernel length in taps, >= 1.
        stride: step between output samples, in input pixels, >= 1.
        padding: zeros added on *each* side, >= 0.
        dilation: spacing of the kernel taps, >= 1.

    Returns:
        The output length, >= 1.

    Raises:
        ValueError: a negative or zero size, or a dilated kernel longer than the padded input
            (torch refuses it too).

    Example:
        >>> conv_output_size(5, kernel=3, stride=2, padding=1)
        3
    """
    check_int("size", size, 1)
    check_int("kernel", kernel, 1)
    check_int("stride", stride, 1)
    check_int("padding", padding, 0)
    check_int("dilation", dilation, 1)
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(
            f"expected a padded input (size + 2*padding = {size + 2 * padding}) at least as long "
            f"as the dilated kernel (dilation*(kernel-1)+1 = {span}), got size={size}"
        )
    return (size + 2 * padding - span) // stride + 1


def conv_transpose_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of ``nn.ConvTranspose2d`` along one axis.

    ``o = (size - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1``.

    ``padding`` here *removes* rows: the transposed conv is the adjoint of a conv that padded
    its input by ``padding``, so the matching rows are cropped from the full output.
    ``output_padding`` adds rows on the bottom/right only (it resolves the ambiguity that
    ``stride`` input sizes map to the same conv output size), so it must be smaller than
    ``stride`` or ``dilation``, as torch requires.

    Args:
        size: input length in pixels, >= 1.
        kernel: kernel length in taps, >= 1.
        stride: up-sampling factor, >= 1.
        padding: rows cropped from *each* side of the full output, >= 0.
        output_padding: rows added at the end, ``0 <= output_padding < max(stride, dilation)``.
        dilation: spacing of the kernel taps, >= 1.

    Returns:
        The output length, >= 1.

    Raises:
        ValueError: bad ranges, or a padding that would leave no output.

    Example:
        >>> conv_transpose_output_size(4, kernel=3, stride=2, padding=1, output_padding=1)
        8
    """
    check_int("size", size, 1)
    check_int("kernel", kernel, 1)
    check_int("stride", stride, 1)
    check_int("padding", padding, 0)
    check_int("output_padding", output_padding, 0)
    check_int("dilation", dilation, 1)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            "expected output_padding smaller than stride or dilation "
            f"(< max({stride}, {dilation}) = {max(stride, dilation)}), got {output_padding}"
        )
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"expected padding small enough to leave an output, got padding={padding}, which "
            f"crops the full output of {out + 2 * padding} rows to {out}"
        )
    return out


def transpose_padding_for(
    size_in: int, size_out: int, kernel: int, stride: int, dilation: int = 1
) -> tuple[int, int]:
    """Solve ``conv_transpose_output_size(size_in, ...) == size_out`` for the paddings.

    The full (uncropped) output has ``base = (size_in - 1) stride + dilation (kernel - 1) + 1``
    rows; ``padding`` crops ``2 padding`` of them and ``output_padding`` adds back up to
    ``max(stride, dilation) - 1``. The smallest ``padding`` that works is returned, with the
    matching ``output_padding``.

    Args:
        size_in: input length, >= 1.
        size_out: wanted output length, >= 1 (for "exactly double": ``2 * size_in``).
        kernel: kernel length, >= 1.
        stride: up-sampling factor, >= 1.
        dilation: spacing of the kernel taps, >= 1.

    Returns:
        ``(padding, output_padding)``.

    Raises:
        ValueError: when no pair does: ``size_out`` above ``base + max(stride, dilation) - 1``,
            or (stride = dilation = 1 only) of the wrong parity; the message says which.

    Example:
        >>> transpose_padding_for(16, 32, kernel=3, stride=2)  # exactly double
        (1, 1)
        >>> transpose_padding_for(16, 32, kernel=4, stride=2)
        (1, 0)
    """
    check_int("size_in", size_in, 1)
    check_int("size_out", size_out, 1)
    check_int("kernel", kernel, 1)
    check_int("stride", stride, 1)
    check_int("dilation", dilation, 1)
    base = (size_in - 1) * stride + dilation * (kernel - 1) + 1
    max_op = max(stride, dilation) - 1
    # size_out = base - 2p + op  <=>  2p - op = base - size_out
    excess = base - size_out
    padding = max(0, -(-excess // 2))  # smallest p >= 0 with 2p >= excess
    output_padding = 2 * padding - excess
    if output_padding > max_op and size_out < base:
        # only possible when stride == dilation == 1: no output_padding, so padding can only
        # remove rows two at a time
        raise ValueError(
            f"expected size_out with the parity of the full output {base} (stride and dilation "
            f"1 allow no output_padding; padding crops 2 rows at a time), got size_out={size_out}"
        )
    if output_padding > max_op:
        raise ValueError(
            f"expected size_out <= {base + max_op} for size_in={size_in}, kernel={kernel}, "
            f"stride={stride}, dilation={dilation} (full output {base} rows at padding 0, plus "
            f"output_padding < max(stride, dilation) = {max_op + 1}), got size_out={size_out}"
        )
    return padding, output_padding


# ---------------------------------------------------------------------------------------------
# initialisers
# ---------------------------------------------------------------------------------------------


def bilinear_kernel_size(up: int) -> int:
    """Kernel length for which :func:`init_bilinear_` reproduces bilinear interpolation.

    ``k = 2 up - up % 2`` (FCN's choice), used with ``stride=up`` and
    ``padding = (k - up) // 2``; then ``conv_transpose_output_size(n, k, up, padding) == up n``.

    Example:
        >>> [bilinear_kernel_size(up) for up in (2, 3, 4)]
        [4, 5, 8]
    """
    check_int("up", up, 1)
    return 2 * up - up % 2


def bilinear_taps(kernel: int, up: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """1-D triangle taps of a bilinear up-sampler by ``up``, centred in ``kernel`` taps.

    ``h[t] = max(0, 1 - |t - (kernel - 1)/2| / up)``; DC gain ``up`` (taps sum to ``up``) when
    ``kernel == bilinear_kernel_size(up)``, so a constant input stays constant.

    Shape:
        Output: ``(kernel,)``.

    Example:
        >>> bilinear_taps(4, 2).tolist()
        [0.25, 0.75, 0.75, 0.25]
    """
    check_int("kernel", kernel, 1)
    check_int("up", up, 1)
    t = torch.arange(kernel, dtype=torch.float64)
    taps = (1.0 - (t - (kernel - 1) / 2).abs() / up).clamp_min(0.0)
    return taps.to(dtype)


@torch.no_grad()
def init_bilinear_(weight: Tensor, up: int | None = None) -> Tensor:
    """Fill a transposed-conv weight with FCN's bilinear kernel, in place.

    The separable triangle (:func:`bilinear_taps`, outer product over the spatial axes) goes on
    the channel diagonal ``weight[c, c]`` and zeros elsewhere, so each channel is up-sampled on
    its own; for a depthwise weight ``(C, 1, k, k)`` (``groups=C``) every ``weight[c, 0]`` gets it.

    What it starts as: with ``kernel = 2 up - up % 2`` (:func:`bilinear_kernel_size`),
    ``stride = up`` and ``padding = (kernel - up) // 2``, the transposed conv equals
    ``F.interpolate(x, scale_factor=up, mode="bilinear", align_corners=False)`` exactly except
    in the outer ``up // 2`` output pixels of each border, where interpolation replicates the
    edge sample and the transposed conv sees zeros. (The output pixel ``j`` samples the input at
    ``(j + 0.5) / up - 0.5``; the taps at offset ``j + padding - up i`` are the linear weights.)

    Args:
        weight: ``ConvTranspose{1,2,3}d`` weight ``(C_in, C_out_per_group, *kernel)``.
        up: up-sampling factor (slope of the triangle). ``None``: ``(k + 1) // 2`` from the
            first kernel axis, the inverse of :func:`bilinear_kernel_size`.

    Returns:
        ``weight``, filled.

    Raises:
        ValueError: neither ``C_in == C_out`` nor depthwise, or fewer than 3 dims.

    Example:
        >>> w = torch.empty(2, 2, 4, 4)
        >>> init_bilinear_(w)[0, 0, 1].tolist()
        [0.1875, 0.5625, 0.5625, 0.1875]
        >>> float(w[0, 1].abs().sum())
        0.0
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"expected weight to be a Tensor, got {type(weight).__name__}")
    if weight.dim() < 3:
        raise ValueError(
            f"expected a weight (C_in, C_out, *kernel) with >= 3 dims, got {tuple(weight.shape)}"
        )
    c_in, c_out = weight.shape[:2]
    if c_in != c_out and c_out != 1:
        raise ValueError(
            "expected a square channel block (C_in == C_out) or a depthwise weight (C_out == 1) "
            f"for a per-channel interpolation, got C_in={c_in}, C_out={c_out}"
        )
    spatial = tuple(weight.shape[2:])
    if up is None:
        up = (spatial[0] + 1) // 2
    check_int("up", up, 1)
    kernel = torch.ones((), dtype=torch.float64)
    for k in spatial:
        kernel = kernel[..., None] * bilinear_taps(k, up)
    kernel = kernel.to(dtype=weight.dtype, device=weight.device)
    weight.zero_()
    if c_out == 1:
        weight.copy_(kernel.expand_as(weight))
    else:
        idx = torch.arange(c_in, device=weight.device)
        weight[idx, idx] = kernel
    return weight


@torch.no_grad()
def init_icnr_(
    weight: Tensor,
    up: int,
    initializer: Callable[[Tensor], object] = nn.init.kaiming_normal_,
    *,
    bias: Tensor | None = None,
    transposed: bool = False,
) -> Tensor:
    """ICNR initialisation (Aitken et al. 2017), in place: every sub-pixel phase starts equal.

    ``transposed=False`` (default): ``weight`` is a conv that feeds ``PixelShuffle(up)``.
    ``PixelShuffle(up)`` sends channel ``c up^2 + r`` to output channel ``c``, sub-pixel phase
    ``r``. ICNR draws one sub-kernel ``W0`` of shape ``(C_out, C_in, *kernel)`` with
    ``initializer`` and copies it to all ``up^2`` phases (``W = W0.repeat_interleave(up^2, 0)``).
    What is then equal, exactly, borders included (tested)::

        PixelShuffle(up)(conv(x, W, padding=p))
          == nearest_up(conv(x, W0, padding=p))                    # conv at low res, then nearest
          == conv(nearest_up(x), W0, padding=up*p, dilation=up)    # nearest, then dilated conv

    It is *not* nearest followed by an ordinary (undilated) conv with ``W0``; the first layer
    after up-sampling is free to learn that.

    ``transposed=True``: ``weight`` is a 2-D transposed conv's ``(C_in, C_out, kh, kw)`` with
    stride ``up``. Nearest (zeros + ``box(up)``) followed by a conv with a drawn ``W0`` of
    shape ``(C_out, C_in, kh - up + 1, kw - up + 1)`` (in float64) is one transposed conv whose
    kernel is the full convolution ``box(up) * W0``, divided by ``up`` here; every polyphase
    component then sums to the same value (no checkerboard on flat input at init). Needs
    ``kh, kw >= up``; ``bias`` is not used.

    The point of ICNR either way: the sub-pixel conv starts free of checkerboard, yet it can
    still learn distinct phases.

    Args:
        weight: conv weight ``(C_out * up^2, C_in, *kernel)``, or with ``transposed=True`` a
            transposed-conv weight ``(C_in, C_out, kh, kw)``.
        up: pixel-shuffle factor / stride, >= 1.
        initializer: in-place initialiser applied to the sub-kernel (default Kaiming normal).
        bias: optional conv bias ``(C_out * up^2,)``; each group of ``up^2`` copies is set to
            the value of its first entry, so the bias too is phase-independent.
        transposed: initialise a transposed conv (see above) instead.

    Returns:
        ``weight``, filled.

    Raises:
        ValueError: ``weight.shape[0]`` not divisible by ``up^2``; with ``transposed=True`` a
            kernel smaller than ``up`` or a weight that is not 4-D.

    Example:
        >>> w = init_icnr_(torch.empty(8, 3, 3, 3), up=2)
        >>> bool((w[0] == w[3]).all()), bool((w[3] == w[4]).all())
        (True, False)
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"expected weight to be a Tensor, got {type(weight).__name__}")
    check_int("up", up, 1)
    if transposed:
        return _icnr_transposed_(weight, up, initializer)
    if weight.dim() < 3:
        raise ValueError(
            f"expected a weight (C_out*up^2, C_in, *kernel) with >= 3 dims, got "
            f"{tuple(weight.shape)}"
        )
    phases = up ** (weight.dim() - 2)
    if weight.shape[0] % phases:
        raise ValueError(
            f"expected weight.shape[0] divisible by up^{weight.dim() - 2} = {phases}, "
            f"got {weight.shape[0]}"
        )
    sub = torch.empty(
        (weight.shape[0] // phases, *weight.shape[1:]), dtype=weight.dtype, device=weight.device
    )
    initializer(sub)
    weight.copy_(sub.repeat_interleave(phases, dim=0))
    if bias is not None:
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"expected bias of shape ({weight.shape[0]},), got {tuple(bias.shape)}"
            )
        bias.copy_(bias[::phases].repeat_interleave(phases))
    return weight


def _icnr_transposed_(weight: Tensor, up: int, initializer: Callable[[Tensor], object]) -> Tensor:
    # nearest (zeros + box(up)) followed by a conv w0 == a transposed conv whose kernel is the
    # full convolution box(up) * w0; every polyphase component then sums to the same value.
    if weight.dim() != 4:
        raise ValueError(
            f"expected a transposed-conv weight (C_in, C_out, kh, kw), got {tuple(weight.shape)}"
        )
    c_in, c_out, kh, kw = weight.shape
    if kh < up or kw < up:
        raise ValueError(
            f"expected kernel_size >= up for icnr init of a transposed conv, got {kh}x{kw}, up={up}"
        )
    w0 = torch.empty(c_out, c_in, kh - up + 1, kw - up + 1, dtype=torch.float64)
    initializer(w0)
    box = torch.ones(1, 1, up, up, dtype=torch.float64)
    # full 2-D convolution of each (out, in) sub-kernel with the box
    full = F.conv2d(
        F.pad(w0.reshape(-1, 1, *w0.shape[2:]), (up - 1, up - 1, up - 1, up - 1)), box
    ).reshape(c_out, c_in, kh, kw)
    weight.copy_(full.transpose(0, 1) / up)
    return weight


# ---------------------------------------------------------------------------------------------
# three views of F.conv_transpose2d
# ---------------------------------------------------------------------------------------------


def _pair(name: str, value: int | tuple[int, int], minimum: int) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"expected {name} to be an int or a pair, got {value!r}")
        return (check_int(name, value[0], minimum), check_int(name, value[1], minimum))
    v = check_int(name, value, minimum)
    return (v, v)


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
    s = _pair("stride", stride, 1)
    p = _pair("padding", padding, 0)
    op = _pair("output_padding", output_padding, 0)
    d = _pair("dilation", dilation, 1)
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
    s = _pair("stride", stride, 1)
    p = _pair("padding", padding, 0)
    d = _pair("dilation", dilation, 1)
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


def _phase_index(kernel: int, stride: int, dilation: int) -> tuple[Tensor, Tensor, int]:
    # tap t lands at full-output offset d t = s q + r: phase r, low-resolution shift q
    offset = dilation * torch.arange(kernel)
    return offset % stride, offset // stride, dilation * (kernel - 1) // stride + 1


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
    rh, qh, nqh = _phase_index(a.kernel[0], sh, a.dilation[0])
    rw, qw, nqw = _phase_index(a.kernel[1], sw, a.dilation[1])
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


# ---------------------------------------------------------------------------------------------
# fixed up-samplers, resize-conv and checkerboards
# ---------------------------------------------------------------------------------------------


def nearest_weight(
    up: int,
    channels: int,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Tensor:
    """Transposed-conv weight that *is* nearest-neighbour up-sampling by ``up``.

    With ``stride=up, padding=0`` it equals ``F.interpolate(x, scale_factor=up)`` exactly,
    borders included: every input pixel stamps an ``up x up`` block of ones (DC gain ``up``
    per axis).

    Shape:
        Output: ``(channels, channels, up, up)``, ones on the channel diagonal.

    Example:
        >>> nearest_weight(2, 1)[0, 0].tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    check_int("up", up, 1)
    check_int("channels", channels, 1)
    w = torch.zeros(channels, channels, up, up, dtype=dtype, device=device)
    idx = torch.arange(channels, device=device)
    w[idx, idx] = 1.0
    return w


def compose_with_conv(
    t_weight: Tensor, t_padding: int, conv_weight: Tensor, conv_padding: int
) -> tuple[Tensor, int]:
    """One transposed conv equal to a transposed conv followed by a stride-1 conv.

    ``conv2d(conv_transpose2d(x, t_weight, stride=s, padding=P), conv_weight, padding=p)`` equals
    ``conv_transpose2d(x, G, stride=s, padding=P + k - 1 - p)`` with
    ``G[i, o] = sum_m t_weight[i, m] (*) flip(conv_weight[o, m])`` (full 2-D convolution), for
    any stride and output padding. Exact everywhere when ``P == 0`` (nearest, or a 2x2 stride-2
    transposed conv). When ``P > 0`` the conv pads the cropped intermediate with zeros where
    the single transposed conv still sees the ``P`` cropped rows, so the two differ in the outer
    ``p`` output pixels of each border and agree everywhere else (tested).

    With ``t_weight = nearest_weight(s, C)`` this is the *resize-conv*: its kernel is
    ``box_s (*) flip(K)``, and the box's zeros at the images of DC survive the convolution.

    Args:
        t_weight: transposed-conv weight ``(C_in, C_mid, k1, k1)`` (groups 1).
        t_padding: its padding ``P``.
        conv_weight: conv weight ``(C_out, C_mid, k, k)`` (stride 1, dilation 1, groups 1).
        conv_padding: the conv's padding ``p``, at most ``P + k - 1``.

    Returns:
        ``(G, padding)`` with ``G`` of shape ``(C_in, C_out, k1 + k - 1, k1 + k - 1)``.
    """
    if t_weight.dim() != 4 or conv_weight.dim() != 4 or t_weight.shape[1] != conv_weight.shape[1]:
        raise ValueError(
            "expected t_weight (C_in, C_mid, k1, k1) and conv_weight (C_out, C_mid, k, k) "
            f"sharing C_mid, got {tuple(t_weight.shape)} and {tuple(conv_weight.shape)}"
        )
    check_int("t_padding", t_padding, 0)
    check_int("conv_padding", conv_padding, 0)
    k = conv_weight.shape[-1]
    padding = t_padding + k - 1 - conv_padding
    if padding < 0:
        raise ValueError(
            f"expected conv_padding <= t_padding + kernel - 1 = {t_padding + k - 1}, "
            f"got {conv_padding}"
        )
    # full convolution of each t_weight[i, m] with flip(conv_weight[o, m]), summed over m:
    # a stride-1 transposed conv with batch = C_in does exactly that
    g = F.conv_transpose2d(t_weight, conv_weight.transpose(0, 1).flip(-2, -1))
    return g, padding


def overlap_counts(
    size: int | tuple[int, int],
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """How many input pixels each output pixel of a transposed conv receives a tap from.

    The transposed conv of an all-ones input with an all-ones kernel. Uneven counts (kernel 3 at
    stride 2: 1, 2, 4 in 2-D) mean the output phases sum different numbers of taps: unless the
    learned taps compensate, a flat input gives a checkerboard.

    Shape:
        Output: ``(H_out, W_out)``, ``torch.long``.

    Example:
        >>> overlap_counts(3, 3, stride=2, padding=1)[1].tolist()
        [2, 4, 2, 4, 2]
    """
    sh, sw = _pair("size", size, 1)
    kh, kw = _pair("kernel", kernel, 1)
    if sh * sw > MAX_MATRIX_ENTRIES:
        raise ValueError(f"expected size with at most {MAX_MATRIX_ENTRIES} pixels, got {sh}x{sw}")
    ones = torch.ones(1, 1, sh, sw, dtype=torch.float64)
    view = conv_transpose_as_zero_insertion(
        ones,
        torch.ones(1, 1, kh, kw, dtype=torch.float64),
        stride,
        padding,
        output_padding,
        dilation,
    )
    return view.result[0, 0].round().long()


def phase_gains(
    weight: Tensor, stride: int | tuple[int, int], dilation: int | tuple[int, int] = 1
) -> Tensor:
    """Sum of the taps of each output phase of a transposed-conv weight.

    On a constant input ``c`` (per input channel), away from the borders, output phase
    ``(r_h, r_w)`` (row ``o`` has phase ``(o + padding) mod stride``) of output channel ``o``
    equals ``sum_i c_i gains[r_h, r_w, i, o]``. All phases equal: no checkerboard on flat input.

    Shape:
        - weight: ``(C_in, C_out/groups, kH, kW)``
        - output: ``(s_h, s_w, C_in, C_out/groups)``

    Example:
        >>> phase_gains(torch.ones(1, 1, 3, 3), 2)[..., 0, 0].tolist()
        [[4.0, 2.0], [2.0, 1.0]]
    """
    if not isinstance(weight, Tensor) or weight.dim() != 4:
        raise ValueError(f"expected a weight (C_in, C_out, kH, kW), got {weight!r:.60}")
    sh, sw = _pair("stride", stride, 1)
    dh, dw = _pair("dilation", dilation, 1)
    rh, _, _ = _phase_index(weight.shape[2], sh, dh)
    rw, _, _ = _phase_index(weight.shape[3], sw, dw)
    gains = weight.new_zeros(sh, sw, *weight.shape[:2])
    for i in range(sh):
        for j in range(sw):
            gains[i, j] = weight[:, :, rh == i][:, :, :, rw == j].sum(dim=(-2, -1))
    return gains


def dc_image_response(
    weight: Tensor, stride: int | tuple[int, int], dilation: int | tuple[int, int] = 1
) -> Tensor:
    """Frequency response of a transposed-conv kernel at DC and at the images of DC.

    Zero insertion by ``s`` copies the input spectrum to the frequencies ``(a/s_h, b/s_w)``
    cycles/pixel (output rate, Nyquist 0.5), ``a < s_h``, ``b < s_w``; a constant input (all at
    DC) therefore reaches the output at ``(0, 0)`` with gain ``H(0, 0)`` and at every image
    ``(a/s_h, b/s_w) != (0, 0)`` with gain ``H(a/s_h, b/s_w)``. Nonzero image gain = a periodic
    pattern of period ``s`` on flat input: the checkerboard. ``H(f) = sum_t w[t]
    exp(-2 pi i f d t)``, evaluated as the DFT of :func:`phase_gains` over the phases.

    Shape:
        Output: complex ``(s_h, s_w, C_in, C_out/groups)``; ``[a, b]`` is frequency
        ``(a/s_h, b/s_w)``.

    Example:
        >>> nearest = dc_image_response(torch.ones(1, 1, 2, 2), 2)[..., 0, 0].abs()
        >>> nearest.tolist()  # DC gain 4 = 2 per axis, zeros at the three DC images
        [[4.0, 0.0], [0.0, 0.0]]
    """
    gains = phase_gains(weight, stride, dilation)
    return torch.fft.fft2(gains, dim=(0, 1))
