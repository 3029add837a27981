"""convert(): what it replaces, what it leaves, shapes unchanged, trained weights kept.

Exactness anchor: with ``taps=1`` (no blur) every replacement computes what the original did,
so the converted model must equal the original to rounding; with real taps only shapes and
the state-dict layout are preserved.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from antialias.layers import (
    ConvBlurPool2d,
    ConvTransposeBlur2d,
    MaxBlurPool2d,
    Upsample2d,
    convert,
)


class TinyUNet(nn.Module):
    """Two levels, one of each resampler the converter handles, plus two it must leave."""

    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(3, 8, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.enc1 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.down2 = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.avg = nn.AvgPool2d(2)
        self.bottom = nn.Conv2d(16, 16, 3, padding=1)
        self.up_avg = nn.Upsample(scale_factor=2, mode="nearest")
        self.up2 = nn.ConvTranspose2d(16, 16, 4, stride=2, padding=1)
        self.up1 = nn.ConvTranspose2d(32, 8, 2, stride=2)
        self.out = nn.Conv2d(16, 2, 1)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Conv2d(2, 2, (3, 1), stride=(2, 1)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x0 = F.relu(self.inc(x))
        x1 = self.enc1(self.pool1(x0))
        x2 = self.bottom(self.up_avg(self.avg(F.relu(self.down2(x1)))))
        y1 = self.up2(x2)
        y0 = self.up1(torch.cat([y1, x1], 1))
        out = self.out(torch.cat([y0, x0], 1))
        return out, self.head(out)


def test_report_lists_changes_and_leftovers() -> None:
    net = TinyUNet()
    new, report = convert(net)
    changed = {c.name: c for c in report.changed}
    assert set(changed) == {"pool1", "down2", "avg", "up_avg", "up2", "up1"}
    assert changed["down2"].weights == "kept" and changed["up2"].weights == "kept"
    assert changed["pool1"].weights == "none"
    left = {c.name: c.reason for c in report.left}
    assert set(left) == {"head.0", "head.1"}
    assert "AdaptiveAvgPool2d" in left["head.0"] and "stride (2, 1)" in left["head.1"]
    assert isinstance(new.pool1, MaxBlurPool2d)
    assert isinstance(new.down2, ConvBlurPool2d) and isinstance(new.up2, ConvTransposeBlur2d)
    assert isinstance(new.up_avg, Upsample2d) and new.up_avg.method == "blur"
    text = str(report)
    assert "changed 6 module(s), left 2" in text and "head.1" in text
    # the original is untouched (deep copy by default)
    assert isinstance(net.pool1, nn.MaxPool2d) and net.down2.stride == (2, 2)


@pytest.mark.parametrize("size", [(32, 32), (24, 40)])
def test_shapes_and_state_dict_unchanged(size: tuple[int, int]) -> None:
    net = TinyUNet()
    new, _ = convert(net, taps=5, pad_mode="replicate")
    x = torch.randn(2, 3, *size)
    for a, b in zip(net(x), new(x)):
        assert a.shape == b.shape
    assert list(net.state_dict()) == list(new.state_dict())
    # a checkpoint of the original loads into the converted model, strictly
    new.load_state_dict(net.state_dict(), strict=True)


@pytest.mark.parametrize("size", [17, 23, 30])
def test_strided_layers_keep_size_for_every_input_size(size: int) -> None:
    layers = [
        nn.MaxPool2d(2),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.AvgPool2d(3, stride=2),
        nn.Conv2d(2, 3, 4, stride=3, padding=1),
        nn.Conv2d(2, 3, 3, stride=2, dilation=2),
    ]
    x = torch.randn(1, 2, size, size + 3)
    for layer in layers:
        new, report = convert(nn.Sequential(layer), taps=4)
        assert len(report.changed) == 1, report
        assert new(x).shape == layer(x).shape, (layer, new(x).shape, layer(x).shape)


def test_taps_one_changes_nothing_numerically() -> None:
    net = TinyUNet().double()
    # nearest == zeros + box [1, 1] with replicate edges: the blur up-sampler's exact twin
    new, _ = convert(net, taps=1, up_taps=[1.0, 1.0], pad_mode="replicate")
    x = torch.randn(2, 3, 24, 40, dtype=torch.float64)
    for a, b in zip(net(x), new(x)):
        err = float((a - b).detach().abs().max())
        assert err <= 1e-12, f"max abs error {err}"


def test_converted_weights_are_the_originals_and_training_works() -> None:
    net = TinyUNet()
    new, _ = convert(net, inplace=True)
    assert new is net
    assert isinstance(net.down2, ConvBlurPool2d)
    out, _ = net(torch.randn(1, 3, 16, 16))
    out.sum().backward()
    assert net.down2.weight.grad is not None and net.up2.weight.grad is not None


def test_replace_transposed_by_up_method() -> None:
    net = TinyUNet()
    new, report = convert(net, up="bilinear")
    changed = {c.name: c for c in report.changed}
    assert isinstance(new.up1, Upsample2d) and new.up1.method == "bilinear"
    assert changed["up1"].weights == "new"
    x = torch.randn(1, 3, 16, 16)
    assert new(x)[0].shape == net(x)[0].shape


def test_transposed_with_other_size_is_left_when_replacing() -> None:
    odd = nn.Sequential(nn.ConvTranspose2d(4, 4, 3, stride=2))  # 2H + 1: no resize matches
    new, report = convert(odd, up="nearest")
    assert not report.changed and "not exactly 2x" in report.left[0].reason
    assert type(new[0]) is nn.ConvTranspose2d


def test_down_or_up_none_leaves_that_direction() -> None:
    net = TinyUNet()
    _, report = convert(net, down=None)
    assert {c.name for c in report.changed} == {"up_avg", "up2", "up1"}
    assert {"pool1", "down2", "avg"} <= {c.name for c in report.left}
    _, report = convert(net, up=None)
    assert {c.name for c in report.changed} == {"pool1", "down2", "avg"}


def test_pools_it_cannot_reproduce_are_left() -> None:
    seq = nn.Sequential(nn.MaxPool2d(2, ceil_mode=True), nn.MaxPool2d(2, return_indices=False))
    _, report = convert(seq)
    assert [c.name for c in report.left] == ["0"] and "ceil_mode" in report.left[0].reason


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="expected down to be 'blurpool' or None, got 'max'"):
        convert(nn.Identity(), down="max")
    with pytest.raises(ValueError, match="expected up to be one of"):
        convert(nn.Identity(), up="deconv")
    with pytest.raises(ValueError, match="paired APS"):
        convert(nn.Identity(), up="aps")
    with pytest.raises(ValueError, match="pad_mode"):
        convert(nn.Identity(), pad_mode="mirror")
    with pytest.raises(TypeError, match="expected model to be an nn.Module"):
        convert("unet")  # type: ignore[arg-type]


monai_nets = pytest.importorskip("monai.networks.nets")


def _monai_models() -> list[nn.Module]:
    torch.manual_seed(0)
    unet = monai_nets.UNet(
        spatial_dims=2,
        in_channels=1,
        out_channels=2,
        channels=(4, 8, 16),
        strides=(2, 2),
        num_res_units=1,
    )
    basic = monai_nets.BasicUNet(
        spatial_dims=2, in_channels=1, out_channels=2, features=(4, 4, 8, 8, 16, 4)
    )
    return [unet.double().eval(), basic.double().eval()]


@pytest.mark.parametrize("index", [0, 1], ids=["UNet", "BasicUNet"])
def test_monai_unets(index: int) -> None:
    net = _monai_models()[index]
    x = torch.randn(2, 1, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        ref = net(x)
        exact, report = convert(net, taps=1)
        err = float((exact(x) - ref).abs().max())
        assert err <= 1e-12, f"taps=1 conversion changed the output: max abs error {err}"
        assert not report.left, str(report)
        kinds = {type(m).__name__ for m in exact.modules()}
        if index == 0:  # strided convs down, transposed convs up
            assert {"ConvBlurPool2d", "ConvTransposeBlur2d"} <= kinds
            assert sum(c.weights == "kept" for c in report.changed) == len(report.changed)
        else:  # max-pools down, transposed convs up
            assert {"MaxBlurPool2d", "ConvTransposeBlur2d"} <= kinds
        blurred, _ = convert(net, taps=3)
        out = blurred(x)
        assert out.shape == ref.shape
        assert float((out - ref).abs().max()) > 1e-6  # the blur does change the function
        assert list(blurred.state_dict()) == list(net.state_dict())


def test_our_own_transposed_unet_gets_its_transposed_convs_blurred() -> None:
    """A study U-Net with learned transposed up-sampling is converted inside Upsample2d."""
    from antialias.models import build_variant

    net = build_variant("tconv4", in_channels=1, out_channels=2).eval()
    new, report = convert(net, down="blurpool", up="blur")
    changed = {c.name: c.weights for c in report.changed}
    tconvs = [n for n, m in net.named_modules() if isinstance(m, nn.ConvTranspose2d)]
    assert tconvs and all(changed.get(n) == "kept" for n in tconvs), report
    assert set(new.state_dict()) == set(net.state_dict())
    x = torch.randn(1, 1, 32, 32)
    assert new(x).shape == net(x).shape


def test_fixed_interpolation_unet_is_reported_as_left() -> None:
    from antialias.models import build_variant

    net = build_variant("bilinear", in_channels=1, out_channels=2)
    _, report = convert(net)
    assert any("fixed interpolation" in c.reason for c in report.left), report
