"""Initialisers of transposed convolutions and sub-pixel convs: FCN's bilinear, ICNR."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from antialias._checks import check_int

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
    # taps are small computed constants: always on the CPU (a shapes-only build on ``meta``,
    # antialias.checkpoint, must not turn them into storage-less tensors)
    t = torch.arange(kernel, dtype=torch.float64, device="cpu")
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
    kernel = torch.ones((), dtype=torch.float64, device="cpu")
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
