"""Transposed convolution: shape arithmetic, three equivalent views, and two initialisers.

What lives here:

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

import torch
from torch import Tensor, nn

__all__ = [
    "bilinear_kernel_size",
    "bilinear_taps",
    "conv_output_size",
    "conv_transpose_output_size",
    "init_bilinear_",
    "init_icnr_",
    "transpose_padding_for",
]


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------


def _check_int(name: str, value: object, minimum: int) -> int:
    # bool is an int subclass; a True kernel size is always a caller's mistake
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}")
    return value


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
    _check_int("size", size, 1)
    _check_int("kernel", kernel, 1)
    _check_int("stride", stride, 1)
    _check_int("padding", padding, 0)
    _check_int("dilation", dilation, 1)
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
    _check_int("size", size, 1)
    _check_int("kernel", kernel, 1)
    _check_int("stride", stride, 1)
    _check_int("padding", padding, 0)
    _check_int("output_padding", output_padding, 0)
    _check_int("dilation", dilation, 1)
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
    _check_int("size_in", size_in, 1)
    _check_int("size_out", size_out, 1)
    _check_int("kernel", kernel, 1)
    _check_int("stride", stride, 1)
    _check_int("dilation", dilation, 1)
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
    _check_int("up", up, 1)
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
    _check_int("kernel", kernel, 1)
    _check_int("up", up, 1)
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
    _check_int("up", up, 1)
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
) -> Tensor:
    """ICNR initialisation (Aitken et al. 2017) of a conv that feeds ``PixelShuffle(up)``, in place.

    ``PixelShuffle(up)`` sends channel ``c up^2 + r`` to output channel ``c``, sub-pixel phase
    ``r``. ICNR draws one sub-kernel ``W0`` of shape ``(C_out, C_in, *kernel)`` with
    ``initializer`` and copies it to all ``up^2`` phases (``W = W0.repeat_interleave(up^2, 0)``).
    What is then equal, exactly, borders included (tested)::

        PixelShuffle(up)(conv(x, W, padding=p))
          == nearest_up(conv(x, W0, padding=p))                    # conv at low res, then nearest
          == conv(nearest_up(x), W0, padding=up*p, dilation=up)    # nearest, then dilated conv

    It is *not* nearest followed by an ordinary (undilated) conv with ``W0``; the first layer
    after up-sampling is free to learn that. The point of ICNR: every phase starts equal, so the
    sub-pixel conv starts free of checkerboard, yet it can still learn distinct phases.

    Args:
        weight: conv weight ``(C_out * up^2, C_in, *kernel)``.
        up: pixel-shuffle factor, >= 1.
        initializer: in-place initialiser applied to the sub-kernel (default Kaiming normal).
        bias: optional conv bias ``(C_out * up^2,)``; each group of ``up^2`` copies is set to
            the value of its first entry, so the bias too is phase-independent.

    Returns:
        ``weight``, filled.

    Raises:
        ValueError: ``weight.shape[0]`` not divisible by ``up^2``.

    Example:
        >>> w = init_icnr_(torch.empty(8, 3, 3, 3), up=2)
        >>> bool((w[0] == w[3]).all()), bool((w[3] == w[4]).all())
        (True, False)
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"expected weight to be a Tensor, got {type(weight).__name__}")
    _check_int("up", up, 1)
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
