"""The layer a U-Net actually uses, and the initialisation facts the tutorial states.

Computed here (float64, fixed seeds, no I/O):

- :func:`hand_example`: ``ConvTranspose2d(2, 1, 2, stride=2)`` after a 2-channel bottleneck,
  the skip concatenation and the two 3x3 convs, in small integers (checkable by hand), and the
  same up-conv as a 1x1 conv to ``4 * C/2`` channels plus ``PixelShuffle(2)``;
- :func:`pixel_shuffle_check`: that equivalence at the real size (``C = 512``), random weights;
- :func:`default_init`: what ``nn.ConvTranspose2d.reset_parameters`` draws, reproduced from the
  formula (fan-in from the weight's *second* axis), and the output scale it gives;
- :func:`bilinear_halving`: FCN's bilinear init for ``C_in = 2 C_out`` (the U-Net up-conv);
- :func:`icnr_unet`: ICNR for the 1x1 + pixel-shuffle form (it starts as nearest + 1x1 conv);
- :func:`checkerboard_baseline`: the checkerboard index that independent random phase gains
  give (what default init is compared with);

What does not live here: the general case and the page (:mod:`analysis.tutorial.compute`,
:mod:`analysis.tutorial.page`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from antialias import transposed as T

__all__ = [
    "bilinear_halving",
    "checkerboard_baseline",
    "default_init",
    "hand_example",
    "icnr_unet",
    "phase_spread_of_means",
    "pixel_shuffle_check",
    "tconv_as_1x1_weight",
    "unet_layer",
]


def tconv_as_1x1_weight(weight: Tensor) -> Tensor:
    """A ``k = s`` transposed-conv weight as the 1x1 conv feeding ``PixelShuffle(s)``.

    ``W1[c * s^2 + a * s + b, i] = W[i, c, a, b]``: pixel shuffle's channel order
    ``(c, a, b)``.

    Shape:
        - weight: ``(C_in, C_out, s, s)``; output: ``(C_out s^2, C_in, 1, 1)``
    """
    c_in, c_out, s, s2 = weight.shape
    if s != s2:
        raise ValueError(f"expected a square kernel, got {tuple(weight.shape)}")
    return weight.permute(1, 2, 3, 0).reshape(c_out * s * s, c_in, 1, 1)


def _ints(shape: tuple[int, ...], gen: torch.Generator, low: int = -2, high: int = 4) -> Tensor:
    return torch.randint(low, high, shape, generator=gen).to(torch.float64)


def hand_example(seed: int = 1) -> dict:
    """One decoder step with ``C = 2``: every tensor in small integers.

    bottleneck ``x (1, 2, 2, 2)`` -> ``ConvTranspose2d(2, 1, 2, stride=2)`` ``(1, 1, 4, 4)`` ->
    concatenate the skip ``(1, 1, 4, 4)`` -> ``(1, 2, 4, 4)`` -> ``Conv2d(2, 1, 3, padding=1)``
    + ReLU -> ``Conv2d(1, 1, 3, padding=1)`` + ReLU ``(1, 1, 4, 4)``. Biases are 0 so the sums
    can be checked by hand.
    """
    gen = torch.Generator().manual_seed(seed)
    x = _ints((1, 2, 2, 2), gen, 0, 4)
    w = _ints((2, 1, 2, 2), gen, -1, 3)
    skip = _ints((1, 1, 4, 4), gen, 0, 3)
    k1 = _ints((1, 2, 3, 3), gen, -1, 2)
    k2 = _ints((1, 1, 3, 3), gen, 0, 2)
    up = F.conv_transpose2d(x, w, stride=2)
    # by hand: output block (i, j) is sum_c x[c, i, j] * w[c, 0]
    by_hand = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    for i in range(2):
        for j in range(2):
            by_hand[0, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2] = sum(
                x[0, c, i, j] * w[c, 0] for c in range(2)
            )
    shuffled = F.pixel_shuffle(F.conv2d(x, tconv_as_1x1_weight(w)), 2)
    cat = torch.cat([skip, up], dim=1)
    h1 = F.relu(F.conv2d(cat, k1, padding=1))
    h2 = F.relu(F.conv2d(h1, k2, padding=1))
    return {
        "x": x,
        "weight": w,
        "up": up,
        "by_hand_error": float((by_hand - up).abs().max()),
        "weight_1x1": tconv_as_1x1_weight(w),
        "shuffle_error": float((shuffled - up).abs().max()),
        "skip": skip,
        "cat": cat,
        "k1": k1,
        "h1": h1,
        "k2": k2,
        "h2": h2,
        "h1_00_terms": [
            [int(cat[0, c, a, b]), int(k1[0, c, a + 1, b + 1])]
            for c in range(2)
            for a in range(2)
            for b in range(2)
        ],
    }


def unet_layer(c: int = 512, size: int = 32) -> dict:
    """Shapes and parameter counts of the up-step after a ``(1, C, size, size)`` bottleneck."""
    up = nn.ConvTranspose2d(c, c // 2, 2, stride=2)
    conv1 = nn.Conv2d(c, c // 2, 3, padding=1)
    conv2 = nn.Conv2d(c // 2, c // 2, 3, padding=1)
    count = {
        name: sum(p.numel() for p in m.parameters())
        for name, m in (("up", up), ("conv1", conv1), ("conv2", conv2))
    }
    return {
        "c": c,
        "size": size,
        "params": count,
        "formula": {
            "up": c * (c // 2) * 2 * 2 + c // 2,
            "conv1": (c // 2) * c * 9 + c // 2,
            "conv2": (c // 2) * (c // 2) * 9 + c // 2,
        },
        "weight_shape": list(up.weight.shape),
        "weight_1x1_shape": [4 * (c // 2), c, 1, 1],
    }


def pixel_shuffle_check(c: int = 512, size: int = 8, seed: int = 0) -> dict:
    """``ConvTranspose2d(C, C/2, 2, 2)`` against ``PixelShuffle(2)(Conv2d(C, 4 C/2, 1))``."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, c, size, size, generator=gen, dtype=torch.float64)
    w = torch.randn(c, c // 2, 2, 2, generator=gen, dtype=torch.float64)
    bias = torch.randn(c // 2, generator=gen, dtype=torch.float64)
    ref = F.conv_transpose2d(x, w, bias, stride=2)
    alt = F.pixel_shuffle(F.conv2d(x, tconv_as_1x1_weight(w), bias.repeat_interleave(4)), 2)
    err = float((ref - alt).abs().max() / ref.abs().max())
    return {"c": c, "size": size, "max_relative_error": err, "shape": list(ref.shape)}


def default_init(c_in: int = 8, c_out: int = 4, k: int = 2, seed: int = 0) -> dict:
    """``nn.ConvTranspose2d(c_in, c_out, k)``'s default draw, and the formula it follows.

    ``reset_parameters`` calls ``kaiming_uniform_(weight, a=sqrt(5))``: bound
    ``gain * sqrt(3 / fan_in)`` with ``gain = sqrt(2 / (1 + a^2)) = sqrt(1/3)``, so
    ``1 / sqrt(fan_in)``. ``_calculate_fan_in_and_fan_out`` takes ``fan_in = size(1) * k * k``,
    written for ``Conv2d``'s ``(C_out, C_in, k, k)``; a transposed weight is
    ``(C_in, C_out, k, k)``, so its "fan-in" is ``C_out k^2``. The bias bound is the same.
    """
    torch.manual_seed(seed)
    layer = nn.ConvTranspose2d(c_in, c_out, k, stride=k)
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(layer.weight)
    bound = 1.0 / math.sqrt(c_out * k * k)
    torch.manual_seed(seed)  # the same draws, from the formula
    w = torch.empty(c_in, c_out, k, k).uniform_(-bound, bound)
    b = torch.empty(c_out).uniform_(-bound, bound)
    # output scale on unit-variance input: each output pixel sums c_in taps (k = s: no overlap)
    gen = torch.Generator().manual_seed(seed)
    big = nn.ConvTranspose2d(2 * 256, 256, 2, stride=2, bias=False)
    with torch.no_grad():
        nn.init.kaiming_uniform_(big.weight, a=math.sqrt(5), generator=gen)
        y = big(torch.randn(1, 512, 16, 16, generator=gen))
    return {
        "c_in": c_in,
        "c_out": c_out,
        "k": k,
        "fan_in": fan_in,
        "fan_out": fan_out,
        "bound": bound,
        "bound_if_fan_in_were_c_in": 1.0 / math.sqrt(c_in * k * k),
        "weight_error": float((layer.weight.detach() - w).abs().max()),
        "bias_error": float((layer.bias.detach() - b).abs().max()),
        "max_abs_weight": float(layer.weight.detach().abs().max()),
        "unet_output_std": float(y.std()),
        "unet_output_std_formula": math.sqrt(512 / (3 * 256 * 4)),
    }


def bilinear_halving(c_out: int = 3, up: int = 2, size: int = 8, seed: int = 0) -> dict:
    """FCN's bilinear init for the U-Net up-conv, ``C_in = 2 C_out`` channels.

    ``init_bilinear_`` needs ``C_in == C_out``; with twice as many inputs the natural extension
    puts the triangle, halved, at ``w[i, i mod C_out]``: output ``c`` starts as the bilinear
    up-sampling of the mean of inputs ``c`` and ``c + C_out``.
    """
    k = T.bilinear_kernel_size(up)
    pad = (k - up) // 2
    tri = T.init_bilinear_(torch.empty(1, 1, k, k, dtype=torch.float64), up)[0, 0]
    w = torch.zeros(2 * c_out, c_out, k, k, dtype=torch.float64)
    for i in range(2 * c_out):
        w[i, i % c_out] = tri / 2
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 2 * c_out, size, size, generator=gen, dtype=torch.float64)
    y = F.conv_transpose2d(x, w, stride=up, padding=pad)
    mean = (x[:, :c_out] + x[:, c_out:]) / 2
    ref = F.interpolate(mean, scale_factor=up, mode="bilinear", align_corners=False)
    e = up // 2
    inner = (..., slice(e, -e), slice(e, -e))
    flat = F.conv_transpose2d(torch.ones(1, 2 * c_out, 16, 16, dtype=torch.float64), w, stride=up)
    return {
        "c_in": 2 * c_out,
        "c_out": c_out,
        "kernel": k,
        "padding": pad,
        "interior_error": float((y[inner] - ref[inner]).abs().max()),
        "flat_spread": phase_spread(flat, up, 4),
    }


def icnr_unet(c: int = 8, seed: int = 0) -> dict:
    """ICNR on the 1x1 conv + pixel shuffle form of ``ConvTranspose2d(C, C/2, 2, 2)``.

    With ICNR the four phases start equal, so the layer starts as nearest after a 1x1 conv:
    ``PixelShuffle(conv1x1(x, W)) == nearest(conv1x1(x, W0))``.
    """
    torch.manual_seed(seed)
    w = torch.empty(4 * (c // 2), c, 1, 1, dtype=torch.float64)
    T.init_icnr_(w, 2)
    w0 = w[::4]  # pixel shuffle's order (c, a, b): the first of each group of 4 is phase (0, 0)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, c, 6, 6, generator=gen, dtype=torch.float64)
    y = F.pixel_shuffle(F.conv2d(x, w), 2)
    ref = F.interpolate(F.conv2d(x, w0), scale_factor=2, mode="nearest")
    return {"c": c, "error": float((y - ref).abs().max())}


def phase_spread_of_means(means: Tensor) -> Tensor:
    """The tutorial's checkerboard index from per-channel phase means.

    ``sqrt(mean over channels and phases of (phase mean - channel mean)^2) /
    sqrt(mean over channels of channel mean^2)``: 0 = flat.

    Shape:
        - means: ``(..., C, s, s)``; output: ``(...)``
    """
    level = means.mean(dim=(-2, -1), keepdim=True)
    spread = (means - level).pow(2).mean(dim=(-3, -2, -1)).sqrt()
    return spread / level.pow(2).mean(dim=(-3, -2, -1)).sqrt()


def phase_spread(y: Tensor, stride: int, border: int) -> float:
    """:func:`phase_spread_of_means` of a layer's response ``(1, C, H, W)`` to a flat input,
    over the interior (``border`` pixels dropped)."""
    inner = y[0, :, border:-border, border:-border]
    c, h, w = inner.shape
    h, w = h - h % stride, w - w % stride
    phases = inner[:, :h, :w].reshape(c, h // stride, stride, w // stride, stride)
    return float(phase_spread_of_means(phases.mean(dim=(1, 3))))


def checkerboard_baseline(
    channels: int = 16, stride: int = 2, draws: int = 20_000, seed: int = 0
) -> dict:
    """The checkerboard index when the ``s^2`` phase gains are independent zero-mean draws.

    Default init draws every tap independently with mean 0, so on a flat input each output
    channel's ``s^2`` phase gains are independent zero-mean sums. For such gains
    ``E[spread^2] / E[level^2] = s^2 - 1`` whatever the gains' variances (tap counts per phase
    differ for k = 3; the ratio does not), i.e. ``sqrt(3) = 1.73`` at stride 2. The draws give
    the distribution of the index itself (Gaussian gains; ``channels`` per layer).
    """
    gen = torch.Generator().manual_seed(seed)
    means = torch.randn(draws, channels, stride, stride, generator=gen, dtype=torch.float64)
    index = phase_spread_of_means(means).numpy()
    q = np.quantile(index, [0.05, 0.5, 0.95])
    return {
        "channels": channels,
        "stride": stride,
        "draws": draws,
        "sqrt_phases_minus_1": math.sqrt(stride * stride - 1),
        "q05": float(q[0]),
        "median": float(q[1]),
        "q95": float(q[2]),
    }


def compute(seed: int = 0) -> dict:
    """Everything of this module, as the tutorial's ``unet_layer`` result entry."""
    return {
        "hand": hand_example(seed + 1),
        "layer": unet_layer(),
        "shuffle": pixel_shuffle_check(seed=seed),
        "default_init": default_init(seed=seed),
        "bilinear_halving": bilinear_halving(seed=seed),
        "icnr": icnr_unet(seed=seed),
        "baseline": checkerboard_baseline(seed=seed),
    }
