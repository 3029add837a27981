"""The U-Net family: one encoder/decoder, every down/up-sampler and padding mode one argument.

:class:`UNet` is the classic U-Net (Ronneberger et al. 2015): double 3x3 convs, ``depth``
factor-2 down-samplings, skip connections by concatenation, a 1x1 head. Its down- and
up-samplers come only from :func:`antialias.layers.create_downsample` /
:func:`antialias.layers.create_upsample`, so the variants of :data:`VARIANTS` differ in nothing
else. The config (:attr:`UNet.config`) is a plain JSON-serialisable dict and
:meth:`UNet.from_config` rebuilds the same architecture from it.

Input sizes: the network has period ``2**depth``. With ``size_policy="pad"`` (default), inputs
whose height or width is not a multiple of ``2**depth`` are padded at the bottom/right (in
``pad_mode``; zeros for ``"zeros"``) up to the next multiple and the output is cropped back, so
the output always has the input's size. With ``size_policy="error"`` such inputs raise
``ValueError``. Inputs smaller than ``2**depth`` on either side always raise.

This module builds models; training lives in :mod:`antialias.train`, loading in
:mod:`antialias.checkpoint`.
"""

from __future__ import annotations

import copy
import json
from typing import Any, TypedDict

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias._checks import check_choice, check_int
from antialias.variants import DESIGNS


class UNetConfig(TypedDict):
    """The keys of :attr:`UNet.config` (the constructor's arguments; JSON-serialisable)."""

    in_channels: int
    out_channels: int
    depth: int
    width: int
    down: str
    up: str
    pad_mode: str
    norm: str
    down_kwargs: dict[str, Any]
    up_kwargs: dict[str, Any]
    residual: bool
    size_policy: str


NORMS: tuple[str, ...] = ("batch", "group", "none")
PAD_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")
SIZE_POLICIES: tuple[str, ...] = ("pad", "error")

# Architecture shared by every shipped variant (see docs/ARCHITECTURE.md): 3 down-samplings
# (period 8) and 8 channels at full resolution, doubling per level (about 0.1-0.2 M parameters),
# small enough that 50 models train in well under an hour on 2 CPU cores.
SHIPPED_DEPTH = 3
SHIPPED_WIDTH = 8

VARIANTS: dict[str, dict[str, Any]] = {name: d.unet for name, d in DESIGNS.items()}
"""Variant name -> :class:`UNet` keyword arguments, read from :data:`antialias.variants.DESIGNS`
(the one table of designs, labels and citations).

Every variant shares ``depth``, ``width``, ``norm`` and the double convs; build one with
:func:`build_variant`.
"""


# The one checker (antialias._checks), under the names this module's call sites use.
_check_choice = check_choice
_check_int = check_int


def _norm_layer(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        # 8 groups where possible (channels are width * 2**level, so 8 divides them for width 8)
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    return nn.Identity()


class DoubleConv(nn.Sequential):
    """(3x3 conv, norm, ReLU) twice, padding ``pad_mode``; spatial size unchanged.

    Shape: :math:`(B, C_{in}, H, W) \\to (B, C_{out}, H, W)`.
    """

    def __init__(self, in_channels: int, out_channels: int, pad_mode: str, norm: str) -> None:
        bias = norm == "none"
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode=pad_mode, bias=bias),
            _norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, padding_mode=pad_mode, bias=bias),
            _norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """U-Net whose down/up-samplers are factory names (:mod:`antialias.layers`).

    Level ``i`` (0 = full resolution) has ``width * 2**i`` channels; ``depth`` down-samplings
    lead to the bottleneck at stride ``2**depth``; each decoder level up-samples (halving the
    channels), concatenates the skip and applies a double conv.

    Args:
        in_channels: input channels.
        out_channels: output channels (2 logits for binary segmentation, 1 for denoising).
        depth: number of factor-2 down-samplings ``L`` (period ``2**L``).
        width: channels at full resolution.
        down: :func:`antialias.layers.create_downsample` name (``maxpool``, ``maxblurpool``,
            ``aps``, ...).
        up: :func:`antialias.layers.create_upsample` name (``transposed``, ``bilinear``,
            ``nearest``, ``blur``, ``pixel_shuffle``, ``aps``, ...).
        pad_mode: padding of every conv and filter: ``zeros``, ``reflect``, ``replicate`` or
            ``circular``.
        norm: ``batch``, ``group`` or ``none`` after each conv.
        down_kwargs: extra keyword arguments of ``create_downsample`` (JSON-serialisable).
        up_kwargs: extra keyword arguments of ``create_upsample`` (JSON-serialisable).
        residual: add the input to the output (needs ``in_channels == out_channels``); used
            for denoising, where the network then predicts minus the noise. The head is
            zero-initialised, so a fresh residual net is the identity.
        size_policy: ``pad`` (pad-and-crop inputs not divisible by ``2**depth``) or ``error``.

    Shape:
        - input: :math:`(B, C_{in}, H, W)`, ``H, W >= 2**depth``
        - output: :math:`(B, C_{out}, H, W)`

    Example:
        >>> net = UNet(1, 2, depth=2, width=4, down="maxpool", up="bilinear")
        >>> net(torch.zeros(1, 1, 20, 20)).shape
        torch.Size([1, 2, 20, 20])
        >>> UNet.from_config(json.loads(json.dumps(net.config))).config == net.config
        True
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth: int = 4,
        width: int = 32,
        down: str = "maxpool",
        up: str = "transposed",
        pad_mode: str = "zeros",
        norm: str = "batch",
        down_kwargs: dict[str, Any] | None = None,
        up_kwargs: dict[str, Any] | None = None,
        residual: bool = False,
        size_policy: str = "pad",
    ) -> None:
        from antialias.layers import create_downsample, create_upsample

        super().__init__()
        _check_int("in_channels", in_channels, 1)
        _check_int("out_channels", out_channels, 1)
        _check_int("depth", depth, 1)
        _check_int("width", width, 1)
        _check_choice("pad_mode", pad_mode, PAD_MODES)
        _check_choice("norm", norm, NORMS)
        _check_choice("size_policy", size_policy, SIZE_POLICIES)
        for name, value in (("down", down), ("up", up)):
            if not isinstance(value, str):
                raise TypeError(f"expected {name} to be a factory name (str), got {value!r}")
        for name, value in (("down_kwargs", down_kwargs), ("up_kwargs", up_kwargs)):
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"expected {name} to be a dict or None, got {value!r}")
        if not isinstance(residual, bool):
            raise TypeError(f"expected residual to be a bool, got {residual!r}")
        if residual and in_channels != out_channels:
            raise ValueError(
                "expected in_channels == out_channels for residual=True, got "
                f"{in_channels} and {out_channels}"
            )
        down_kwargs = copy.deepcopy(down_kwargs) if down_kwargs else {}
        up_kwargs = copy.deepcopy(up_kwargs) if up_kwargs else {}
        self._config: dict[str, Any] = {
            "in_channels": in_channels,
            "out_channels": out_channels,
            "depth": depth,
            "width": width,
            "down": down,
            "up": up,
            "pad_mode": pad_mode,
            "norm": norm,
            "down_kwargs": down_kwargs,
            "up_kwargs": up_kwargs,
            "residual": residual,
            "size_policy": size_policy,
        }
        try:
            json.dumps(self._config)
        except TypeError as err:
            raise TypeError(f"expected JSON-serialisable kwargs, got: {err}") from err

        ch = [width * 2**i for i in range(depth + 1)]
        self.encoders = nn.ModuleList(
            [
                DoubleConv(in_channels if i == 0 else ch[i - 1], ch[i], pad_mode, norm)
                for i in range(depth)
            ]
        )
        self.downs = nn.ModuleList(
            [
                create_downsample(down, ch[i], pad_mode=pad_mode, **copy.deepcopy(down_kwargs))
                for i in range(depth)
            ]
        )
        self.bottleneck = DoubleConv(ch[depth - 1], ch[depth], pad_mode, norm)
        ups = []
        for i in range(depth):  # ups[i] goes from level i+1 to level i
            kwargs = copy.deepcopy(up_kwargs)
            if up == "aps":
                kwargs["pair"] = self.downs[i]
            ups.append(create_upsample(up, ch[i + 1], ch[i], pad_mode=pad_mode, **kwargs))
        self.ups = nn.ModuleList(ups)
        self.decoders = nn.ModuleList(
            [DoubleConv(2 * ch[i], ch[i], pad_mode, norm) for i in range(depth)]
        )
        self.head = nn.Conv2d(ch[0], out_channels, 1)
        if residual:
            # start as the identity: a random head would add a random map to the input, and
            # the large early errors can stall training (seen with transposed-conv decoders)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments, a JSON-serialisable copy (keys: :class:`UNetConfig`)."""
        return copy.deepcopy(self._config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> UNet:
        """Build a fresh (untrained) UNet from :attr:`config`."""
        if not isinstance(config, dict):
            raise TypeError(f"expected config to be a dict, got {type(config).__name__}")
        import inspect

        valid = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(config) - valid)
        if unknown:
            raise ValueError(f"expected config keys among {sorted(valid)}, got unknown {unknown}")
        return cls(**config)

    @property
    def num_downsamplings(self) -> int:
        """Number of factor-2 down-samplings ``L`` (= ``depth``); the period is ``2**L``."""
        return self._config["depth"]

    @property
    def period(self) -> int:
        """``2**depth``: shifts by multiples of it commute with a circular U-Net exactly."""
        return 2 ** self._config["depth"]

    def levels(self) -> list[tuple[str, nn.Module, int]]:
        """``(name, module, stride)`` of every encoder block, the bottleneck, every decoder block.

        Each module's forward output is the feature map at that stride (relative to the
        input), in forward order: ``enc0`` (1), ``enc1`` (2), ..., ``bottleneck``
        (``2**depth``), ..., ``dec1`` (2), ``dec0`` (1). Register forward hooks on them to
        measure per-layer equivariance.
        """
        depth = self._config["depth"]
        out: list[tuple[str, nn.Module, int]] = [
            (f"enc{i}", self.encoders[i], 2**i) for i in range(depth)
        ]
        out.append(("bottleneck", self.bottleneck, 2**depth))
        out += [(f"dec{i}", self.decoders[i], 2**i) for i in reversed(range(depth))]
        return out

    def _pad_to_period(self, x: Tensor) -> tuple[Tensor, int, int]:
        h, w = x.shape[-2:]
        p = self.period
        if h < p or w < p:
            raise ValueError(f"expected input height and width >= 2**depth = {p}, got {h}x{w}")
        ph, pw = (-h) % p, (-w) % p
        if ph == 0 and pw == 0:
            return x, h, w
        if self._config["size_policy"] == "error":
            raise ValueError(
                f"expected input height and width divisible by 2**depth = {p}, got {h}x{w} "
                "(or build the UNet with size_policy='pad')"
            )
        mode = self._config["pad_mode"]
        x = F.pad(x, (0, pw, 0, ph), mode="constant" if mode == "zeros" else mode)
        return x, h, w

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected input of shape (B, C, H, W), got {shape}")
        if x.shape[1] != self._config["in_channels"]:
            raise ValueError(
                f"expected {self._config['in_channels']} input channels, got {x.shape[1]}"
            )
        inp = x
        x, h, w = self._pad_to_period(x)
        skips = []
        for enc, down in zip(self.encoders, self.downs):
            x = enc(x)
            skips.append(x)
            x = down(x)
        x = self.bottleneck(x)
        for i in reversed(range(self._config["depth"])):
            x = self.ups[i](x)
            x = self.decoders[i](torch.cat([skips[i], x], dim=1))
        x = self.head(x)[..., :h, :w]
        if self._config["residual"]:
            x = x + inp
        return x


def build_variant(name: str, in_channels: int, out_channels: int, **overrides: Any) -> UNet:
    """The shipped architecture of a named variant (:data:`VARIANTS`).

    Defaults: ``depth=SHIPPED_DEPTH`` (3), ``width=SHIPPED_WIDTH`` (8), ``norm="batch"``;
    ``overrides`` replace any :class:`UNet` argument.

    Example:
        >>> build_variant("bilinear", 1, 2).num_downsamplings
        3
    """
    if not isinstance(name, str) or name not in VARIANTS:
        raise ValueError(f"expected variant to be one of {list(VARIANTS)}, got {name!r}")
    kwargs: dict[str, Any] = {"depth": SHIPPED_DEPTH, "width": SHIPPED_WIDTH}
    kwargs.update(copy.deepcopy(VARIANTS[name]))
    kwargs.update(overrides)
    return UNet(in_channels, out_channels, **kwargs)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
