"""Tests of the design table (antialias.variants) and of the study-v2 up paths it names: each
design is compared with the implementation it cites (MONAI, installed) or with a reference
written here (Pytorch-UNet, the original up-conv), and every shipped checkpoint still loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from antialias import variants
from antialias.checkpoint import check_state_dict, load_state_dict_safely, read_metadata
from antialias.exact import max_relative_error
from antialias.models import (
    VARIANTS,
    PreConvUpsample2d,
    SubpixelBlurUpsample2d,
    UNet,
    build_variant,
    count_macs,
    count_parameters,
)

ROOT = Path(__file__).resolve().parents[1]
TOL64 = 1e-12  # float64, a handful of sums: far above rounding, far below any real difference


def test_table_keeps_the_ten_shipped_variants_first_and_unchanged() -> None:
    shipped = [d.name for d in variants.DESIGNS.values() if d.shipped]
    assert shipped == list(VARIANTS) and len(shipped) == 10
    assert list(variants.DESIGNS)[:10] == shipped
    assert len(variants.DESIGNS) > 10, "the study-v2 designs are rows of the same table"
    for d in variants.DESIGNS.values():
        assert d.mirrors and d.label and d.family, d.name


@pytest.mark.parametrize("name", [n for n, d in variants.DESIGNS.items() if not d.shipped])
def test_every_new_design_builds_runs_and_round_trips(name: str) -> None:
    net = build_variant(name, 1, 2, depth=3, width=4).eval()
    x = torch.randn(2, 1, 24, 40)
    assert net(x).shape == (2, 2, 24, 40)
    twin = UNet.from_config(net.config)
    twin.load_state_dict(net.state_dict(), strict=True)
    assert torch.equal(twin.eval()(x), net(x))


def test_every_shipped_checkpoint_still_builds_with_matching_keys_and_shapes() -> None:
    from antialias.data import TASKS

    # the 2-D tasks' folders (checkpoints/volumes/ holds 3-D U-Nets, read by models_nd)
    files = sorted(
        p for p in (ROOT / "checkpoints").glob("*/*.safetensors") if p.parent.name in TASKS
    )
    assert len(files) == 50, f"expected the 50 shipped checkpoints, found {len(files)}"
    for path in files:
        meta = read_metadata(path)
        model = UNet.from_config(meta["config"])
        check_state_dict(model, load_state_dict_safely(path), str(path))  # raises on mismatch
        # and the variant name still builds the very same architecture
        task_head = {"in_channels": 1, "out_channels": meta["config"]["out_channels"]}
        rebuilt = build_variant(
            meta["variant"],
            **task_head,
            residual=meta["config"]["residual"],
        )
        assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
            k: v.shape for k, v in model.state_dict().items()
        }, path.name


def test_tconv2_is_the_original_up_conv_that_halves_channels() -> None:
    # Ronneberger 2015 / Pytorch-UNet Up(bilinear=False): ConvTranspose2d(C, C // 2, 2, stride=2)
    net = build_variant("tconv2", 1, 2, depth=4, width=8)
    for i, up in enumerate(net.ups):
        tconv = [m for m in up.modules() if isinstance(m, nn.ConvTranspose2d)]
        assert len(tconv) == 1
        t = tconv[0]
        c = 8 * 2 ** (i + 1)
        assert (t.in_channels, t.out_channels) == (c, c // 2)
        assert t.kernel_size == (2, 2) and t.stride == (2, 2) and t.padding == (0, 0)
        assert t.output_padding == (0, 0) and t.bias is not None


def test_tconv3_matches_monai_unet_up_layer() -> None:
    from monai.networks.blocks import Convolution

    net = build_variant("tconv3", 1, 2, depth=2, width=4).double()
    ours = net.ups[1].body
    ref = Convolution(2, 16, 8, strides=2, kernel_size=3, is_transposed=True, conv_only=True)
    ref = ref.double()
    ref.conv.load_state_dict(ours.state_dict())
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    err = (ours(x) - ref(x)).abs().max().item()
    assert err < TOL64, f"max abs error {err}"


def test_bilinear_1x1_matches_monai_nontrainable_upsample() -> None:
    from monai.networks.blocks import UpSample

    up = PreConvUpsample2d(12, 6, mode="bilinear").double()
    ref = UpSample(2, 12, 6, 2, mode="nontrainable", align_corners=False).double()
    ref.preconv.load_state_dict(up.conv.state_dict())
    x = torch.randn(2, 12, 6, 9, dtype=torch.float64)
    err = (up(x) - ref(x)).abs().max().item()
    assert err < TOL64, f"max abs error {err}"
    # the 1x1 conv runs at the coarse resolution: 6*9 positions, not 12*18
    assert count_macs(up, (2, 12, 6, 9))["total"] == 2 * 6 * 9 * 12 * 6
    net = build_variant("bilinear_1x1", 1, 2, depth=2, width=4)
    assert all(isinstance(m, PreConvUpsample2d) for m in net.ups)


def test_subpixel_blur_matches_monai_subpixel_upsample() -> None:
    from monai.networks.blocks import SubpixelUpsample

    up = SubpixelBlurUpsample2d(8, 4).double()
    ref = SubpixelUpsample(2, 8, 4, 2).double()
    conv = up.shuffle.body[0]
    ref.conv_block.load_state_dict(conv.state_dict())
    x = torch.randn(2, 8, 5, 6, dtype=torch.float64)
    err = (up(x) - ref(x)).abs().max().item()
    assert err < TOL64, f"max abs error {err}"
    # naive reference of the pad + pool: each output = mean of itself and its top/left
    # neighbours, zeros outside
    y = up.shuffle(x)
    yp = F.pad(y, (1, 0, 1, 0))
    naive = (yp[..., 1:, 1:] + yp[..., :-1, 1:] + yp[..., 1:, :-1] + yp[..., :-1, :-1]) / 4
    assert (up(x) - naive).abs().max().item() < TOL64


def _pytorch_unet_bilinear(width: int, depth: int) -> nn.Module:
    """Pytorch-UNet (milesial) UNet(bilinear=True), written here from its unet_parts.py /
    unet_model.py, with our depth/width; align_corners=False (as our design)."""

    def double(cin: int, cout: int, mid: int | None = None) -> nn.Sequential:
        mid = mid or cout
        return nn.Sequential(
            nn.Conv2d(cin, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Conv2d(mid, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
        )

    ch = [width * 2**i for i in range(depth + 1)]

    class Ref(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.ModuleList(
                [double(1 if i == 0 else ch[i - 1], ch[i]) for i in range(depth)]
            )
            self.bottleneck = double(ch[depth - 1], ch[depth] // 2)  # factor = 2
            # Up(in, out // factor): in = 2 ch[i], out = ch[i] // 2 (ch[0] at the top)
            self.dec = nn.ModuleList(
                [
                    double(2 * ch[i], ch[i] // 2 if i > 0 else ch[0], (2 * ch[i]) // 2)
                    for i in range(depth)
                ]
            )
            self.head = nn.Conv2d(ch[0], 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            for e in self.enc:
                x = e(x)
                skips.append(x)
                x = F.max_pool2d(x, 2)
            x = self.bottleneck(x)
            for i in reversed(range(depth)):
                x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
                x = self.dec[i](torch.cat([skips[i], x], 1))
            return self.head(x)

    return Ref()


def test_bilinear_only_is_pytorch_unet_bilinear() -> None:
    ours = build_variant("bilinear_only", 1, 2, depth=3, width=4).double().eval()
    ref = _pytorch_unet_bilinear(4, 3).double().eval()
    ours_p = [p for p in ours.parameters()]
    ref_p = [p for p in ref.parameters()]
    assert [tuple(p.shape) for p in ours_p] == [tuple(p.shape) for p in ref_p]
    with torch.no_grad():
        for a, b in zip(ours_p, ref_p):
            b.copy_(a)
    x = torch.randn(2, 1, 32, 24, dtype=torch.float64)
    err = max_relative_error(ours(x), ref(x))
    assert err < TOL64, f"max relative error {err}"
    assert not any(isinstance(m, nn.Conv2d) for up in ours.ups for m in up.modules())


def test_tconv4_bilinear_starts_as_1x1_conv_plus_bilinear_inside_the_border() -> None:
    net = build_variant("tconv4_bilinear", 1, 2, depth=2, width=4).double()
    up = net.ups[1]
    tconv = up.body
    # the equivalent 1x1 conv: W[i, o] = M[o, i] * triangle, triangle centre taps 0.75^2
    mix = tconv.weight[:, :, 1, 1] / 0.5625
    ref = PreConvUpsample2d(16, 8).double()
    with torch.no_grad():
        ref.conv.weight.copy_(mix.t()[:, :, None, None])
        ref.conv.bias.copy_(tconv.bias)
    x = torch.randn(1, 16, 6, 7, dtype=torch.float64)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))
    # the weights were made in float32: each tap is rounded on its own (relative 2**-24)
    err = max_relative_error(up(x)[inner], ref(x)[inner])
    assert err < 1e-6, f"max relative error {err}"
    assert (up(x) - ref(x)).abs().max().item() > 1e-3, "the border differs (zeros vs edge)"


def test_blurpool_blur5_uses_binomial_5_not_bilinear_taps() -> None:
    taps5 = build_variant("blurpool_blur5", 1, 2).ups[0].taps
    taps4 = build_variant("blurpool_blur", 1, 2).ups[0].taps
    assert torch.allclose(taps5.double(), torch.tensor([1, 4, 6, 4, 1.0], dtype=torch.float64) / 8)
    assert torch.allclose(taps4.double(), torch.tensor([1, 3, 3, 1.0], dtype=torch.float64) / 4)


def test_aps_rows_differ_only_in_padding() -> None:
    a, z = variants.unet_kwargs("aps"), variants.unet_kwargs("aps_zeros")
    assert a.pop("pad_mode") == "circular" and z.pop("pad_mode") == "zeros" and a == z
    net = build_variant("aps_zeros", 1, 2)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(m.padding_mode == "zeros" for m in convs)


def test_crossed_encoders_share_the_decoder_of_their_maxpool_twin() -> None:
    for up_design in ("tconv2", "bilinear_1x1", "bilinear_only", "bilinear"):
        blur = variants.unet_kwargs(f"blurpool_{up_design}")
        plain = variants.unet_kwargs(up_design)
        assert blur.pop("down") == "maxblurpool" and plain.pop("down") == "maxpool"
        assert blur == plain, up_design
        assert count_parameters(build_variant(f"blurpool_{up_design}", 1, 2)) == count_parameters(
            build_variant(up_design, 1, 2)
        )
