"""Shape arithmetic of (transposed) convolutions, per spatial axis, as PyTorch computes it."""

from __future__ import annotations

from antialias._checks import check_int

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
