"""Upsample2d: every method's exact size, the blur up-sampler against a naive zero-stuff +
convolution reference and against torch's interpolation, initialisations, gradients,
layouts, dtypes, compile, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.autograd import gradcheck
from torch.nn import functional as F

from antialias.layers import ConvTransposeBlur2d, Upsample2d, blur_upsample2d, transposed_padding
from antialias.resample import prepare_upfirdn2d

NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
PAD_MODES = list(NUMPY_MODE)


def naive_blur_upsample(x: torch.Tensor, taps: list[float], up: int, pad_mode: str) -> torch.Tensor:
    """Extend by pad_mode, insert zeros, convolve with outer(taps, taps), crop the grid.

    Output j sits at fine position j; the kernel is applied as a true convolution with
    ``p0 = (k + up - 2) // 2`` fine samples before the first input sample.
    """
    t = np.asarray(taps, dtype=np.float64)
    t = t * (up / t.sum())
    k = len(t)
    q = k  # generous context, cropped away below
    xn = np.pad(x.double().numpy(), ((0, 0), (0, 0), (q, q), (q, q)), mode=NUMPY_MODE[pad_mode])
    n, c, h, w = xn.shape
    z = np.zeros((n, c, h * up, w * up))
    z[:, :, ::up, ::up] = xn
    p0 = (k + up - 2) // 2
    kernel = np.outer(t, t)
    out_h, out_w = x.shape[2] * up, x.shape[3] * up
    y = np.zeros((n, c, out_h, out_w))
    for j in range(out_h):
        for i in range(out_w):
            # y[j] = sum_m t[m] z[j + q*up + k - 1 - p0 - m]
            rows = [j + q * up + k - 1 - p0 - m for m in range(k)]
            cols = [i + q * up + k - 1 - p0 - m for m in range(k)]
            y[:, :, j, i] = (z[:, :, rows][:, :, :, cols] * kernel).sum(axis=(2, 3))
    return torch.from_numpy(y)


def max_err(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((a.double() - b.double()).detach().abs().max())


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize(
    ("taps", "up"),
    [([1, 3, 3, 1], 2), ([1, 2, 1], 2), ([1, 4, 6, 4, 1], 2), ([1, 1], 2), ([1, 2, 3, 2, 1], 3)],
)
def test_blur_matches_naive_reference(pad_mode: str, taps: list, up: int) -> None:
    x = torch.randn(1, 2, 5, 7, dtype=torch.float64)
    y = blur_upsample2d(x, [float(v) for v in taps], up, pad_mode)
    err = max_err(y, naive_blur_upsample(x, taps, up, pad_mode))
    assert err <= 1e-12, f"max abs error {err}"


@pytest.mark.parametrize("up", [2, 3, 4])
def test_triangle_taps_are_torch_bilinear_and_box_is_nearest(up: int) -> None:
    from antialias.filters import cubic_taps, linear_taps

    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    pairs = [
        (linear_taps(up), "bilinear"),
        (cubic_taps(up), "bicubic"),
        (torch.ones(up, dtype=torch.float64), "nearest"),
    ]
    for taps, mode in pairs:
        ref = F.interpolate(x, scale_factor=up, mode=mode)
        ours = blur_upsample2d(x, taps, up, "replicate")
        assert max_err(ours, ref) <= 1e-12, (mode, max_err(ours, ref))


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("up", [2, 3])
def test_bilinear_fast_path_equals_general_path(pad_mode: str, up: int) -> None:
    from antialias.filters import linear_taps

    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    m = Upsample2d(3, 3, "blur", up=up, taps=linear_taps(up), pad_mode=pad_mode, dtype=x.dtype)
    assert m.plan.torch_mode == "bilinear"  # decided once: torch's fused bilinear kernel
    # the general polyphase path (conv_transpose2d + strips) on the layer's own taps
    general = prepare_upfirdn2d(m.taps, up, pad_mode=pad_mode, impl="generic")(x, m.taps)
    fast = m(x)
    assert max_err(fast, general) <= 1e-12
    assert max_err(fast, naive_blur_upsample(x, linear_taps(up).tolist(), up, pad_mode)) <= 1e-12


@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "blur"])
def test_fixed_methods_with_and_without_conv(method: str) -> None:
    x = torch.randn(2, 4, 5, 6)
    same = Upsample2d(4, 4, method)
    assert not same.has_conv and same(x).shape == (2, 4, 10, 12)
    resize_conv = Upsample2d(4, 2, method, kernel_size=3)
    assert resize_conv.has_conv and resize_conv(x).shape == (2, 2, 10, 12)
    fixed = Upsample2d(4, 4, method)(x)
    expected = resize_conv.conv(fixed)
    assert max_err(resize_conv(x), expected) <= 1e-6
    if method != "blur":
        ref = F.interpolate(x, scale_factor=2, mode=method)
        assert max_err(fixed, ref) <= 1e-6


@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("up", [2, 3])
def test_transposed_padding_gives_exact_size(kernel_size: int, up: int) -> None:
    padding, output_padding = transposed_padding(kernel_size, up)
    assert 0 <= output_padding < up
    for n in (1, 4, 7):
        out = (n - 1) * up - 2 * padding + kernel_size + output_padding
        assert out == up * n


def test_transposed_bilinear_init_is_bilinear_interpolation_inside() -> None:
    m = Upsample2d(3, 3, "transposed", kernel_size=4, init="bilinear")
    x = torch.randn(1, 3, 6, 6)
    ref = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert max_err(m(x)[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1]) <= 1e-6


@pytest.mark.parametrize("kernel_size", [2, 3, 4, 6])
def test_transposed_icnr_init_has_no_checkerboard(kernel_size: int) -> None:
    m = Upsample2d(3, 4, "transposed", kernel_size=kernel_size, init="icnr")
    w = m.body.weight.detach()
    # every polyphase component of the kernel sums to the same value: a constant input gives
    # a constant output away from the borders
    sums = torch.stack([w[:, :, i::2, j::2].sum((2, 3)) for i in range(2) for j in range(2)])
    assert torch.allclose(sums, sums[:1].expand_as(sums), atol=1e-6)
    y = m(torch.ones(1, 3, 8, 8))
    inner = y[..., kernel_size:-kernel_size, kernel_size:-kernel_size]
    assert float(inner.detach().std(dim=(2, 3)).max()) <= 1e-5


def test_pixel_shuffle_icnr_starts_as_nearest() -> None:
    m = Upsample2d(3, 2, "pixel_shuffle")  # init defaults to icnr
    assert m.init == "icnr"
    y = m(torch.randn(1, 3, 5, 5))
    assert torch.equal(y[..., 0::2, 0::2], y[..., 1::2, 1::2])
    assert torch.equal(y[..., 0::2, 1::2], y[..., 1::2, 0::2])
    plain = Upsample2d(3, 2, "pixel_shuffle", init="default")
    z = plain(torch.randn(1, 3, 5, 5))
    assert not torch.equal(z[..., 0::2, 0::2], z[..., 1::2, 1::2])


def test_transposed_blur_is_transposed_then_blur() -> None:
    from antialias.layers import blur_pool2d

    m = Upsample2d(3, 2, "transposed_blur", kernel_size=3, taps=3, pad_mode="replicate")
    x = torch.randn(1, 3, 5, 6)
    ref = blur_pool2d(m.body(x), 3, down=1, pad_mode="replicate")
    assert max_err(m(x), ref) <= 1e-6
    t = nn.ConvTranspose2d(3, 2, 2, stride=2)
    wrapped = ConvTransposeBlur2d.from_conv_transpose(t, taps=1)
    assert wrapped.weight is t.weight and max_err(wrapped(x), t(x)) <= 1e-6


def test_gradcheck_and_layouts() -> None:
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    for taps, mode in (([1.0, 3.0, 3.0, 1.0], "reflect"), (5, "circular")):
        f = lambda t, taps=taps, mode=mode: blur_upsample2d(t, taps, 2, mode)  # noqa: E731
        assert gradcheck(f, (x,), fast_mode=True)
    base = torch.randn(2, 3, 6, 8)
    ref = blur_upsample2d(base, 5, 2, "reflect")
    cl = base.contiguous(memory_format=torch.channels_last)
    assert max_err(blur_upsample2d(cl, 5, 2, "reflect"), ref) <= 1e-6
    nc = base.transpose(2, 3).contiguous().transpose(2, 3)
    assert max_err(blur_upsample2d(nc, 5, 2, "reflect"), ref) <= 1e-6


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_runs(dtype: torch.dtype) -> None:
    x = torch.randn(1, 3, 6, 6)
    for method in ("nearest", "bilinear", "blur", "transposed", "transposed_blur", "pixel_shuffle"):
        m = Upsample2d(3, 2, method).to(dtype)
        y = m(x.to(dtype))
        assert y.dtype == dtype and y.shape == (1, 2, 12, 12) and bool(torch.isfinite(y).all())


def test_torch_compile_traces_whole_graph() -> None:
    x = torch.randn(1, 3, 8, 8)
    for method in ("blur",):  # the others are torch modules plus the blur of blur-pool
        m = Upsample2d(3, 2, method)
        compiled = torch.compile(m, backend="aot_eager", fullgraph=True)
        assert max_err(compiled(x), m(x)) <= 1e-6


def test_small_maps() -> None:
    for size in ((1, 1), (2, 2), (1, 3)):
        x = torch.randn(1, 2, *size, dtype=torch.float64)
        for pad_mode in PAD_MODES:
            y = blur_upsample2d(x, 6, 2, pad_mode)
            assert max_err(y, naive_blur_upsample(x, [1, 5, 10, 10, 5, 1], 2, pad_mode)) <= 1e-12


def test_extra_repr_reads_like_a_spec() -> None:
    text = repr(Upsample2d(8, 4, "blur", taps=4))
    assert "method='blur'" in text and "up=2" in text and "taps=4 [0.25, 0.75, 0.75, 0.25]" in text
    assert "kernel_size=3" in text and "pad_mode='reflect'" in text
    assert Upsample2d(3, 3, "blur").state_dict() == {}  # the filter is a non-persistent buffer


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"expected method to be one of .*'aps', got 'deconv'"):
        Upsample2d(2, 2, "deconv")
    with pytest.raises(ValueError, match="expected taps=None for method 'bilinear'"):
        Upsample2d(2, 2, "bilinear", taps=3)
    with pytest.raises(ValueError, match="expected in_channels == out_channels for init='bil"):
        Upsample2d(4, 2, "transposed", init="bilinear")
    with pytest.raises(ValueError, match=r"expected init to be one of 'default', 'icnr', got"):
        Upsample2d(4, 2, "pixel_shuffle", init="bilinear")
    with pytest.raises(ValueError, match="expected conv=True .* got conv=False"):
        Upsample2d(4, 2, "nearest", conv=False)
    with pytest.raises(ValueError, match="expected up to be an integer >= 2, got 1"):
        Upsample2d(4, 2, "transposed", up=1)
    with pytest.raises(ValueError, match="expected input with 4 channels .* got 3"):
        Upsample2d(4, 2, "blur")(torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match="expected in_channels and out_channels"):
        Upsample2d(None, None, "transposed")
    with pytest.raises(ValueError, match=r"expected 1-D taps, got shape \(2, 2\)"):
        Upsample2d(2, 2, "blur", taps=torch.ones(2, 2))
    with pytest.raises(ValueError, match="expected pad_mode to be one of"):
        Upsample2d(2, 2, "blur", pad_mode="mirror")
    with pytest.raises(ValueError, match="expected kernel_size >= up for icnr"):
        Upsample2d(2, 2, "transposed", kernel_size=1, init="icnr")
    assert math.isfinite(float(Upsample2d(2, 2, "blur")(torch.randn(1, 2, 3, 3)).sum()))
