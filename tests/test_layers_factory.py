"""Factory: every name builds, maps sizes exactly; bad names and keywords fail clearly."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

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
