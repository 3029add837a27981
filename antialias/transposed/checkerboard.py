"""Fixed up-samplers as transposed convs, resize-conv as one transposed conv, and whether a
transposed kernel checkerboards on flat input (phase gains, response at the DC images)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from antialias._checks import check_int

from ._common import MAX_MATRIX_ENTRIES, pair, phase_index
from .views import conv_transpose_as_zero_insertion

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
    sh, sw = pair("size", size, 1)
    kh, kw = pair("kernel", kernel, 1)
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
    sh, sw = pair("stride", stride, 1)
    dh, dw = pair("dilation", dilation, 1)
    rh, _, _ = phase_index(weight.shape[2], sh, dh)
    rw, _, _ = phase_index(weight.shape[3], sw, dw)
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
