"""Factory: every name builds, maps sizes exactly; bad names and keywords fail clearly."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from antialias.layers import (
    DOWN_COMMON,
    DOWNSAMPLERS,
    UPSAMPLE_COMMON,
    UPSAMPLE_KEYWORDS,
    UPSAMPLERS,
    APSDown2d,
    Upsample2d,
    create_downsample,
    create_upsample,
    list_downsamplers,
    list_upsamplers,
)

DOWN_NAMES = [
    "maxpool",
    "avgpool",
    "decimate",
    "blurpool",
    "maxblurpool",
    "conv",
    "convblurpool",
    "aps",
]
UP_NAMES = [
    "nearest",
    "bilinear",
    "bicubic",
    "blur",
    "transposed",
    "transposed_blur",
    "pixel_shuffle",
    "aps",
]


def test_registries_list_every_name() -> None:
    assert list_downsamplers() == DOWN_NAMES == list(DOWNSAMPLERS)
    assert list_upsamplers() == UP_NAMES == list(UPSAMPLERS)


@pytest.mark.parametrize("name", DOWN_NAMES)
@pytest.mark.parametrize("down", [2, 3])
@pytest.mark.parametrize("pad_mode", ["zeros", "reflect", "replicate", "circular"])
def test_downsample_sizes(name: str, down: int, pad_mode: str) -> None:
    layer = create_downsample(name, 4, down=down, pad_mode=pad_mode)
    x = torch.randn(2, 4, 6 * down, 4 * down)
    y = layer(x)
    assert y.shape == (2, 4, 6, 4)


@pytest.mark.parametrize("name", UP_NAMES)
@pytest.mark.parametrize("up", [2, 3])
@pytest.mark.parametrize("channels", [(4, 4), (6, 3)])
def test_upsample_sizes(name: str, up: int, channels: tuple[int, int]) -> None:
    c_in, c_out = channels
    kw: dict = {"up": up}
    if name == "aps":
        down = create_downsample("aps", c_in, down=up)
        down(torch.randn(2, c_in, 5 * up, 7 * up))
        kw["pair"] = down
    layer = create_upsample(name, c_in, c_out, **kw)
    y = layer(torch.randn(2, c_in, 5, 7))
    assert y.shape == (2, c_out, 5 * up, 7 * up)


@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("up", [2, 3])
@pytest.mark.parametrize("name", ["transposed", "transposed_blur"])
def test_transposed_exact_size_any_kernel(kernel_size: int, up: int, name: str) -> None:
    layer = create_upsample(name, 3, 2, up=up, kernel_size=kernel_size)
    for h, w in [(1, 1), (4, 5), (7, 2)]:
        assert layer(torch.randn(1, 3, h, w)).shape == (1, 2, up * h, up * w)


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="maxblurpool.*got 'maxblur'"):
        create_downsample("maxblur", 4)
    with pytest.raises(ValueError, match="pixel_shuffle.*got 'deconv'"):
        create_upsample("deconv", 4, 4)


def test_unexpected_keyword_is_named() -> None:
    with pytest.raises(TypeError, match=r"unexpected \['taps'\]"):
        create_downsample("maxpool", 4, taps=3)
    with pytest.raises(TypeError, match=r"unexpected \['init'\]"):
        create_upsample("bilinear", 4, 2, init="icnr")
    with pytest.raises(ValueError, match="pad_mode"):
        create_downsample("maxpool", 4, pad_mode="mirror")


def test_factory_passes_device_and_dtype() -> None:
    layer = create_downsample("convblurpool", 3, dtype=torch.float64)
    assert layer.weight.dtype == torch.float64 and layer.taps.dtype == torch.float64
    up = create_upsample("blur", 3, 5, dtype=torch.float64, device="cpu")
    assert up.taps.dtype == torch.float64 and up.conv.weight.dtype == torch.float64


def test_aps_pair_through_factory() -> None:
    down = create_downsample("aps", 3)
    up = create_upsample("aps", 3, 3, pair=down)
    assert isinstance(down, APSDown2d) and up.pair is down
    # the pair is a reference, not a sub-module: the model registers the down once
    model = nn.ModuleDict({"down": down, "up": up})
    assert sum(isinstance(m, APSDown2d) for m in model.modules()) == 1
    x = torch.randn(2, 3, 8, 8)
    z = up(down(x))
    # each output sample carries exactly the kept samples of the input at the chosen phase
    mask = z != 0
    assert torch.equal(z[mask], x[mask])
    assert int(mask.sum()) == 2 * 3 * 16


def test_upsample_keywords_come_from_the_one_table() -> None:
    """The factory accepts exactly UPSAMPLE_COMMON + UPSAMPLE_KEYWORDS[name], as Upsample2d."""
    for name in UP_NAMES:
        assert UPSAMPLERS[name].keywords == UPSAMPLE_COMMON + UPSAMPLE_KEYWORDS[name]
        for keyword in ("taps", "init", "conv", "bias", "pair"):
            if keyword in UPSAMPLE_KEYWORDS[name]:
                continue
            # refused by the factory (TypeError) and by the module itself (ValueError)
            with pytest.raises(TypeError, match=rf"unexpected \['{keyword}'\]"):
                create_upsample(name, 4, 4, **{keyword: 3})
            with pytest.raises(ValueError, match=f"expected {keyword}=None for method {name!r}"):
                Upsample2d(4, 4, name, **{keyword: 3})


def test_downsample_common_keywords_checked_once_for_every_name() -> None:
    """maxpool/avgpool take no pad_mode (no border): the factory checks a model's pad_mode,
    and their builders do not see it; every name refuses an unknown mode alike."""
    assert "pad_mode" not in inspect.signature(DOWNSAMPLERS["maxpool"]).parameters
    assert "pad_mode" not in inspect.signature(DOWNSAMPLERS["avgpool"]).parameters
    x = torch.randn(1, 2, 8, 8)
    plain = create_downsample("maxpool", 2)(x)
    for mode in ("zeros", "reflect", "replicate", "circular"):
        assert torch.equal(create_downsample("maxpool", 2, pad_mode=mode)(x), plain)
    for name in DOWN_NAMES:
        with pytest.raises(ValueError, match="expected pad_mode to be one of"):
            create_downsample(name, 4, pad_mode="mirror")
    assert DOWN_COMMON == ("down", "pad_mode", "device", "dtype")


# --- 1-D and 3-D (spatial_dims) -------------------------------------------------------------

ND_DOWN_TYPES = {
    "maxpool": "MaxPool{n}d",
    "avgpool": "AvgPool{n}d",
    "decimate": "BlurPool{n}d",
    "blurpool": "BlurPool{n}d",
    "maxblurpool": "MaxBlurPool{n}d",
    "conv": "Conv{n}d",
    "convblurpool": "ConvBlurPool{n}d",
    "aps": "APSDown{n}d",
}


@pytest.mark.parametrize("dims", [1, 3])
@pytest.mark.parametrize("name", list(ND_DOWN_TYPES))
def test_nd_downsamplers_build_the_nd_layer_and_halve(name: str, dims: int) -> None:
    layer = create_downsample(name, 4, spatial_dims=dims, pad_mode="circular")
    assert type(layer).__name__ == ND_DOWN_TYPES[name].format(n=dims)
    x = torch.randn(1, 4, *([8] * dims))
    assert layer(x).shape == (1, 4, *([4] * dims))


def test_nd_decimate_is_plain_subsampling() -> None:
    x = torch.randn(1, 2, 6, 8, 4)
    y = create_downsample("decimate", 2, spatial_dims=3)(x)
    assert torch.equal(y, x[:, :, ::2, ::2, ::2])


ND_UP = {1: ["nearest", "linear", "blur", "transposed", "transposed_blur", "aps"]}
ND_UP[3] = ["nearest", "trilinear", "blur", "transposed", "transposed_blur", "pixel_shuffle"]
ND_UP[3].append("aps")


@pytest.mark.parametrize("dims", [1, 3])
def test_nd_upsamplers_double_every_axis(dims: int) -> None:
    assert list_upsamplers(dims) == ND_UP[dims]
    for name in ND_UP[dims]:
        kw: dict = {}
        if name == "aps":  # its phase comes from the paired down-sampler's last call
            kw["pair"] = create_downsample("aps", 4, spatial_dims=dims)
            kw["pair"](torch.randn(1, 4, *([6] * dims)))
        layer = create_upsample(name, 4, 2, spatial_dims=dims, **kw)
        x = torch.randn(1, 4, *([3] * dims))
        assert layer(x).shape == (1, 2, *([6] * dims)), name


@pytest.mark.parametrize(
    ("dims", "name", "mode"), [(1, "linear", "linear"), (3, "trilinear", "trilinear")]
)
def test_nd_linear_is_torchs_interpolation_as_fir(dims: int, name: str, mode: str) -> None:
    for up in (2, 3):
        layer = create_upsample(name, 3, 3, spatial_dims=dims, up=up, dtype=torch.float64)
        x = torch.randn(2, 3, *([5] * dims), dtype=torch.float64)
        want = F.interpolate(x, scale_factor=up, mode=mode, align_corners=False)
        assert torch.allclose(layer(x), want, rtol=0, atol=1e-12), up


def test_nd_blur_upsampler_has_the_conv_when_channels_differ() -> None:
    layer = create_upsample("blur", 4, 2, spatial_dims=3, kernel_size=1)
    assert type(layer.upsample).__name__ == "BlurUpsample3d"
    assert isinstance(layer.conv, nn.Conv3d) and layer.conv.kernel_size == (1, 1, 1)
    assert isinstance(create_upsample("blur", 4, 4, spatial_dims=3).conv, nn.Identity)
    assert type(create_upsample("pixel_shuffle", 4, 2, spatial_dims=3)).__name__ == (
        "PixelShuffleUpsample3d"
    )
    assert isinstance(create_upsample("transposed", 4, 2, spatial_dims=1), nn.ConvTranspose1d)


def test_nd_names_without_an_nd_version_fail_clearly() -> None:
    with pytest.raises(
        ValueError,
        match=r"create_upsample\('bicubic'\) is not available for "
        r"spatial_dims=3",
    ):
        create_upsample("bicubic", 4, 4, spatial_dims=3)
    with pytest.raises(ValueError, match=r"not available for spatial_dims=3 \(use 'linear'"):
        create_upsample("bilinear", 4, 4, spatial_dims=3)
    with pytest.raises(ValueError, match="not available for spatial_dims=1"):
        create_upsample("pixel_shuffle", 4, 4, spatial_dims=1)
    with pytest.raises(ValueError, match="not available for spatial_dims=2"):
        create_upsample("trilinear", 4, 4)
    with pytest.raises(ValueError, match="expected a create_downsample name"):
        create_downsample("nope", 4, spatial_dims=1)
    with pytest.raises(ValueError, match="spatial_dims to be 1, 2 or 3"):
        create_downsample("blurpool", 4, spatial_dims=4)
    with pytest.raises(TypeError, match="unexpected"):
        create_downsample("maxpool", 4, spatial_dims=3, taps=3)


def test_spatial_dims_2_is_the_2d_factory() -> None:
    assert type(create_downsample("blurpool", 4, spatial_dims=2)).__name__ == "BlurPool2d"
    assert list_downsamplers(2) == list_downsamplers() == list(DOWNSAMPLERS)
    assert list_upsamplers(2) == list(UPSAMPLERS)


def test_top_level_exports_the_nd_api() -> None:
    import antialias

    for name in [
        "BlurPool3d",
        "MaxBlurPool1d",
        "ConvBlurPool3d",
        "BlurUpsample3d",
        "PixelShuffle3d",
        "PixelShuffleUpsample3d",
        "upfirdn",
        "upfirdn_reference",
        "upsample_nd",
        "downsample_nd",
        "filter_nd",
        "spectral_nd",
        "APSDown3d",
        "APSUp3d",
        "APSDown1d",
        "APSUp1d",
    ]:
        assert name in antialias.__all__ and hasattr(antialias, name), name
    import antialias.upfirdn as module
    from antialias.upfirdn import upfirdn

    # antialias.upfirdn stays the module (helpers reachable) and calls like the function
    assert module is antialias.upfirdn and callable(module._prepare)
    x = torch.randn(1, 2, 5, 4, 3)
    assert torch.equal(antialias.upfirdn(x, [1.0, 1.0], 2, 1), upfirdn(x, [1.0, 1.0], 2, 1))
