"""convert() on 1-D and 3-D networks (MONAI's included), its options and its report.

Exactness anchor as in ``test_convert.py``: with ``taps=1`` every replacement computes what
the original did, so the converted model equals the original to rounding. The blurred
conversions are checked against naive references written here (a depthwise conv with the
binomial outer product), and a circular 3-D network against its own shifted output.
"""

from __future__ import annotations

import inspect
import json

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from antialias.exact import is_exact, max_relative_error
from antialias.layers import (
    BlurConv2d,
    BlurConv3d,
    BlurUpsample1d,
    BlurUpsample3d,
    ConvBlurPool1d,
    ConvBlurPool3d,
    ConvTransposeBlur1d,
    ConvTransposeBlur3d,
    MaxBlurPool1d,
    MaxBlurPool3d,
    PixelShuffle3d,
    PixelShuffleBlur,
    convert,
    scan_functional,
)

monai_nets = pytest.importorskip("monai.networks.nets")
monai_blocks = pytest.importorskip("monai.networks.blocks")


def _small_unet() -> nn.Module:
    torch.manual_seed(0)
    return monai_nets.UNet(3, 1, 2, channels=(4, 8, 8), strides=(2, 2), num_res_units=1)


def _small_basic_unet() -> nn.Module:
    torch.manual_seed(0)
    return monai_nets.BasicUNet(3, 1, 2, features=(4, 4, 4, 8, 8, 4))


@pytest.mark.parametrize("build", [_small_unet, _small_basic_unet], ids=["UNet", "BasicUNet"])
def test_monai_3d_unets_convert_exactly_with_taps_1(build) -> None:
    net = build().double().eval()
    x = torch.randn(1, 1, 32, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        ref = net(x)
        exact, report = convert(net, taps=1)
        assert is_exact(exact(x), ref), max_relative_error(exact(x), ref)
        assert not report.left, str(report)
        assert report.changed and all(c.keys or c.weights == "none" for c in report.changed)
        kinds = {type(m).__name__ for m in exact.modules()}
        assert "ConvTransposeBlur3d" in kinds
        assert ("ConvBlurPool3d" in kinds) or ("MaxBlurPool3d" in kinds)
        # nothing 3-D is left a plain strided torch layer
        for m in exact.modules():
            if type(m) in (nn.Conv3d, nn.ConvTranspose3d, nn.MaxPool3d):
                assert all(s == 1 for s in m.stride), m
        blurred, _ = convert(net, taps=3)
        out = blurred(x)
    assert out.shape == ref.shape
    assert float((out - ref).abs().max()) > 1e-6  # the blur does change the function
    assert list(blurred.state_dict()) == list(net.state_dict())
    assert report.scan == "fx" and not report.warnings


def test_circular_basic_unet_3d_is_exact_at_period_shifts() -> None:
    """BasicUNet with every conv circular, converted with circular blurs: 4 levels, period 16."""
    net = _small_basic_unet().double().eval()
    for m in net.modules():
        if isinstance(m, nn.Conv3d):
            m.padding_mode = "circular"
    new, report = convert(net, taps=3, pad_mode="circular")
    assert not report.left
    x = torch.randn(1, 1, 32, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        y = new(x)
        for shift in [(16, 0, 16), (0, 16, 0)]:
            ys = new(torch.roll(x, shift, dims=(2, 3, 4)))
            want = torch.roll(y, shift, dims=(2, 3, 4))
            assert is_exact(ys, want), (shift, max_relative_error(ys, want))
        # a shift by 1 is not a multiple of the period: not equivariant (the test can fail)
        ys = new(torch.roll(x, 1, dims=2))
        assert max_relative_error(ys, torch.roll(y, 1, dims=2)) > 1e-6


class Net1d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv1d(2, 4, 3, stride=2, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.avg = nn.AvgPool1d(2)
        self.up = nn.ConvTranspose1d(4, 4, 2, stride=2)
        self.interp = nn.Upsample(scale_factor=2, mode="linear")
        self.head = nn.Conv1d(4, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.interp(self.up(self.avg(self.pool(self.down(x))))))


def test_1d_network_every_resampler_converted() -> None:
    net = Net1d().double()
    new, report = convert(net, taps=1, up_taps=[1.0, 3.0, 3.0, 1.0], pad_mode="replicate")
    got = {c.name: c.replacement for c in report.changed}
    assert got == {
        "down": "ConvBlurPool1d",
        "pool": "MaxBlurPool1d",
        "avg": "Sequential",
        "up": "ConvTransposeBlur1d",
        "interp": "BlurUpsample1d",
    }
    assert isinstance(new.down, ConvBlurPool1d) and isinstance(new.pool, MaxBlurPool1d)
    assert isinstance(new.up, ConvTransposeBlur1d) and isinstance(new.interp, BlurUpsample1d)
    x = torch.randn(2, 2, 24, dtype=torch.float64)
    # taps=1 everywhere and [1, 3, 3, 1] replicate = torch's linear interpolation: exact
    assert is_exact(new(x), net(x)), max_relative_error(new(x), net(x))
    assert list(new.state_dict()) == list(net.state_dict())


def _binomial3(dims: int, channels: int, dtype: torch.dtype) -> torch.Tensor:
    t = torch.tensor([1.0, 2.0, 1.0], dtype=dtype) / 4
    k = t
    for _ in range(dims - 1):
        k = k[..., None] * t
    return k.expand(channels, 1, *k.shape).contiguous()


def test_blur_before_strided_conv_matches_a_naive_reference() -> None:
    torch.manual_seed(1)
    conv = nn.Conv3d(2, 3, 3, stride=2, padding=1).double()
    net = nn.Sequential(conv)
    new, report = convert(net, taps=3, pad_mode="reflect", blur_position="before")
    assert isinstance(new[0], BlurConv3d) and report.changed[0].replacement == "BlurConv3d"
    assert report.changed[0].keys == ("0.weight", "0.bias")
    x = torch.randn(1, 2, 8, 10, 6, dtype=torch.float64)
    blurred = F.conv3d(F.pad(x, (1,) * 6, mode="reflect"), _binomial3(3, 2, x.dtype), groups=2)
    want = conv(blurred)
    assert is_exact(new(x), want), max_relative_error(new(x), want)
    # "after" (the default) is a different layer with the same output size
    after, _ = convert(net, taps=3)
    assert isinstance(after[0], ConvBlurPool3d) and after(x).shape == want.shape
    # 2-D too; taps=1 "before" is the original conv
    conv2 = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1)).double()
    new2, _ = convert(conv2, taps=1, blur_position="before")
    x2 = torch.randn(1, 2, 9, 8, dtype=torch.float64)
    assert isinstance(new2[0], BlurConv2d) and is_exact(new2(x2), conv2(x2))


def test_skip_first_leaves_the_first_down_samplers() -> None:
    net = nn.Sequential(
        nn.Conv3d(1, 4, 3, stride=2, padding=1),
        nn.MaxPool3d(2),
        nn.Conv3d(4, 4, 3, stride=2, padding=1),
    )
    new, report = convert(net, skip_first=1)
    assert type(new[0]) is nn.Conv3d and new[0].stride == (2, 2, 2)
    assert isinstance(new[1], MaxBlurPool3d) and isinstance(new[2], ConvBlurPool3d)
    assert [(c.name, c.reason) for c in report.left] == [("0", "skip_first=1")]
    new2, report2 = convert(net, skip_first=5)
    assert not report2.changed and len(report2.left) == 3
    with pytest.raises(ValueError, match="skip_first"):
        convert(net, skip_first=-1)
    with pytest.raises(ValueError, match="blur_position"):
        convert(net, blur_position="middle")


def test_upsample_3d_and_monai_nontrainable_upsampler() -> None:
    torch.manual_seed(2)
    up = monai_blocks.UpSample(3, 4, 4, scale_factor=2, mode="nontrainable", align_corners=False)
    new, report = convert(up, up_taps=[1.0, 3.0, 3.0, 1.0], pad_mode="replicate")
    assert [c.replacement for c in report.changed] == ["BlurUpsample3d"]
    x = torch.randn(1, 4, 3, 4, 5, dtype=torch.float64)
    up, new = up.double(), new.double()
    # MONAI's default interpolation is trilinear; with align_corners=False it is [1,3,3,1]
    assert isinstance(dict(new.named_modules())[report.changed[0].name], BlurUpsample3d)
    assert is_exact(new(x), up(x)), max_relative_error(new(x), up(x))


def test_monai_pixel_shuffle_3d_gets_a_blur_and_keeps_its_weights() -> None:
    torch.manual_seed(3)
    block = monai_blocks.UpSample(3, 4, 2, scale_factor=2, mode="pixelshuffle").double()
    x = torch.randn(1, 4, 3, 4, 4, dtype=torch.float64)
    exact, report = convert(block, taps=1)
    assert report.changed and report.changed[0].kind == "SubpixelUpsample"
    assert is_exact(exact(x), block(x))
    assert list(exact.state_dict()) == list(block.state_dict())
    assert not report.warnings, str(report)  # the shuffle it handled is not a warning
    blurred, _ = convert(block, taps=3)
    assert blurred(x).shape == block(x).shape
    assert float((blurred(x) - block(x)).abs().max().detach()) > 1e-6
    # left alone (up=None): the functional shuffle in its forward is reported with its line
    _, report_none = convert(block, up=None)
    assert [c.reason for c in report_none.left] == ["up=None"]
    assert [w.call for w in report_none.warnings] == ["pixelshuffle"]


def test_pixel_shuffle_modules_get_a_blur() -> None:
    net = nn.Sequential(nn.Conv3d(2, 16, 1), PixelShuffle3d(2), nn.PixelShuffle(1))
    new, report = convert(net)
    assert isinstance(new[1], PixelShuffleBlur) and isinstance(new[2], PixelShuffleBlur)
    assert new(torch.randn(1, 2, 2, 3, 3)).shape == (1, 2, 4, 6, 6)


class Functional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.w = nn.Parameter(torch.randn(2, 2, 3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(self.conv(x), 2)
        x = F.conv2d(x, self.w, None, 2, 1)
        x = F.conv2d(x, self.w, padding=1)  # stride 1: not a resampler
        x = F.interpolate(x, scale_factor=2.0)
        return x[:, :, ::2, ::2]


class Wrapper(nn.Module):
    def __init__(self, control_flow: bool) -> None:
        super().__init__()
        self.block = Functional()
        self.control_flow = control_flow

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.control_flow and bool(x.sum() > 0):  # fx cannot trace this
            x = -x
        return self.block(x)


def _lines_of(cls: type, needles: list[str]) -> list[int]:
    lines, start = inspect.getsourcelines(cls.forward)
    return [start + next(i for i, t in enumerate(lines) if n in t) for n in needles]


@pytest.mark.parametrize("control_flow", [False, True], ids=["fx", "ast"])
def test_functional_resampling_is_reported_with_its_location(control_flow: bool) -> None:
    net = Wrapper(control_flow)
    _, report = convert(net)
    assert report.scan.startswith("ast" if control_flow else "fx")
    calls = [w.call for w in report.warnings]
    assert sorted(calls) == sorted(["max_pool2d", "conv2d", "interpolate", "getitem[::step]"])
    needles = ["F.max_pool2d", "self.w, None, 2, 1", "F.interpolate", "::2"]
    want = [f"test_convert_nd.py:{n}" for n in _lines_of(Functional, needles)]
    assert sorted(w.location for w in report.warnings) == sorted(want)
    assert {w.module for w in report.warnings} == {"block"}
    assert all(w.source and w.message for w in report.warnings)
    text = str(report)
    assert "4 functional resampling call(s)" in text and "block: max_pool2d at" in text
    data = json.loads(report.to_json())
    assert [f["call"] for f in data["functional"]] == calls
    # the scan can be turned off, and it finds nothing in a model without such calls
    assert not convert(net, scan=False)[1].warnings
    found, how = scan_functional(nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2)))
    assert found == [] and how == "fx"


def test_report_table_and_json_forms() -> None:
    net = nn.Sequential(
        nn.Conv3d(1, 4, 3, stride=2, padding=1),
        nn.AdaptiveAvgPool3d(2),
        nn.ConvTranspose3d(4, 2, 2, stride=2),
    )
    new, report = convert(net)
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == "changed 2 module(s), left 1"
    assert lines[1].split()[:4] == ["module", "status", "original", "replacement"]
    assert any(line.split()[:4] == ["0", "changed", "Conv3d", "ConvBlurPool3d"] for line in lines)
    assert any("AdaptiveAvgPool3d is not handled" in line for line in lines)
    assert f"{report}" == text and format(report, "") == text
    rows = json.loads(report.to_json())["modules"]
    assert rows[0] == {
        "module": "0",
        "status": "changed",
        "original_type": "Conv3d",
        "replacement": "ConvBlurPool3d",
        "weights": "kept",
        "state_dict_keys_kept": ["0.weight", "0.bias"],
        "warnings": [],
        "before": report.changed[0].before,
        "after": report.changed[0].after,
    }
    assert rows[1]["replacement"] == "ConvTransposeBlur3d"
    assert rows[2]["status"] == "left" and rows[2]["warnings"]
    assert set(new.state_dict()) == set(net.state_dict())


def test_volume_shapes_unchanged_for_odd_sizes_and_anisotropic_strides() -> None:
    net = nn.Sequential(
        nn.Conv3d(1, 2, 3, stride=(1, 2, 2), padding=1),
        nn.MaxPool3d(2),
        nn.Upsample(scale_factor=(1, 2, 2)),
        nn.ConvTranspose3d(2, 2, 3, stride=2, padding=1, output_padding=1),
    )
    new, report = convert(net)
    assert not report.left, str(report)
    assert isinstance(new[2], BlurUpsample3d) and isinstance(new[3], ConvTransposeBlur3d)
    for size in [(8, 12, 16), (9, 13, 10)]:
        x = torch.randn(1, 1, *size)
        assert new(x).shape == net(x).shape


def test_3d_layers_convert_cannot_handle_are_reported_not_skipped() -> None:
    net = nn.Sequential(
        nn.MaxPool3d(2, dilation=(1, 1, 2)),  # non-cubic pools convert; dilated ones do not
        nn.MaxPool3d(2, ceil_mode=True),
        nn.Upsample(size=(4, 4, 4)),
        nn.ConvTranspose3d(2, 2, 2, stride=2),
        nn.Conv3d(2, 2, 3, padding=1),  # stride 1: not a resampler, not reported
    )
    _, report = convert(net, up="nearest")
    left = {c.name: c.reason for c in report.left}
    assert set(left) == {"0", "1", "2", "3"} and not report.changed
    assert "dilation" in left["0"] and "ceil_mode" in left["1"]
    assert "size=" in left["2"] and "2-D only" in left["3"]
    assert all(row["warnings"] for row in report.rows())


def test_scalar_upsample_takes_its_dims_from_the_model() -> None:
    """nn.Upsample(scale_factor=2, mode="nearest") does not say its dims: the convs do."""
    vol = nn.Sequential(nn.Conv3d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2))
    sig = nn.Sequential(nn.Conv1d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2))
    img = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2))
    got = [convert(m)[1].changed[0].replacement for m in (vol, sig, img)]
    assert got == ["BlurUpsample3d", "BlurUpsample1d", "Upsample2d"]
    assert convert(vol)[0](torch.randn(1, 1, 2, 3, 4)).shape == (1, 2, 4, 6, 8)
