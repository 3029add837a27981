"""BlurPool2d / MaxBlurPool2d / ConvBlurPool2d against a naive reference, kornia and
antialiased-cnns; module == function; layouts, dtypes, gradients, compile; exact circular
shift property; small maps; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.autograd import gradcheck
from torch.nn import functional as F

from antialias.layers import (
    BlurPool2d,
    ConvBlurPool2d,
    MaxBlurPool2d,
    blur_pool2d,
    max_blur_pool2d,
)

PAD_MODES = ["zeros", "reflect", "replicate", "circular"]
NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def naive_blur_pool(
    x: torch.Tensor, k: int, down: int, pad_mode: str, split: str = "adobe"
) -> torch.Tensor:
    """Loop-free but obvious: numpy.pad, explicit 2-D binomial kernel, every output summed."""
    if split == "adobe":
        before, after = (k - 1) // 2, k // 2
    else:
        before = after = ((down - 1) + (k - 1)) // 2
    a = np.array([math.comb(k - 1, i) for i in range(k)], dtype=np.float64)
    kernel = np.outer(a, a) / a.sum() ** 2
    xp = np.pad(
        x.detach().double().numpy(),
        ((0, 0), (0, 0), (before, after), (before, after)),
        mode=NUMPY_MODE[pad_mode],
    )
    out_h = (xp.shape[2] - k) // down + 1
    out_w = (xp.shape[3] - k) // down + 1
    y = np.zeros(x.shape[:2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = xp[:, :, i * down : i * down + k, j * down : j * down + k]
            y[:, :, i, j] = (window * kernel).sum(axis=(2, 3))
    return torch.from_numpy(y)


def max_err(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((a.double() - b.double()).detach().abs().max())


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("down", [2, 3])
@pytest.mark.parametrize("size", [(16, 16), (15, 20)])
def test_matches_naive_reference(pad_mode: str, k: int, down: int, size: tuple) -> None:
    # 16+ pixels: the border-strip fast path; smaller maps take the padded path (below)
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    y = blur_pool2d(x, k, down, pad_mode)
    ref = naive_blur_pool(x, k, down, pad_mode)
    assert y.shape[-2:] == (math.ceil(size[0] / down), math.ceil(size[1] / down))
    err = max_err(y, ref)
    assert err <= 1e-12, f"max abs error {err}"


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("pad_mode", ["reflect", "zeros"])
def test_symmetric_split_matches_timm_convention(k: int, pad_mode: str) -> None:
    x = torch.randn(1, 2, 13, 16, dtype=torch.float64)
    y = BlurPool2d(taps=k, pad_mode=pad_mode, pad_split="symmetric").double()(x)
    ref = naive_blur_pool(x, k, 2, pad_mode, split="symmetric")
    p = (1 + (k - 1)) // 2
    assert y.shape[-2] == (13 + 2 * p - k) // 2 + 1
    assert max_err(y, ref) <= 1e-12


@pytest.mark.parametrize("k", range(1, 8))
def test_equals_kornia_zero_padding(k: int) -> None:
    kornia = pytest.importorskip("kornia")
    x = torch.randn(2, 4, 17, 22)
    for stride in (1, 2, 3):
        ref = kornia.filters.blur_pool2d(x, k, stride=stride)
        ours = blur_pool2d(x, k, stride, pad_mode="zeros")
        assert max_err(ours, ref) <= 1e-6, f"k={k} stride={stride}: {max_err(ours, ref)}"
        mod = kornia.filters.BlurPool2D(k, stride=stride)(x)
        assert max_err(BlurPool2d(4, k, stride, "zeros")(x), mod) <= 1e-6
    ref = kornia.filters.MaxBlurPool2D(k, stride=2, max_pool_size=2)(x)
    assert max_err(MaxBlurPool2d(4, k, 2, "zeros")(x), ref) <= 1e-6
    assert max_err(max_blur_pool2d(x, k, 2, "zeros"), ref) <= 1e-6


@pytest.mark.parametrize("filt_size", range(1, 8))
@pytest.mark.parametrize("pad_type", ["reflect", "replicate", "zero"])
@pytest.mark.parametrize("stride", [2, 3])
def test_equals_antialiased_cnns(filt_size: int, pad_type: str, stride: int) -> None:
    aa = pytest.importorskip("antialiased_cnns")
    x = torch.randn(2, 5, 24, 19)
    ref = aa.BlurPool(5, pad_type=pad_type, filt_size=filt_size, stride=stride)(x)
    mode = {"zero": "zeros"}.get(pad_type, pad_type)
    ours = BlurPool2d(5, filt_size, stride, mode)(x)
    err = max_err(ours, ref)
    assert err <= 1e-6, f"max abs error {err}"


def test_module_equals_function_and_repr() -> None:
    x = torch.randn(2, 3, 18, 18)
    m = BlurPool2d(3, taps=[1.0, 4.0, 6.0, 4.0, 1.0], down=2, pad_mode="replicate")
    assert torch.equal(m(x), blur_pool2d(x, 5, 2, "replicate"))
    mb = MaxBlurPool2d(3, taps=4, pad_mode="circular")
    assert torch.equal(mb(x), max_blur_pool2d(x, 4, 2, "circular"))
    text = repr(m)
    assert "taps=5 [0.0625, 0.25, 0.375, 0.25, 0.0625]" in text
    assert "down=2" in text and "pad_mode='replicate'" in text and "pad_split='adobe'" in text


def test_filter_is_a_non_persistent_buffer_moving_with_the_module() -> None:
    m = BlurPool2d(3, taps=4)
    assert "taps" in dict(m.named_buffers()) and m.state_dict() == {}
    assert m.double().taps.dtype == torch.float64
    m = BlurPool2d(3, taps=3, device="cpu", dtype=torch.float64)
    assert m.taps.dtype == torch.float64 and m.taps.device.type == "cpu"


@pytest.mark.parametrize("pad_mode", PAD_MODES)
def test_non_contiguous_and_channels_last(pad_mode: str) -> None:
    base = torch.randn(2, 3, 20, 24)
    ref = blur_pool2d(base, 5, 2, pad_mode)
    transposed = base.transpose(2, 3).contiguous().transpose(2, 3)  # same values, odd strides
    assert not transposed.is_contiguous()
    assert max_err(blur_pool2d(transposed, 5, 2, pad_mode), ref) <= 1e-6
    cl = base.contiguous(memory_format=torch.channels_last)
    assert max_err(blur_pool2d(cl, 5, 2, pad_mode), ref) <= 1e-6
    sliced = torch.randn(2, 6, 20, 48)[:, ::2, :, ::2]
    ref2 = blur_pool2d(sliced.contiguous(), 3, 2, pad_mode)
    assert max_err(blur_pool2d(sliced, 3, 2, pad_mode), ref2) <= 1e-6


@pytest.mark.parametrize("pad_mode", PAD_MODES)
def test_gradcheck_float64(pad_mode: str) -> None:
    # 10x11 takes the border-strip path for k=3 (its backward is the one to check)
    x = torch.randn(1, 1, 10, 11, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda t: blur_pool2d(t, 3, 2, pad_mode), (x,), fast_mode=True)
    small = torch.randn(1, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda t: max_blur_pool2d(t, 4, 2, pad_mode), (small,), fast_mode=True)
    conv = ConvBlurPool2d(2, 1, taps=3, pad_mode=pad_mode, dtype=torch.float64)
    assert gradcheck(conv, (small,), fast_mode=True)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_runs(dtype: torch.dtype) -> None:
    x = torch.randn(2, 3, 20, 20)
    ref = blur_pool2d(x, 3, 2, "reflect")
    for m in (BlurPool2d(3), MaxBlurPool2d(3), ConvBlurPool2d(3, 4)):
        y = m.to(dtype)(x.to(dtype))
        assert y.dtype == dtype and bool(torch.isfinite(y).all())
    y = BlurPool2d(3).to(dtype)(x.to(dtype))
    assert max_err(y, ref) <= 2e-2


def test_torch_compile_traces_whole_graph() -> None:
    # aot_eager: dynamo capture + autograd tracing without C++ codegen (fast enough for CI)
    x = torch.randn(2, 3, 20, 20)
    for m in (BlurPool2d(3, pad_mode="reflect"), ConvBlurPool2d(3, 4)):
        compiled = torch.compile(m, backend="aot_eager", fullgraph=True)
        assert max_err(compiled(x), m(x)) <= 1e-6


@pytest.mark.parametrize("k", [1, 3, 4])
@pytest.mark.parametrize("down", [2, 3])
def test_circular_shift_by_multiples_of_down_is_exact(k: int, down: int) -> None:
    h, w = 8 * down, 6 * down  # large enough for the fast path
    x = torch.randn(2, 3, h, w, dtype=torch.float64)
    m = BlurPool2d(taps=k, down=down, pad_mode="circular").double()
    y = m(x)
    for sy, sx in [(1, 0), (0, 1), (2, 3), (-1, 5)]:
        shifted = m(torch.roll(x, (sy * down, sx * down), dims=(2, 3)))
        assert torch.equal(shifted, torch.roll(y, (sy, sx), dims=(2, 3))), (sy, sx)


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (1, 3), (3, 2)])
@pytest.mark.parametrize("pad_mode", PAD_MODES)
def test_small_maps_work_for_every_pad_mode(size: tuple, pad_mode: str) -> None:
    # the published layer fails here (F.pad refuses reflect padding >= size): numpy.pad's
    # periodic extension is the reference (reflect on one sample extends as a constant)
    x = torch.randn(1, 2, *size, dtype=torch.float64)
    for k in (3, 5, 7):
        y = blur_pool2d(x, k, 2, pad_mode)
        assert max_err(y, naive_blur_pool(x, k, 2, pad_mode)) <= 1e-12
    assert MaxBlurPool2d(2, 3, pad_mode=pad_mode).double()(torch.randn(1, 2, 2, 2).double()).shape[
        -2:
    ] == (1, 1)


def test_constant_input_stays_constant_except_zero_padding() -> None:
    x = torch.full((1, 2, 16, 16), 3.0, dtype=torch.float64)
    for mode in ("reflect", "replicate", "circular"):
        assert torch.allclose(blur_pool2d(x, 5, 2, mode), torch.full((1, 2, 8, 8), 3.0).double())
    y = blur_pool2d(x, 5, 2, "zeros")
    assert y[0, 0, 0, 0] < 3.0 and y[0, 0, 4, 4] == 3.0


def test_taps_one_is_plain_decimation() -> None:
    x = torch.randn(2, 3, 9, 10)
    assert torch.equal(BlurPool2d(taps=1, down=3)(x), x[:, :, ::3, ::3])
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    assert max_err(ConvBlurPool2d.from_conv(conv, taps=1)(x), conv(x)) <= 1e-6


def test_conv_blur_pool_shares_weights_and_keeps_size() -> None:
    conv = nn.Conv2d(3, 4, 5, stride=2, padding=1, dilation=2, bias=False)
    new = ConvBlurPool2d.from_conv(conv, taps=3)
    assert new.weight is conv.weight and new.bias is None and conv.stride == (2, 2)
    for size in (11, 12, 17):
        x = torch.randn(1, 3, size, size + 1)
        assert new(x).shape == conv(x).shape
    explicit = F.conv2d(x, conv.weight, padding=1, dilation=2)
    assert max_err(new(x), blur_pool2d(explicit, 3, 2, "reflect")) <= 1e-6


def test_bad_input_errors_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="expected input with 3 channels .* got 4"):
        BlurPool2d(3)(torch.randn(1, 4, 8, 8))
    with pytest.raises(ValueError, match="expected down to be an integer >= 1, got 0"):
        BlurPool2d(down=0)
    with pytest.raises(TypeError, match="expected down to be an integer >= 1, got 2.0"):
        blur_pool2d(torch.randn(1, 1, 4, 4), 3, 2.0)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"expected pad_mode to be one of 'zeros', .*, got 'mirror'"
    ):
        BlurPool2d(pad_mode="mirror")
    with pytest.raises(ValueError, match="expected pad_split to be one of"):
        BlurPool2d(pad_split="timm")
    with pytest.raises(ValueError, match=r"expected 1-D taps, got shape \(3, 3\)"):
        BlurPool2d(taps=torch.ones(3, 3))
    with pytest.raises(ValueError, match="expected at least one tap"):
        BlurPool2d(taps=[])
    with pytest.raises(ValueError, match="non-zero sum"):
        BlurPool2d(taps=[1.0, -1.0])
    with pytest.raises(
        ValueError, match=r"expected input of shape \(B, C, H, W\), got \(4, 8, 8\)"
    ):
        BlurPool2d()(torch.randn(4, 8, 8))
    with pytest.raises(TypeError, match="expected a floating-point input, got torch.int64"):
        BlurPool2d()(torch.ones(1, 1, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="expected channels to be an integer >= 1, got 0"):
        MaxBlurPool2d(0)
    with pytest.raises(ValueError, match="expected equal strides"):
        ConvBlurPool2d.from_conv(nn.Conv2d(1, 1, 3, stride=(2, 1)))
