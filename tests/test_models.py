"""Tests of antialias.models: every variant builds from the factories, config round trip, sizes,
levels, exact circular equivariance of the APS U-Net, and the size of the shipped set."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from antialias.exact import is_exact, max_relative_error
from antialias.layers import APSDown2d, APSUp2d, MaxBlurPool2d, Upsample2d
from antialias.models import (
    SHIPPED_DEPTH,
    VARIANTS,
    UNet,
    UNetConfig,
    build_variant,
    count_parameters,
)

EXPECTED_VARIANTS = [
    "tconv2",
    "tconv3",
    "tconv4",
    "nearest",
    "bilinear",
    "pixelshuffle",
    "blurpool_tconv4",
    "blurpool_bilinear",
    "blurpool_blur",
    "aps",
]


def test_variant_names_are_the_documented_ten() -> None:
    assert list(VARIANTS) == EXPECTED_VARIANTS


@pytest.mark.parametrize("name", EXPECTED_VARIANTS)
def test_variant_builds_runs_and_round_trips(name: str) -> None:
    net = build_variant(name, 1, 2).eval()
    assert net.num_downsamplings == SHIPPED_DEPTH and net.period == 2**SHIPPED_DEPTH
    for h, w in ((32, 32), (27, 41)):  # 27, 41: not multiples of 8 -> pad-and-crop
        x = torch.randn(2, 1, h, w)
        assert net(x).shape == (2, 2, h, w)
    config = json.loads(json.dumps(net.config))
    assert set(config) == set(UNetConfig.__annotations__)
    twin = UNet.from_config(config)
    assert twin.config == net.config
    twin.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(twin.eval()(x), net(x))


def test_variants_share_encoder_and_decoder_convs() -> None:
    def conv_shapes(net: UNet) -> list[tuple]:
        parts = [*net.encoders, net.bottleneck, *net.decoders, net.head]
        return [tuple(p.shape) for part in parts for p in part.parameters()]

    reference = conv_shapes(build_variant("bilinear", 1, 2))
    for name in VARIANTS:
        assert conv_shapes(build_variant(name, 1, 2)) == reference, name


def test_variants_use_the_documented_samplers() -> None:
    def kinds(name: str) -> tuple[set, set]:
        net = build_variant(name, 1, 2)
        return {type(m) for m in net.downs}, {getattr(m, "method", None) for m in net.ups}

    assert kinds("tconv4") == ({nn.MaxPool2d}, {"transposed"})
    assert kinds("blurpool_blur") == ({MaxBlurPool2d}, {"blur"})
    assert kinds("pixelshuffle") == ({nn.MaxPool2d}, {"pixel_shuffle"})
    aps = build_variant("aps", 1, 2)
    assert all(isinstance(m, APSDown2d) for m in aps.downs)
    # every APS up-sampler is paired with the down-sampler of its own level
    for i, up in enumerate(aps.ups):
        inner = [m for m in up.modules() if isinstance(m, APSUp2d)]
        assert isinstance(up, Upsample2d) and len(inner) == 1 and inner[0].pair is aps.downs[i]
    for name, k in (("tconv2", 2), ("tconv3", 3), ("tconv4", 4), ("blurpool_tconv4", 4)):
        net = build_variant(name, 1, 2)
        sizes = [m.kernel_size for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
        assert sizes == [(k, k)] * 3 and all(
            m.stride == (2, 2) for m in net.modules() if isinstance(m, nn.ConvTranspose2d)
        ), name


def test_aps_unet_is_exactly_circularly_equivariant_for_every_shift() -> None:
    net = build_variant("aps", 1, 2).double().eval()
    x = torch.randn(2, 1, 32, 32, dtype=torch.float64)
    y = net(x)
    for s in [(1, 0), (0, 3), (5, 7), (8, 8), (13, 2)]:
        got, want = net(torch.roll(x, s, (-2, -1))), torch.roll(y, s, (-2, -1))
        err, rel = (got - want).abs().max().item(), max_relative_error(got, want)
        # exact to rounding (antialias.exact): BLAS rounds differently by CPU and position
        assert is_exact(got, want), f"shift {s}: max abs error {err:.3g}, max relative {rel:.3g}"


def test_maxpool_unet_with_circular_padding_is_equivariant_only_at_the_period() -> None:
    net = build_variant("tconv2", 1, 2, pad_mode="circular").double().eval()
    x = torch.randn(1, 1, 32, 32, dtype=torch.float64)
    y = net(x)

    def err(s: tuple[int, int]) -> float:
        return (net(torch.roll(x, s, (-2, -1))) - torch.roll(y, s, (-2, -1))).abs().max().item()

    assert err((8, 16)) < 1e-12, f"period shift: max abs error {err((8, 16))}"
    assert err((1, 0)) > 1e-6, "an odd shift through max-pool should not commute exactly"


def test_levels_give_feature_maps_at_their_stride() -> None:
    net = build_variant("bilinear", 1, 2).eval()
    levels = net.levels()
    names = [n for n, _, _ in levels]
    assert names == ["enc0", "enc1", "enc2", "bottleneck", "dec2", "dec1", "dec0"]
    seen: dict[str, tuple] = {}
    hooks = [
        m.register_forward_hook(lambda mod, i, o, n=n: seen.__setitem__(n, tuple(o.shape)))
        for n, m, _ in levels
    ]
    net(torch.randn(1, 1, 64, 48))
    for h in hooks:
        h.remove()
    for name, _, stride in levels:
        assert seen[name][-2:] == (64 // stride, 48 // stride), (name, seen[name])


def test_size_policy_and_input_checks() -> None:
    strict = build_variant("bilinear", 1, 2, size_policy="error")
    assert strict(torch.randn(1, 1, 16, 24)).shape == (1, 2, 16, 24)
    with pytest.raises(ValueError, match="divisible by 2\\*\\*depth = 8, got 20x24"):
        strict(torch.randn(1, 1, 20, 24))
    with pytest.raises(ValueError, match=">= 2\\*\\*depth = 8, got 7x32"):
        build_variant("bilinear", 1, 2)(torch.randn(1, 1, 7, 32))
    with pytest.raises(ValueError, match="expected 1 input channels, got 3"):
        strict(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match=r"shape \(B, C, H, W\)"):
        strict(torch.randn(16, 16))


def test_pad_and_crop_matches_explicit_padding() -> None:
    net = build_variant("tconv4", 1, 2).eval()
    x = torch.randn(1, 1, 21, 30)
    padded = nn.functional.pad(x, (0, 2, 0, 3))  # zeros up to 24x32
    err = (net(x) - net(padded)[..., :21, :30]).abs().max().item()
    assert err == 0.0, f"max abs error {err}"


def test_bad_arguments_say_what_was_expected() -> None:
    with pytest.raises(ValueError, match="expected variant to be one of .*'aps'.*got 'unet'"):
        build_variant("unet", 1, 2)
    with pytest.raises(ValueError, match="expected pad_mode to be one of"):
        UNet(1, 2, pad_mode="mirror")
    with pytest.raises(ValueError, match="expected norm to be one of"):
        UNet(1, 2, norm="layer")
    with pytest.raises(TypeError, match="expected depth to be an int"):
        UNet(1, 2, depth=2.0)
    with pytest.raises(ValueError, match="expected in_channels == out_channels"):
        UNet(1, 2, residual=True)
    with pytest.raises(ValueError, match="unknown \\['widht'\\]"):
        UNet.from_config({**UNet(1, 2, depth=1, width=2).config, "widht": 3})
    with pytest.raises(ValueError, match="up-sampler name"):
        UNet(1, 2, up="deconv")


def test_residual_and_norms() -> None:
    net = UNet(1, 1, depth=2, width=4, residual=True, norm="group").eval()
    x = torch.randn(1, 1, 16, 16)
    assert torch.equal(net(x), x), "a residual net must start as the identity (zero head)"
    assert UNet(1, 1, depth=2, width=4).head.weight.abs().sum() > 0, "others: default init"
    assert not any(
        isinstance(m, nn.BatchNorm2d) for m in UNet(1, 2, depth=1, norm="none").modules()
    )


def test_shipped_set_fits_in_40_mb() -> None:
    # 10 variants x (3 nuclei seeds + textures + denoise), float32 weights and BN buffers
    total = 0
    for name in VARIANTS:
        for out, runs in ((2, 4), (1, 1)):
            net = build_variant(name, 1, out, residual=out == 1)
            n = sum(t.numel() * t.element_size() for t in net.state_dict().values())
            total += runs * n
    assert total <= 40e6, f"{total / 1e6:.1f} MB"
    assert 50_000 < count_parameters(build_variant("tconv4", 1, 2)) < 400_000


# --- study v2: MACs, width-matched twins, where the channels halve ---------------------------


def test_count_macs_matches_hand_counts_per_layer_kind() -> None:
    from antialias.models import count_macs

    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert count_macs(conv, (1, 3, 10, 10))["total"] == 10 * 10 * 8 * 3 * 9
    strided = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)  # out 5x5, 2 inputs per group
    assert count_macs(strided, (2, 4, 10, 10))["total"] == 2 * 5 * 5 * 6 * 2 * 9
    tconv = nn.ConvTranspose2d(8, 4, 2, stride=2)  # each input sample scatters 4 x 2x2 taps
    assert count_macs(tconv, (1, 8, 5, 5))["total"] == 5 * 5 * 8 * 4 * 4
    lin = nn.Linear(16, 5)
    assert count_macs(lin, (2, 16))["total"] == 2 * 16 * 5
    seq = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 2, 1))
    macs = count_macs(seq, (1, 3, 10, 10))
    assert macs["total"] == 21600 + 5 * 5 * 2 * 8 and macs["3"] == 400


def test_count_macs_of_a_unet_equals_the_hand_formula() -> None:
    from antialias.models import count_macs

    # depth 1, width 2, input 1x8x8: enc 1->2, 2->2 at 8x8; bottleneck 2->4, 4->4 at 4x4;
    # up-conv 4->2 (2x2) on 4x4; decoder 4->2, 2->2 at 8x8; head 2->2 (1x1)
    net = UNet(1, 2, depth=1, width=2, up="transposed", up_kwargs={"kernel_size": 2})
    hand = (
        64 * 9 * (1 * 2 + 2 * 2)
        + 16 * 9 * (2 * 4 + 4 * 4)
        + 16 * 4 * 2 * 4
        + 64 * 9 * (4 * 2 + 2 * 2)
        + 64 * 2 * 2
    )
    assert count_macs(net, (1, 1, 8, 8))["total"] == hand
    assert count_macs(net, (3, 1, 8, 8))["total"] == 3 * hand
    with pytest.raises(TypeError, match="expected input_shape"):
        count_macs(net, "1x1x8x8")


def test_shipped_mac_gap_is_the_fine_resolution_conv() -> None:
    from antialias.models import count_macs

    # issue 12: resize-conv's 3x3 conv at the fine resolution is the MAC gap to tconv2
    shape = (1, 1, 256, 256)
    gap = (
        count_macs(build_variant("bilinear", 1, 2), shape)["total"]
        - count_macs(build_variant("tconv2", 1, 2), shape)["total"]
    )
    # per level i (0..2): 3x3 conv 2C->C at the fine size minus 2x2 tconv 2C->C on the coarse
    hand = sum(
        (256 // 2**i) ** 2 * 9 * (16 * 2**i) * (8 * 2**i)
        - (128 // 2**i) ** 2 * 4 * (16 * 2**i) * (8 * 2**i)
        for i in range(3)
    )
    assert gap == hand


def test_up_halves_false_moves_the_halving_into_the_decoder() -> None:
    net = UNet(1, 2, depth=3, width=4, up="bilinear", up_halves=False)
    assert [m[3].out_channels for m in net.decoders] == [4, 4, 8]
    assert [m[0].out_channels for m in net.decoders] == [4, 8, 16]  # mid = in // 2
    assert net.bottleneck[3].out_channels == 16  # halved from 32
    assert net.config["up_halves"] is False
    assert net(torch.randn(1, 1, 16, 16)).shape == (1, 2, 16, 16)
    with pytest.raises(TypeError, match="expected up_halves to be a bool"):
        UNet(1, 2, up_halves=1)


def test_matched_width_gives_the_closest_parameter_count() -> None:
    from antialias.models import matched_width

    ref = count_parameters(build_variant("tconv2", 1, 2, depth=3, width=16))
    w = matched_width("pixelshuffle", "tconv2", 16, 3)
    assert w < 16  # pixel shuffle is larger at the same width

    def gap(width: int) -> int:
        net = build_variant("pixelshuffle", 1, 2, depth=3, width=width)
        return abs(count_parameters(net) - ref)

    assert all(gap(w) <= gap(v) for v in range(1, 33)), [gap(v) for v in range(8, 17)]
