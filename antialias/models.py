"""The U-Net family: one encoder/decoder, every down/up-sampler and padding mode one argument.

:class:`UNet` is the classic U-Net (Ronneberger et al. 2015): double 3x3 convs, ``depth``
factor-2 down-samplings, skip connections by concatenation, a 1x1 head. Its down- and
up-samplers come from :func:`antialias.layers.create_downsample` /
:func:`antialias.layers.create_upsample`, or, for three study-v2 up paths, from modules
composed here out of those public layers (:data:`MODEL_UPSAMPLERS`: MONAI's nontrainable and
pixel-shuffle up paths, a bilinear-initialised transposed conv); ``up_halves=False`` moves the
channel halving into the decoder (Pytorch-UNet ``bilinear=True``). So the designs of
:data:`antialias.variants.DESIGNS` differ in nothing else. The config (:attr:`UNet.config`) is
a plain JSON-serialisable dict and :meth:`UNet.from_config` rebuilds the same architecture
from it (a config without ``up_halves``, as in the shipped checkpoints, means ``True``).

Cost: :func:`count_macs` (forward hooks on conv / transposed conv / linear layers) and
:func:`count_parameters`; :func:`matched_width` finds a width-matched twin.

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
import math
from typing import Any, TypedDict

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias._checks import PAD_MODES, check_choice, check_int
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
    up_halves: bool


NORMS: tuple[str, ...] = ("batch", "group", "none")
SIZE_POLICIES: tuple[str, ...] = ("pad", "error")

# Architecture shared by every shipped variant (see docs/ARCHITECTURE.md): 3 down-samplings
# (period 8) and 8 channels at full resolution, doubling per level (about 0.1-0.2 M parameters),
# small enough that 50 models train in well under an hour on 2 CPU cores.
SHIPPED_DEPTH = 3
SHIPPED_WIDTH = 8

VARIANTS: dict[str, dict[str, Any]] = {name: d.unet for name, d in DESIGNS.items() if d.shipped}
"""The shipped variants (the ten with checkpoints): name -> :class:`UNet` keyword arguments,
read from :data:`antialias.variants.DESIGNS` (the one table of designs, labels and citations).

Every variant shares ``depth``, ``width``, ``norm`` and the double convs; build one with
:func:`build_variant`, which also builds every other design of the table (study v2).
"""


# The one checker (antialias._checks), under the names this module's call sites use.
_check_choice = check_choice
_check_int = check_int


# --- up paths composed here from public layers (no factory name of antialias.layers) --------


class PreConvUpsample2d(nn.Module):
    """1x1 conv at the *coarse* resolution, then a fixed interpolation: MONAI's
    ``UpSample(mode="nontrainable", pre_conv="default")``.

    The conv exists only when the channel counts differ (as MONAI's ``pre_conv="default"``);
    the interpolation is :func:`antialias.layers.create_upsample` ``mode`` with equal channels
    (no conv), so it wraps exactly with ``pad_mode="circular"``.

    Shape: :math:`(B, C_{in}, H, W) \\to (B, C_{out}, 2H, 2W)`.
    """

    def __init__(
        self, in_channels: int, out_channels: int, mode: str = "bilinear", pad_mode: str = "zeros"
    ) -> None:
        from antialias.layers import create_upsample

        super().__init__()
        same = in_channels == out_channels
        self.conv: nn.Module = nn.Identity() if same else nn.Conv2d(in_channels, out_channels, 1)
        self.interp = create_upsample(mode, out_channels, out_channels, pad_mode=pad_mode)

    def forward(self, x: Tensor) -> Tensor:
        return self.interp(self.conv(x))


class SubpixelBlurUpsample2d(nn.Module):
    """MONAI's ``SubpixelUpsample`` (``UpSample(mode="pixelshuffle")``, ``apply_pad_pool=True``):
    3x3 conv to ``4 C_out`` channels with ICNR init, ``PixelShuffle(2)``, then a pad of one
    row/column at the top/left and a 2x2 average at stride 1 (Aitken et al. 2017's blur).

    The sub-pixel conv is :func:`antialias.layers.create_upsample` ``"pixel_shuffle"``. The pad
    is MONAI's zeros for ``pad_mode="zeros"``, else ``pad_mode`` (``circular`` then wraps).

    Shape: :math:`(B, C_{in}, H, W) \\to (B, C_{out}, 2H, 2W)`.
    """

    def __init__(
        self, in_channels: int, out_channels: int, pad_mode: str = "zeros", kernel_size: int = 3
    ) -> None:
        from antialias.layers import create_upsample

        super().__init__()
        self.shuffle = create_upsample(
            "pixel_shuffle",
            in_channels,
            out_channels,
            pad_mode=pad_mode,
            kernel_size=kernel_size,
            init="icnr",
        )
        self.pad_mode = pad_mode

    def forward(self, x: Tensor) -> Tensor:
        y = self.shuffle(x)
        mode = "constant" if self.pad_mode == "zeros" else self.pad_mode
        return F.avg_pool2d(F.pad(y, (1, 0, 1, 0), mode=mode), 2, stride=1)


def _transposed_bilinear(
    in_channels: int, out_channels: int, pad_mode: str = "zeros", kernel_size: int = 4
) -> nn.Module:
    """Transposed conv ``kernel_size`` x ``kernel_size``, stride 2, initialised as FCN's bilinear
    kernel (Long et al. 2015) times a 1x1 channel mix: ``W[i, o] = M[o, i] * triangle``.

    FCN puts the triangle on the channel diagonal (``C_in == C_out``); a U-Net's up-conv halves
    the channels, so the diagonal becomes a random 1x1 mix ``M`` (``nn.Conv2d``'s default init):
    at init the layer *is* 1x1 conv + bilinear x2 (:class:`PreConvUpsample2d`) away from the
    outer border pixel, and training may move every tap.
    """
    from antialias.layers import create_upsample
    from antialias.transposed import init_bilinear_

    up = create_upsample(
        "transposed", in_channels, out_channels, pad_mode=pad_mode, kernel_size=kernel_size
    )
    tconv = up.body
    mix = nn.Conv2d(in_channels, out_channels, 1)  # its default init, then discarded
    triangle = init_bilinear_(torch.empty(1, 1, kernel_size, kernel_size), 2)[0, 0]
    with torch.no_grad():
        tconv.weight.copy_(mix.weight[:, :, 0, 0].t()[:, :, None, None] * triangle)
        tconv.bias.copy_(mix.bias)
    return up


def _build_model_up(
    name: str, in_channels: int, out_channels: int, *, pad_mode: str, **kwargs: Any
) -> nn.Module:
    if name == "preconv":
        return PreConvUpsample2d(in_channels, out_channels, pad_mode=pad_mode, **kwargs)
    if name == "subpixel_blur":
        return SubpixelBlurUpsample2d(in_channels, out_channels, pad_mode=pad_mode, **kwargs)
    return _transposed_bilinear(in_channels, out_channels, pad_mode=pad_mode, **kwargs)


MODEL_UPSAMPLERS: dict[str, Any] = {
    "preconv": _build_model_up,
    "subpixel_blur": _build_model_up,
    "transposed_bilinear": _build_model_up,
}
"""Up paths the UNet composes itself (``up=`` names beside the factory's): ``preconv`` (1x1
conv at the coarse resolution + interpolation ``mode``, MONAI nontrainable), ``subpixel_blur``
(MONAI pixel shuffle with pad + average), ``transposed_bilinear`` (transposed 4x4, bilinear x
1x1-mix init). Any other name goes to :func:`antialias.layers.create_upsample`."""


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

    ``mid_channels`` (default ``out_channels``) is the width between the two convs, as in
    Pytorch-UNet's ``DoubleConv(in, out, mid)``; the ``state_dict`` keys do not depend on it.

    Shape: :math:`(B, C_{in}, H, W) \\to (B, C_{out}, H, W)`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        pad_mode: str,
        norm: str,
        mid_channels: int | None = None,
    ) -> None:
        bias = norm == "none"
        mid = out_channels if mid_channels is None else mid_channels
        super().__init__(
            nn.Conv2d(in_channels, mid, 3, padding=1, padding_mode=pad_mode, bias=bias),
            _norm_layer(norm, mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_channels, 3, padding=1, padding_mode=pad_mode, bias=bias),
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
            ``nearest``, ``blur``, ``pixel_shuffle``, ``aps``, ...) or one of
            :data:`MODEL_UPSAMPLERS` (``preconv``, ``subpixel_blur``, ``transposed_bilinear``).
        pad_mode: padding of every conv and filter: ``zeros``, ``reflect``, ``replicate`` or
            ``circular``.
        norm: ``batch``, ``group`` or ``none`` after each conv.
        down_kwargs: extra keyword arguments of ``create_downsample`` (JSON-serialisable).
        up_kwargs: extra keyword arguments of ``create_upsample`` (JSON-serialisable).
        residual: add the input to the output (needs ``in_channels == out_channels``); used
            for denoising, where the network then predicts minus the noise. The head is
            zero-initialised, so a fresh residual net is the identity.
        size_policy: ``pad`` (pad-and-crop inputs not divisible by ``2**depth``) or ``error``.
        up_halves: where the channels halve on the way up. ``True`` (default, the original
            U-Net): each up-sampler maps ``C`` to ``C / 2`` and the decoder's double conv keeps
            its width. ``False`` (Pytorch-UNet ``bilinear=True``): every up-sampler keeps its
            channels, the bottleneck is halved (``width * 2**(depth-1)`` channels), and decoder
            ``i`` is ``DoubleConv(2 C_i, C_{i-1}, mid=C_i)`` (``C_0`` at level 0), so a
            fixed interpolation needs no conv at all.

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
        up_halves: bool = True,
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
        if not isinstance(up_halves, bool):
            raise TypeError(f"expected up_halves to be a bool, got {up_halves!r}")
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
            "up_halves": up_halves,
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
        # up_halves=False: the level below hands up C_i channels (Pytorch-UNet's `factor`)
        below = ch[1:] if up_halves else ch[:depth]
        self.bottleneck = DoubleConv(ch[depth - 1], below[depth - 1], pad_mode, norm)
        ups = []
        for i in range(depth):  # ups[i] goes from level i+1 to level i
            kwargs = copy.deepcopy(up_kwargs)
            if up == "aps":
                kwargs["pair"] = self.downs[i]
            builder = MODEL_UPSAMPLERS.get(up, create_upsample)
            ups.append(builder(up, below[i], ch[i], pad_mode=pad_mode, **kwargs))
        self.ups = nn.ModuleList(ups)
        if up_halves:
            decoders = [DoubleConv(2 * ch[i], ch[i], pad_mode, norm) for i in range(depth)]
        else:
            decoders = [
                DoubleConv(2 * ch[i], ch[max(i - 1, 0)], pad_mode, norm, mid_channels=ch[i])
                for i in range(depth)
            ]
        self.decoders = nn.ModuleList(decoders)
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
    """The architecture of a named design (:data:`antialias.variants.DESIGNS`: the shipped
    :data:`VARIANTS` and the study-v2 designs).

    Defaults: ``depth=SHIPPED_DEPTH`` (3), ``width=SHIPPED_WIDTH`` (8), ``norm="batch"``;
    ``overrides`` replace any :class:`UNet` argument.

    Example:
        >>> build_variant("bilinear", 1, 2).num_downsamplings
        3
    """
    if not isinstance(name, str) or name not in DESIGNS:
        raise ValueError(f"expected variant to be one of {list(DESIGNS)}, got {name!r}")
    kwargs: dict[str, Any] = {"depth": SHIPPED_DEPTH, "width": SHIPPED_WIDTH}
    kwargs.update(copy.deepcopy(DESIGNS[name].unet))
    kwargs.update(overrides)
    return UNet(in_channels, out_channels, **kwargs)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


_MAC_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def _layer_macs(module: nn.Module, inp: Tensor, out: Tensor) -> int:
    if isinstance(module, nn.Linear):
        return (inp.numel() // module.in_features) * module.in_features * module.out_features
    kernel = math.prod(module.kernel_size)
    if isinstance(module, nn.ConvTranspose2d):
        # every input sample scatters one kernel per output channel (cropped taps included)
        return inp.numel() * (module.out_channels // module.groups) * kernel
    # nn.Conv2d: one multiply-add per output sample per input channel of its group per tap.
    # The output size comes from the conv's own arithmetic on its input (subclasses such as a
    # conv followed by a blur-pool return a decimated map, but the conv ran at full size).
    size = 1
    for i, n in enumerate(inp.shape[-2:]):
        k, s, d = module.kernel_size[i], module.stride[i], module.dilation[i]
        if isinstance(module.padding, str):  # "same" (stride 1) or "valid"
            size *= n if module.padding == "same" else (n - d * (k - 1) - 1) // s + 1
        else:
            size *= (n + 2 * module.padding[i] - d * (k - 1) - 1) // s + 1
    per_output = (module.in_channels // module.groups) * kernel
    return inp.shape[0] * module.out_channels * size * per_output


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """Multiply-accumulates of one forward pass, from forward hooks on every conv, transposed
    conv and linear layer (biases, norms, activations, pooling and fixed filters/interpolation
    are not counted: they are memory-bound and have no learned taps).

    Args:
        model: any module; it is run once on zeros of ``input_shape`` in eval mode, no grad.
        input_shape: ``(B, C, H, W)`` (the batch counts: MACs scale with ``B``).

    Returns:
        ``{"total": n, "<layer name>": n, ...}`` with one entry per counted layer.

    Example:
        >>> count_macs(nn.Conv2d(3, 8, 3, padding=1), (1, 3, 10, 10))["total"]
        21600
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be an nn.Module, got {type(model).__name__}")
    ints = isinstance(input_shape, (tuple, list)) and all(isinstance(n, int) for n in input_shape)
    if not ints:
        raise TypeError(f"expected input_shape to be a tuple of ints, got {input_shape!r}")
    counts: dict[str, int] = {}
    hooks = []
    for name, module in model.named_modules():
        if type(module) in _MAC_LAYERS or isinstance(module, _MAC_LAYERS):

            def hook(mod: nn.Module, args: tuple, out: Tensor, key: str = name or "model") -> None:
                counts[key] = counts.get(key, 0) + _layer_macs(mod, args[0], out)

            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    param = next(model.parameters(), None)
    x = torch.zeros(tuple(input_shape), dtype=param.dtype if param is not None else None)
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return {"total": sum(counts.values()), **counts}


def matched_width(
    name: str, reference: str, width: int, depth: int, in_channels: int = 1, out_channels: int = 2
) -> int:
    """The width at which design ``name`` has the parameter count closest to ``reference`` at
    ``width``: the width-matched twin of a design whose size differs (ties: the smaller width).

    Example:
        >>> matched_width("tconv2", "tconv2", 16, 4)
        16
    """
    target = count_parameters(
        build_variant(reference, in_channels, out_channels, depth=depth, width=width)
    )

    def gap(w: int) -> int:
        net = build_variant(name, in_channels, out_channels, depth=depth, width=w)
        return abs(count_parameters(net) - target)

    lo, hi = 1, 4 * width  # parameters grow monotonically (about quadratically) with width
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if gap(m1) <= gap(m2):
            hi = m2
        else:
            lo = m1
    return min(range(lo, hi + 1), key=lambda w: (gap(w), w))
