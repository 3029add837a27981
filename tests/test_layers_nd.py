"""Tests of antialias.layers.nd: 1-D and 3-D blur-pool, max/conv-blur-pool, blur-up, shuffle."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from antialias.exact import exact_tolerance, is_exact, max_relative_error
from antialias.filters import binomial_taps, linear_taps
from antialias.layers.blurpool import BlurPool2d
from antialias.layers.nd import (
    BlurPool1d,
    BlurPool3d,
    BlurUpsample1d,
    BlurUpsample3d,
    ConvBlurPool1d,
    ConvBlurPool3d,
    MaxBlurPool1d,
    MaxBlurPool3d,
    PixelShuffle3d,
    PixelShuffleUpsample3d,
    blur_pool_nd,
    blur_upsample_nd,
    max_blur_pool_nd,
    pixel_shuffle_nd,
)

MODES = ("zeros", "reflect", "replicate", "circular")
TORCH_PAD = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def assert_exact(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    err = max_relative_error(a, b)
    assert is_exact(a, b), f"max relative error {err:.3e} > {exact_tolerance(b.dtype):.3e}"


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- blur-pool


def naive_blur_pool3d(x: torch.Tensor, k: int, down: int, mode: str, split: str) -> torch.Tensor:
    """F.pad + one dense depthwise conv3d with the outer-product kernel, stride down."""
    t = binomial_taps(k)
    kernel = t[:, None, None] * t[None, :, None] * t[None, None, :]
    before, after = ((k - 1) // 2, k // 2) if split == "adobe" else ((down - 1 + k - 1) // 2,) * 2
    xp = F.pad(x, (before, after) * 3, mode=TORCH_PAD[mode])
    c = x.shape[1]
    return F.conv3d(xp, kernel.expand(c, 1, k, k, k), stride=down, groups=c)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "k, down, split", [(3, 2, "adobe"), (4, 2, "adobe"), (5, 3, "symmetric"), (2, 2, "symmetric")]
)
def test_blur_pool3d_matches_dense_conv3d(mode: str, k: int, down: int, split: str) -> None:
    x = rand(2, 3, 7, 8, 9)
    layer = BlurPool3d(3, k, down, mode, split, dtype=torch.float64)
    assert_exact(layer(x), naive_blur_pool3d(x, k, down, mode, split))


def test_taps_one_is_plain_decimation() -> None:
    x = rand(1, 2, 7, 6, 5)
    assert torch.equal(BlurPool3d(taps=1, down=2)(x.float()), x.float()[..., ::2, ::2, ::2])
    assert torch.equal(BlurPool1d(taps=1, down=3)(x[:, :, 0, 0]), x[:, :, 0, 0, ::3])
    assert torch.equal(MaxBlurPool3d(taps=1)(x), F.max_pool3d(x, 2, 2)), (
        "taps=1 must be MaxPool3d(2, 2)"
    )


@pytest.mark.parametrize("mode", ["reflect", "replicate", "zeros"])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7])
def test_blur_pool1d_matches_antialiased_cnns(mode: str, k: int) -> None:
    aa = pytest.importorskip("antialiased_cnns.blurpool")
    x = torch.randn(2, 3, 11)
    pad = "zero" if mode == "zeros" else mode
    expected = aa.BlurPool1D(3, pad_type=pad, filt_size=k, stride=2)(x)
    got = BlurPool1d(3, k, 2, mode)(x)
    assert got.shape == expected.shape
    assert max_relative_error(got, expected) < 1e-6


@pytest.mark.parametrize("mode", MODES)
def test_2d_input_equals_blur_pool2d(mode: str) -> None:
    x = rand(2, 3, 9, 8)
    for k in (3, 4):
        expected = BlurPool2d(taps=k, pad_mode=mode, dtype=torch.float64)(x)
        assert_exact(blur_pool_nd(x, k, 2, mode), expected)


def test_anisotropic_down_keeps_the_unpooled_axis_unblurred() -> None:
    x = rand(1, 2, 3, 8, 7)
    y = BlurPool3d(taps=3, down=(1, 2, 2), pad_mode="reflect", dtype=torch.float64)(x)
    layer2d = BlurPool2d(taps=3, pad_mode="reflect", dtype=torch.float64)
    expected = torch.stack([layer2d(x[:, :, d]) for d in range(3)], dim=2)
    assert_exact(y, expected)


def test_blur_pool_circular_equivariance() -> None:
    x = rand(1, 2, 8, 8, 12)
    layer = BlurPool3d(taps=5, pad_mode="circular")
    y = layer(x)
    assert_exact(layer(x.roll((2, 4, 6), (2, 3, 4))), y.roll((1, 2, 3), (2, 3, 4)))
    assert max_relative_error(layer(x.roll(1, 2)), y) > 1e-3  # not at an odd shift


def test_gradcheck_blur_pool3d() -> None:
    x = rand(1, 1, 4, 3, 3).requires_grad_()
    for mode in MODES:
        layer = BlurPool3d(taps=3, pad_mode=mode, dtype=torch.float64)
        assert torch.autograd.gradcheck(layer, (x,))


# --------------------------------------------------------------------------- max-blur-pool


@pytest.mark.parametrize("shape", [(8, 8, 8), (7, 6, 9)])
def test_max_blur_pool3d_is_max_then_blur_pool(shape: tuple) -> None:
    x = rand(1, 2, *shape)
    for mode in ("reflect", "zeros"):
        y = MaxBlurPool3d(taps=3, pad_mode=mode, dtype=torch.float64)(x)
        expected = naive_blur_pool3d(F.max_pool3d(x, 2, 1), 3, 2, mode, "adobe")
        assert_exact(y, expected)
        assert y.shape == F.max_pool3d(x, 2, 2).shape


def test_max_blur_pool_circular_equivariance() -> None:
    x = rand(1, 2, 8, 6, 10)
    layer = MaxBlurPool3d(2, pad_mode="circular")
    y = layer(x)
    assert y.shape == (1, 2, 4, 3, 5)
    assert_exact(layer(x.roll((2, 2, 4), (2, 3, 4))), y.roll((1, 1, 2), (2, 3, 4)))
    sig = rand(1, 1, 12)
    assert_exact(
        MaxBlurPool1d(pad_mode="circular")(sig.roll(4, 2)),
        MaxBlurPool1d(pad_mode="circular")(sig).roll(2, 2),
    )
    assert max_blur_pool_nd(sig, 1, pad_mode="zeros").shape == (1, 1, 6)


# --------------------------------------------------------------------------- conv-blur-pool


def test_conv_blur_pool3d_taps_one_is_the_strided_conv() -> None:
    conv = nn.Conv3d(2, 4, 3, stride=2, padding=1, dtype=torch.float64)
    x = rand(1, 2, 7, 8, 9)
    layer = ConvBlurPool3d.from_conv(conv, taps=1)
    assert layer.weight is conv.weight and layer.bias is conv.bias
    assert set(layer.state_dict()) == set(conv.state_dict())
    assert_exact(layer(x), conv(x))  # stride-1 conv then decimation: same sums, to rounding
    aniso = nn.Conv3d(2, 4, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), dtype=torch.float64)
    layer = ConvBlurPool3d.from_conv(aniso, taps=1)
    assert layer.down == (1, 2, 2)
    assert_exact(layer(x), aniso(x))


def test_conv_blur_pool3d_is_conv_then_blur_pool() -> None:
    x = rand(1, 2, 7, 8, 6)
    layer = ConvBlurPool3d(2, 3, 3, taps=4, pad_mode="replicate", dtype=torch.float64)
    conv = F.conv3d(F.pad(x, (1,) * 6, mode="replicate"), layer.weight, layer.bias)
    assert_exact(layer(x), naive_blur_pool3d(conv, 4, 2, "replicate", "adobe"))
    assert layer(x).shape == nn.Conv3d(2, 3, 3, 2, 1)(x.float()).shape


@pytest.mark.parametrize("kernel", [3, 2])
def test_conv_blur_pool_circular_equivariance(kernel: int) -> None:
    x = rand(1, 2, 8, 8, 8)
    layer = ConvBlurPool3d(2, 3, kernel, pad_mode="circular", dtype=torch.float64)
    y = layer(x)
    assert y.shape == nn.Conv3d(2, 3, kernel, 2, (kernel - 1) // 2)(x.float()).shape
    assert_exact(layer(x.roll((2, 4, 2), (2, 3, 4))), y.roll((1, 2, 1), (2, 3, 4)))
    sig = rand(1, 2, 16)
    layer1 = ConvBlurPool1d(2, 3, kernel, pad_mode="circular", dtype=torch.float64)
    assert_exact(layer1(sig.roll(2, 2)), layer1(sig).roll(1, 2))


def test_conv_blur_pool1d_from_conv() -> None:
    conv = nn.Conv1d(3, 2, 5, stride=3, padding=2)
    layer = ConvBlurPool1d.from_conv(conv, taps=1)
    x = torch.randn(2, 3, 14)
    assert max_relative_error(layer(x), conv(x)) < 1e-6
    with pytest.raises(TypeError, match="expected an nn.Conv1d, got Conv3d"):
        ConvBlurPool1d.from_conv(nn.Conv3d(1, 1, 1))


# --------------------------------------------------------------------------- blur up-sampling


def test_blur_upsample3d_is_trilinear() -> None:
    x = rand(2, 3, 4, 5, 6)
    expected = F.interpolate(x, scale_factor=2, mode="trilinear", align_corners=False)
    assert_exact(BlurUpsample3d(pad_mode="replicate", dtype=torch.float64)(x), expected)
    aniso = F.interpolate(x, scale_factor=(1, 2, 2), mode="trilinear", align_corners=False)
    assert_exact(BlurUpsample3d(up=(1, 2, 2), pad_mode="replicate")(x), aniso)
    three = F.interpolate(x, scale_factor=3, mode="trilinear", align_corners=False)
    assert_exact(blur_upsample_nd(x, linear_taps(3), 3, "replicate"), three)
    sig = x[:, :, 0, 0]
    lin = F.interpolate(sig, scale_factor=2, mode="linear", align_corners=False)
    assert_exact(BlurUpsample1d(pad_mode="replicate")(sig), lin)


def test_blur_upsample_constant_and_circular_equivariance() -> None:
    x = rand(1, 2, 4, 6, 5)
    for mode in ("reflect", "replicate", "circular"):
        ones = torch.ones(1, 1, 3, 4, 5, dtype=torch.float64)
        assert_exact(BlurUpsample3d(taps=6, pad_mode=mode)(ones), torch.ones(1, 1, 6, 8, 10))
    layer = BlurUpsample3d(taps=4, pad_mode="circular")
    assert_exact(layer(x.roll((1, 2, 3), (2, 3, 4))), layer(x).roll((2, 4, 6), (2, 3, 4)))


# --------------------------------------------------------------------------- pixel shuffle


def test_pixel_shuffle_nd_matches_naive_loop() -> None:
    up, c = 2, 3
    x = rand(2, c * up**3, 2, 3, 4)
    y = pixel_shuffle_nd(x, up)
    assert y.shape == (2, c, 4, 6, 8)
    expected = torch.empty_like(y)
    for ch, d, h, w in itertools.product(range(c), range(2), range(3), range(4)):
        for rd, rh, rw in itertools.product(range(up), repeat=3):
            src = ch * up**3 + (rd * up + rh) * up + rw
            expected[:, ch, d * up + rd, h * up + rh, w * up + rw] = x[:, src, d, h, w]
    assert torch.equal(y, expected)
    x2 = rand(1, 12, 3, 5)
    assert torch.equal(pixel_shuffle_nd(x2, 2), F.pixel_shuffle(x2, 2))
    assert torch.equal(PixelShuffle3d(up)(x), y)


def test_pixel_shuffle_upsample3d_icnr_starts_as_nearest() -> None:
    torch.manual_seed(0)
    layer = PixelShuffleUpsample3d(3, 2, up=2, dtype=torch.float64)
    nn.init.normal_(layer.conv.bias)
    from antialias.transposed import init_icnr_

    with torch.no_grad():
        init_icnr_(layer.conv.weight, 2, bias=layer.conv.bias)
    x = rand(1, 3, 3, 4, 2)
    y = layer(x)
    assert y.shape == (1, 2, 6, 8, 4)
    low = y[..., ::2, ::2, ::2]
    nearest = low.repeat_interleave(2, 2).repeat_interleave(2, 3).repeat_interleave(2, 4)
    assert torch.equal(y, nearest)  # every phase identical: copies, no arithmetic
    plain = PixelShuffleUpsample3d(3, 2, init="default", dtype=torch.float64)
    y = plain(x)
    assert not torch.equal(
        y,
        y[..., ::2, ::2, ::2]
        .repeat_interleave(2, 2)
        .repeat_interleave(2, 3)
        .repeat_interleave(2, 4),
    )


# --------------------------------------------------------------------------- module hygiene


def test_filter_buffers_are_non_persistent_and_follow_to() -> None:
    for layer in (BlurPool3d(4), MaxBlurPool3d(4), BlurUpsample3d(4), ConvBlurPool3d(2, 2)):
        assert "taps" not in layer.state_dict()
        assert layer.taps.dtype == torch.get_default_dtype()
        assert layer.to(torch.float64).taps.dtype == torch.float64
    assert BlurPool1d(taps=4, dtype=torch.float64).taps.tolist() == [0.125, 0.375, 0.375, 0.125]
    assert "taps=3" in repr(BlurPool3d(taps=3)) and "down=(2, 2, 2)" in repr(BlurPool3d())


@pytest.mark.parametrize(
    "build, x, error, match",
    [
        (lambda: BlurPool3d(), torch.zeros(1, 1, 4, 4), ValueError, r"\(B, C, D, H, W\)"),
        (lambda: BlurPool1d(), torch.zeros(1, 1, 4, 4), ValueError, r"\(B, C, L\)"),
        (lambda: BlurPool3d(2), torch.zeros(1, 3, 4, 4, 4), ValueError, "2 channels"),
        (lambda: BlurPool3d(), torch.zeros(1, 1, 4, 4, 4, dtype=torch.int64), TypeError, "float"),
        (lambda: BlurPool3d(pad_mode="mirror"), None, ValueError, "expected pad_mode"),
        (lambda: BlurPool3d(down=(2, 2)), None, ValueError, "or 3 integers"),
        (lambda: BlurPool3d(down=0), None, ValueError, "expected down to be an integer in"),
        (lambda: BlurPool3d(pad_split="x"), None, ValueError, "expected pad_split"),
        (lambda: BlurPool3d(taps=[1.0, -1.0]), None, ValueError, "non-zero sum"),
        (lambda: MaxBlurPool3d(max_padding=2), None, ValueError, "max_padding <="),
        (lambda: PixelShuffleUpsample3d(2, 2, kernel_size=2), None, ValueError, "odd kernel"),
        (lambda: ConvBlurPool3d(2, 2, padding="same"), None, ValueError, "numeric conv padding"),
        (lambda: PixelShuffle3d(2), torch.zeros(1, 7, 2, 2, 2), ValueError, "divisible by up"),
    ],
)
def test_bad_input(build, x, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        layer = build()
        layer(x)
