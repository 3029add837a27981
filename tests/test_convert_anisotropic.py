"""convert() of anisotropic 3-D resamplers: per-axis kernels and strides such as (1, 2, 2).

MONAI's ``UNet(strides=((1, 2, 2), ...))``, ``DynUNet`` and nnU-Net pool and stride in-plane
only on anisotropic volumes. The converted layers blur only along the axes whose stride is
above 1. Every blurred conversion is checked against a naive reference written here: the
stride-1 op, ``F.pad`` of the strided axes only, one depthwise ``conv3d`` with the kernel
``outer(1, t, t)`` (``t`` the binomial taps), then the stride; and ``taps=1`` against the
original module, exact to rounding (``antialias.exact``).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from antialias.exact import exact_tolerance, is_exact, max_relative_error
from antialias.layers import (
    BlurConv3d,
    ConvBlurPool3d,
    ConvTransposeBlur3d,
    MaxBlurPool3d,
    convert,
)
from antialias.layers.nd import max_blur_pool_nd

MODES = ("zeros", "reflect", "replicate", "circular")
TORCH_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate"}
TORCH_PAD["circular"] = "circular"
STRIDE = (1, 2, 2)


def assert_exact(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    err = max_relative_error(a, b)
    assert is_exact(a, b), f"max relative error {err:.3e} > {exact_tolerance(b.dtype):.3e}"


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=g)


def kernel_122(channels: int) -> torch.Tensor:
    """Depthwise (C, 1, 1, 3, 3): binomial [1, 2, 1] / 4 in H and W, nothing in D."""
    t = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64) / 4
    k = (t[:, None] * t[None, :])[None]
    return k.expand(channels, 1, 1, 3, 3).contiguous()


def naive_blur(x: torch.Tensor, mode: str, stride: tuple[int, int, int]) -> torch.Tensor:
    """Pad H and W by 1 (3 taps, "adobe" split), depthwise conv, keep every stride-th sample."""
    xp = F.pad(x, (1, 1, 1, 1, 0, 0), mode=TORCH_PAD[mode])
    return F.conv3d(xp, kernel_122(x.shape[1]), stride=stride, groups=x.shape[1])


# --------------------------------------------------------------------------- pools


@pytest.mark.parametrize("mode", MODES)
def test_maxpool_122_is_max_then_in_plane_blur_pool(mode: str) -> None:
    pool = nn.MaxPool3d((1, 2, 2), STRIDE)
    new, report = convert(nn.Sequential(pool), taps=3, pad_mode=mode, scan=False)
    assert not report.left, str(report)
    assert isinstance(new[0], MaxBlurPool3d) and new[0].max_kernel_size == (1, 2, 2)
    x = rand(2, 3, 5, 8, 12)
    if mode == "circular":  # the max wraps too: one sample after the end of H and W
        m = F.max_pool3d(F.pad(x, (0, 1, 0, 1, 0, 0), mode="circular"), (1, 2, 2), stride=1)
    else:
        m = F.max_pool3d(x, (1, 2, 2), stride=1)
    assert_exact(new(x), naive_blur(m, mode, STRIDE))
    assert new(x).shape == pool(x).shape


@pytest.mark.parametrize("size", [(5, 8, 12), (3, 9, 7)])
def test_maxpool_with_per_axis_kernel_stride_padding_keeps_sizes(size: tuple) -> None:
    pool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), padding=(0, 1, 1))
    new, report = convert(nn.Sequential(pool), taps=3, scan=False)
    assert not report.left and new[0].max_padding == (0, 1, 1)
    x = rand(1, 2, *size)
    want = naive_blur(F.max_pool3d(x, (1, 3, 3), stride=1, padding=(0, 1, 1)), "reflect", STRIDE)
    assert_exact(new(x), want)
    assert new(x).shape == pool(x).shape
    exact, _ = convert(nn.Sequential(pool), taps=1, scan=False)
    assert_exact(exact(x), pool(x))


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_avgpool_122_is_box_then_in_plane_blur_pool(mode: str) -> None:
    pool = nn.AvgPool3d((1, 2, 2), STRIDE)
    new, report = convert(nn.Sequential(pool), taps=3, pad_mode=mode, scan=False)
    assert not report.left and report.changed[0].replacement == "Sequential"
    x = rand(2, 3, 4, 10, 8)
    want = naive_blur(F.avg_pool3d(x, (1, 2, 2), stride=1), mode, STRIDE)
    assert_exact(new(x), want)
    exact, _ = convert(nn.Sequential(pool), taps=1, scan=False)
    assert_exact(exact(x), pool(x))


def test_max_blur_pool_nd_per_axis_arguments_are_checked() -> None:
    x = rand(1, 1, 4, 4, 4)
    with pytest.raises(ValueError, match="expected max_kernel_size to be an integer or 3"):
        max_blur_pool_nd(x, 3, STRIDE, max_kernel_size=(1, 2))
    with pytest.raises(ValueError, match="expected max_padding <= max_kernel_size / 2"):
        max_blur_pool_nd(x, 3, STRIDE, max_kernel_size=(1, 2, 2), max_padding=(1, 0, 0))
    with pytest.raises(ValueError, match="expected max_padding to be an integer >= 0"):
        MaxBlurPool3d(None, 3, STRIDE, max_padding=(0, -1, 0))


# --------------------------------------------------------------------------- convs


@pytest.mark.parametrize("mode", MODES)
def test_conv_stride_122_is_conv_then_in_plane_blur_pool(mode: str) -> None:
    torch.manual_seed(0)
    conv = nn.Conv3d(2, 3, 3, stride=STRIDE, padding=1).double()
    new, report = convert(nn.Sequential(conv), taps=3, pad_mode=mode, scan=False)
    assert isinstance(new[0], ConvBlurPool3d) and report.changed[0].weights == "kept"
    assert new[0].down == STRIDE
    x = rand(1, 2, 4, 8, 10)
    y1 = F.conv3d(x, conv.weight, conv.bias, padding=1)  # zeros: the conv's own padding
    assert_exact(new(x), naive_blur(y1, mode, STRIDE))
    assert list(new.state_dict()) == list(nn.Sequential(conv).state_dict())


def test_blur_before_a_122_strided_conv_blurs_in_plane_only() -> None:
    torch.manual_seed(1)
    conv = nn.Conv3d(2, 3, 3, stride=STRIDE, padding=1).double()
    new, _ = convert(nn.Sequential(conv), taps=3, blur_position="before", scan=False)
    assert isinstance(new[0], BlurConv3d)
    x = rand(1, 2, 4, 8, 10)
    assert_exact(new(x), conv(naive_blur(x, "reflect", (1, 1, 1))))


@pytest.mark.parametrize("mode", ["zeros", "replicate", "circular"])
def test_transposed_conv_stride_122_blurs_in_plane_only(mode: str) -> None:
    torch.manual_seed(2)
    tconv = nn.ConvTranspose3d(3, 2, (1, 2, 2), stride=STRIDE).double()
    new, report = convert(nn.Sequential(tconv), taps=3, pad_mode=mode, scan=False)
    assert isinstance(new[0], ConvTransposeBlur3d) and report.changed[0].weights == "kept"
    x = rand(1, 3, 3, 4, 5)
    assert_exact(new(x), naive_blur(tconv(x), mode, (1, 1, 1)))
    # an isotropic stride still blurs every axis, as before
    iso = ConvTransposeBlur3d.from_conv_transpose(nn.ConvTranspose3d(3, 2, 2, stride=2).double())
    t = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64) / 4
    k = (t[:, None, None] * t[None, :, None] * t[None, None, :]).expand(2, 1, 3, 3, 3)
    y = F.conv3d(_plain(iso, x), k, groups=2)
    assert_exact(iso(x), y)


def _plain(layer: ConvTransposeBlur3d, x: torch.Tensor) -> torch.Tensor:
    """The transposed conv alone, reflect-padded by 1 on every axis."""
    y = F.conv_transpose3d(x, layer.weight, layer.bias, stride=layer.stride)
    return F.pad(y, (1,) * 6, mode="reflect")


# --------------------------------------------------------------------------- networks


class Aniso(nn.Module):
    """Conv, in-plane max-pool, conv, in-plane transposed conv, head: all circular."""

    def __init__(self) -> None:
        super().__init__()
        pad = {"padding": 1, "padding_mode": "circular"}
        self.enc = nn.Conv3d(1, 4, 3, **pad)
        self.pool = nn.MaxPool3d((1, 2, 2), STRIDE)
        self.mid = nn.Conv3d(4, 4, 3, **pad)
        self.up = nn.ConvTranspose3d(4, 4, (1, 2, 2), stride=STRIDE)
        self.head = nn.Conv3d(8, 1, 3, **pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = torch.relu(self.enc(x))
        u = self.up(torch.relu(self.mid(self.pool(e))))
        return self.head(torch.cat([e, u], 1))


def test_circular_anisotropic_net_is_equivariant_to_any_depth_shift() -> None:
    """No resampling along D: every D shift is exact; H, W at multiples of 2 only."""
    torch.manual_seed(3)
    net = Aniso().double().eval()
    new, report = convert(net, taps=3, pad_mode="circular", scan=False)
    assert not report.left and len(report.changed) == 2
    x = rand(1, 1, 6, 8, 8)
    with torch.no_grad():
        y = new(x)
        for shift in [(1, 0, 0), (5, 2, 4), (3, 6, 2)]:
            got = new(torch.roll(x, shift, dims=(2, 3, 4)))
            assert_exact(got, torch.roll(y, shift, dims=(2, 3, 4)))
        # an odd in-plane shift is not a multiple of the stride: the test can fail
        got = new(torch.roll(x, 1, dims=3))
        assert max_relative_error(got, torch.roll(y, 1, dims=3)) > 1e-6


monai_nets = pytest.importorskip("monai.networks.nets")


def _monai_unet() -> nn.Module:
    torch.manual_seed(0)
    return monai_nets.UNet(
        3, 1, 2, channels=(4, 8, 8), strides=((1, 2, 2), (1, 2, 2)), num_res_units=1
    )


def _monai_dynunet() -> nn.Module:
    torch.manual_seed(0)
    return monai_nets.DynUNet(
        3,
        1,
        2,
        kernel_size=[(1, 3, 3), (3, 3, 3), (3, 3, 3)],
        strides=[1, (1, 2, 2), (2, 2, 2)],
        upsample_kernel_size=[(1, 2, 2), (2, 2, 2)],
        filters=[4, 8, 8],
    )


@pytest.mark.parametrize("build", [_monai_unet, _monai_dynunet], ids=["UNet", "DynUNet"])
def test_monai_anisotropic_unets_convert_with_keys_and_exactly_at_taps_1(build) -> None:
    net = build().double().eval()
    x = rand(1, 1, 6, 16, 16)  # D = 6: DynUNet's last level strides D by 2
    with torch.no_grad():
        ref = net(x)
        exact, report = convert(net, taps=1)
        assert not report.left, str(report)
        assert_exact(exact(x), ref)
        blurred, _ = convert(net, taps=3)
        out = blurred(x)
    assert out.shape == ref.shape and float((out - ref).abs().max()) > 1e-6
    assert list(blurred.state_dict()) == list(net.state_dict())
    strided = [m for m in blurred.modules() if isinstance(m, (ConvBlurPool3d, ConvTransposeBlur3d))]
    assert any(tuple(getattr(m, "down", m.stride)) == STRIDE for m in strided)


@pytest.mark.parametrize("kernel", [3, (1, 3, 3), (3, 4, 4)])
def test_circular_122_strided_conv_is_equivariant_to_its_shifts(kernel) -> None:
    """Conv at stride 1 + in-plane blur-pool, all circular: a shift (a, 2b, 2c) of the input
    is a shift (a, b, c) of the output, any a (the wrap path when 2p != k - 1 too)."""
    torch.manual_seed(4)
    ks = (kernel,) * 3 if isinstance(kernel, int) else kernel
    pad = tuple((k - 1) // 2 for k in ks)
    conv = nn.Conv3d(2, 3, ks, stride=STRIDE, padding=pad, padding_mode="circular").double()
    new, _ = convert(nn.Sequential(conv), taps=3, pad_mode="circular", scan=False)
    x = rand(1, 2, 5, 8, 8)
    y = new(x)
    assert y.shape == conv(x).shape
    for a, b, c in [(1, 1, 0), (3, 0, 2), (2, 3, 1)]:
        got = new(torch.roll(x, (a, 2 * b, 2 * c), dims=(2, 3, 4)))
        assert_exact(got, torch.roll(y, (a, b, c), dims=(2, 3, 4)))


def test_blur_before_a_2d_conv_with_unequal_strides_blurs_the_strided_axis_only() -> None:
    """The same rule in 2-D (``blur_position="before"`` is the one 2-D path with unequal
    strides); equal strides blur both axes, as before."""
    torch.manual_seed(5)
    conv = nn.Conv2d(2, 3, 3, stride=(1, 2), padding=1).double()
    new, report = convert(nn.Sequential(conv), taps=3, blur_position="before", scan=False)
    assert report.changed[0].replacement == "BlurConv2d"
    x = rand(1, 2, 6, 8)
    t = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64) / 4
    blurred = F.conv2d(
        F.pad(x, (1, 1, 0, 0), mode="reflect"), t.view(1, 1, 1, 3).expand(2, 1, 1, 3), groups=2
    )
    assert_exact(new(x), conv(blurred))
    iso = nn.Conv2d(2, 3, 3, stride=2, padding=1).double()
    new_iso, _ = convert(nn.Sequential(iso), taps=3, blur_position="before", scan=False)
    k = (t[:, None] * t[None, :]).expand(2, 1, 3, 3)
    assert_exact(new_iso(x), iso(F.conv2d(F.pad(x, (1,) * 4, mode="reflect"), k, groups=2)))
