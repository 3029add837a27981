"""Volumetric U-Nets (``spatial_dims=3``): one encoder/decoder, one up path per main design.

:class:`UNet3d` is the 3-D twin of :class:`antialias.models.UNet` (which stays 2-D only and
unchanged): double 3x3x3 convs, ``depth`` factor-2 down-samplings, skips by concatenation, a
1x1x1 head. Its down-samplers come from :func:`antialias.layers.create_downsample` with
``spatial_dims=3`` (``maxpool`` = ``nn.MaxPool3d(2)``, ``maxblurpool`` = max at stride 1 then a
3-D binomial blur-pool, Zhang 2019), its up-samplers from the N-D factory too:

- ``up="transposed"``: ``nn.ConvTranspose3d(C, C/2, 2, stride=2)`` (U-Net up-conv, MONAI
  ``BasicUNet(upsample="deconv")``);
- ``up="preconv_trilinear"``: a 1x1x1 conv ``C -> C/2`` at the *coarse* resolution, then
  trilinear x2 (zeros + triangle FIR, torch's ``align_corners=False`` interpolation with
  replicate edges; wraps under ``pad_mode="circular"``): MONAI
  ``UpSample(mode="nontrainable", pre_conv="default")``.

:data:`VOLUME_DESIGNS` is the table of the 3-D designs (name, label, what each mirrors, the
:class:`UNet3d` kwargs), in the :class:`antialias.variants.Design` format; the 2-D table
(:data:`antialias.variants.DESIGNS`) is not touched. Cost: :func:`count_parameters` and
:func:`count_macs_3d` (hooks on ``Conv3d`` / ``ConvTranspose3d``). Checkpoints:
:func:`save_volume_checkpoint` / :func:`load_volume_checkpoint` (safetensors + JSON header via
:mod:`antialias.checkpoint`; never unpickles; the config is checked before anything is built).

Inputs must be multiples of ``2**depth`` on every axis (``ValueError`` otherwise): the volume
task cuts its patches and slabs to such sizes, and no silent padding changes what a shift does.

What does not live here: the 2-D U-Net (:mod:`antialias.models`), the volume task
(:mod:`antialias.volumes`), training (``analysis/volumes_study.py``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from antialias._checks import PAD_MODES, check_choice, check_int
from antialias.variants import Design

__all__ = [
    "MAX_DEPTH",
    "MAX_WIDTH",
    "UP_PATHS",
    "VOLUME_DESIGNS",
    "DoubleConv3d",
    "PreConvTrilinear3d",
    "UNet3d",
    "UNet3dProbability",
    "build_volume_design",
    "count_macs_3d",
    "count_parameters",
    "load_volume_checkpoint",
    "save_volume_checkpoint",
]

MAX_DEPTH = 5
"""Largest depth a (checkpoint) config may ask for (a 2**5 = 32 voxel period)."""
MAX_WIDTH = 256
"""Largest width a (checkpoint) config may ask for (checked before anything is built)."""
UP_PATHS: tuple[str, ...] = ("transposed", "preconv_trilinear")
DOWNS: tuple[str, ...] = ("maxpool", "maxblurpool")
NORMS: tuple[str, ...] = ("batch", "group", "instance", "none")


class PreConvTrilinear3d(nn.Module):
    """1x1x1 conv at the coarse resolution (when the channels differ), then trilinear x2:
    MONAI's ``UpSample(spatial_dims=3, mode="nontrainable", pre_conv="default")``.

    The interpolation is :func:`antialias.layers.create_upsample` ``"trilinear"`` with equal
    channels (no conv): zeros + triangle FIR, replicate edges (torch's ``align_corners=False``
    trilinear), circular under ``pad_mode="circular"``.

    Shape: :math:`(B, C_{in}, D, H, W) \\to (B, C_{out}, 2D, 2H, 2W)`.

    Example:
        >>> PreConvTrilinear3d(8, 4)(torch.zeros(1, 8, 2, 3, 3)).shape
        torch.Size([1, 4, 4, 6, 6])
    """

    def __init__(self, in_channels: int, out_channels: int, pad_mode: str = "zeros") -> None:
        from antialias.layers import create_upsample

        super().__init__()
        same = in_channels == out_channels
        self.conv: nn.Module = nn.Identity() if same else nn.Conv3d(in_channels, out_channels, 1)
        self.interp = create_upsample(
            "trilinear", out_channels, out_channels, spatial_dims=3, pad_mode=pad_mode
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.interp(self.conv(x))


def _norm(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm3d(channels)
    if norm == "group":
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    if norm == "instance":  # MONAI's UNet / BasicUNet default ("instance", affine)
        return nn.InstanceNorm3d(channels, affine=True)
    return nn.Identity()


class DoubleConv3d(nn.Sequential):
    """(3x3x3 conv, norm, ReLU) twice, padding ``pad_mode``; spatial size unchanged.

    Shape: :math:`(B, C_{in}, D, H, W) \\to (B, C_{out}, D, H, W)`.
    """

    def __init__(self, in_channels: int, out_channels: int, pad_mode: str, norm: str) -> None:
        bias = norm == "none"
        super().__init__(
            nn.Conv3d(in_channels, out_channels, 3, padding=1, padding_mode=pad_mode, bias=bias),
            _norm(norm, out_channels),
            nn.ReLU(inplace=True),
            nn.Conv3d(out_channels, out_channels, 3, padding=1, padding_mode=pad_mode, bias=bias),
            _norm(norm, out_channels),
            nn.ReLU(inplace=True),
        )


class UNet3d(nn.Module):
    """A small volumetric U-Net whose down/up paths are named (:mod:`antialias.layers`, 3-D).

    Level ``i`` (0 = full resolution) has ``width * 2**i`` channels; each decoder level
    up-samples ``C_{i+1} -> C_i`` (the up path halves the channels), concatenates the skip and
    applies a double conv.

    Args:
        in_channels: input channels.
        out_channels: output channels (2 logits for binary segmentation).
        depth: factor-2 down-samplings ``L`` (period ``2**L`` voxels on every axis).
        width: channels at full resolution.
        down: ``maxpool`` or ``maxblurpool`` (``create_downsample(..., spatial_dims=3)``).
        up: ``transposed`` (2x2x2, stride 2) or ``preconv_trilinear`` (1x1x1 at the coarse
            resolution + trilinear).
        pad_mode: padding of every conv and filter: ``zeros``, ``reflect``, ``replicate`` or
            ``circular`` (with ``circular``, shifts by multiples of ``2**depth`` commute with
            the network to rounding).
        norm: ``batch``, ``group`` (up to 8 groups), ``instance`` (affine, MONAI's default) or
            ``none`` after each conv.
        down_kwargs: extra keyword arguments of the down-sampler (``taps``, ...).

    Shape:
        - input: :math:`(B, C_{in}, D, H, W)`, each of ``D, H, W`` a multiple of ``2**depth``
        - output: :math:`(B, C_{out}, D, H, W)`

    Example:
        >>> net = UNet3d(1, 2, depth=2, width=4, up="preconv_trilinear")
        >>> net(torch.zeros(1, 1, 4, 8, 8)).shape
        torch.Size([1, 2, 4, 8, 8])
        >>> UNet3d(**json.loads(json.dumps(net.config))).config == net.config
        True
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 2,
        depth: int = 2,
        width: int = 8,
        down: str = "maxpool",
        up: str = "transposed",
        pad_mode: str = "zeros",
        norm: str = "batch",
        down_kwargs: dict[str, Any] | None = None,
    ) -> None:
        from antialias.layers import create_downsample, create_upsample

        super().__init__()
        check_int("in_channels", in_channels, 1)
        check_int("out_channels", out_channels, 1)
        check_int("depth", depth, 1, MAX_DEPTH)
        check_int("width", width, 1, MAX_WIDTH)
        check_choice("down", down, DOWNS)
        check_choice("up", up, UP_PATHS)
        check_choice("pad_mode", pad_mode, PAD_MODES)
        check_choice("norm", norm, NORMS)
        if down_kwargs is not None and not isinstance(down_kwargs, dict):
            raise TypeError(f"expected down_kwargs to be a dict or None, got {down_kwargs!r}")
        down_kwargs = copy.deepcopy(down_kwargs) if down_kwargs else {}
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
        }
        try:
            json.dumps(self._config)
        except TypeError as err:
            raise TypeError(f"expected JSON-serialisable kwargs, got: {err}") from err
        ch = [width * 2**i for i in range(depth + 1)]
        self.encoders = nn.ModuleList(
            [
                DoubleConv3d(in_channels if i == 0 else ch[i - 1], ch[i], pad_mode, norm)
                for i in range(depth)
            ]
        )
        self.downs = nn.ModuleList(
            [
                create_downsample(
                    down, ch[i], spatial_dims=3, pad_mode=pad_mode, **copy.deepcopy(down_kwargs)
                )
                for i in range(depth)
            ]
        )
        self.bottleneck = DoubleConv3d(ch[depth - 1], ch[depth], pad_mode, norm)
        ups: list[nn.Module] = []
        for i in range(depth):  # ups[i] goes from level i+1 to level i
            if up == "transposed":
                ups.append(
                    create_upsample("transposed", ch[i + 1], ch[i], spatial_dims=3, kernel_size=2)
                )
            else:
                ups.append(PreConvTrilinear3d(ch[i + 1], ch[i], pad_mode))
        self.ups = nn.ModuleList(ups)
        self.decoders = nn.ModuleList(
            [DoubleConv3d(2 * ch[i], ch[i], pad_mode, norm) for i in range(depth)]
        )
        self.head = nn.Conv3d(ch[0], out_channels, 1)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments, a JSON-serialisable copy (``UNet3d(**config)`` rebuilds)."""
        return copy.deepcopy(self._config)

    @property
    def num_downsamplings(self) -> int:
        """``L`` (= ``depth``): the shift-consistency engine reads the period ``2**L`` here."""
        return self._config["depth"]

    @property
    def period(self) -> int:
        """``2**depth`` voxels on every axis."""
        return 2 ** self._config["depth"]

    def levels(self) -> list[tuple[str, nn.Module, int]]:
        """``(name, module, stride)`` of every encoder block, the bottleneck, every decoder."""
        depth = self._config["depth"]
        out = [(f"enc{i}", self.encoders[i], 2**i) for i in range(depth)]
        out.append(("bottleneck", self.bottleneck, 2**depth))
        out += [(f"dec{i}", self.decoders[i], 2**i) for i in reversed(range(depth))]
        return out

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 5:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected input of shape (B, C, D, H, W), got {shape}")
        if x.shape[1] != self._config["in_channels"]:
            raise ValueError(
                f"expected {self._config['in_channels']} input channels, got {x.shape[1]}"
            )
        p = self.period
        if any(n % p for n in x.shape[2:]):
            raise ValueError(
                f"expected D, H, W multiples of 2**depth = {p}, got {tuple(x.shape[2:])}"
            )
        skips = []
        for enc, down in zip(self.encoders, self.downs):
            x = enc(x)
            skips.append(x)
            x = down(x)
        x = self.bottleneck(x)
        for i in reversed(range(self._config["depth"])):
            x = self.ups[i](x)
            x = self.decoders[i](torch.cat([skips[i], x], dim=1))
        return self.head(x)


class UNet3dProbability(UNet3d):
    """:class:`UNet3d` whose output is the foreground probability ``softmax(logits)[:, 1:2]``.

    The same parameters and ``state_dict`` keys as :class:`UNet3d` (a checkpoint of one loads
    into the other): for shift analyses of the *outputs* as maps in ``[0, 1]`` (PSNR with data
    range 1) rather than of the label maps.

    Shape: :math:`(B, C_{in}, D, H, W) \\to (B, 1, D, H, W)`.
    """

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(super().forward(x), dim=1)[:, 1:2]


# --- the designs ----------------------------------------------------------------------------

VOLUME_DESIGNS: dict[str, Design] = {
    d.name: d
    for d in (
        Design(
            "tconv2_3d",
            "transposed 2x2x2",
            "transposed",
            "maxpool",
            "U-Net up-conv (Ronneberger 2015) in 3-D; MONAI BasicUNet(spatial_dims=3, "
            "upsample='deconv'): ConvTranspose3d(C, C/2, 2, stride 2)",
            {"down": "maxpool", "up": "transposed"},
        ),
        Design(
            "trilinear_1x1_3d",
            "1x1x1 conv (coarse) + trilinear",
            "interp_1x1",
            "maxpool",
            "MONAI UpSample(spatial_dims=3, mode='nontrainable', pre_conv='default', "
            "interp_mode='trilinear') as in BasicUNet(upsample='nontrainable'): 1x1x1 conv at "
            "the coarse resolution, then trilinear x2 (align_corners=False here)",
            {"down": "maxpool", "up": "preconv_trilinear"},
        ),
        Design(
            "blurpool_trilinear_1x1_3d",
            "blur-pool + 1x1x1 conv + trilinear",
            "interp_1x1",
            "maxblurpool",
            "max-blur-pool encoder (Zhang 2019; MaxPool3d(2, stride 1) + binomial-3 blur, "
            "stride 2) with MONAI's nontrainable trilinear up path (trilinear = zeros + "
            "triangle low-pass, a blur-up): differs from trilinear_1x1_3d in the encoder only",
            {"down": "maxblurpool", "up": "preconv_trilinear"},
        ),
    )
}
"""The 3-D designs trained on the volume task, in order (labels and citations: one table)."""


def build_volume_design(name: str, **overrides: Any) -> UNet3d:
    """The :class:`UNet3d` of a named 3-D design; ``overrides`` replace any argument.

    Example:
        >>> build_volume_design("tconv2_3d", width=4).config["up"]
        'transposed'
    """
    if not isinstance(name, str) or name not in VOLUME_DESIGNS:
        raise ValueError(f"expected design to be one of {list(VOLUME_DESIGNS)}, got {name!r}")
    kwargs = {"in_channels": 1, "out_channels": 2, **copy.deepcopy(VOLUME_DESIGNS[name].unet)}
    kwargs.update(overrides)
    return UNet3d(**kwargs)


# --- cost -----------------------------------------------------------------------------------


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _macs(module: nn.Module, inp: Tensor, out: Tensor) -> int:
    kernel = math.prod(module.kernel_size)
    per_group_in = module.in_channels // module.groups
    if isinstance(module, nn.ConvTranspose3d):
        # every input voxel scatters one kernel per output channel of its group
        return inp.numel() * (module.out_channels // module.groups) * kernel
    return out.numel() * per_group_in * kernel  # nn.Conv3d: one MAC per output, input, tap


def count_macs_3d(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """Multiply-accumulates of one forward pass over ``Conv3d`` / ``ConvTranspose3d`` layers.

    Fixed filters (blur, trilinear), pooling, norms and activations are not counted (no learned
    taps; memory-bound), as :func:`antialias.models.count_macs` does in 2-D.

    Args:
        model: run once on zeros of ``input_shape`` in eval mode, without grad.
        input_shape: ``(B, C, D, H, W)``.

    Returns:
        ``{"total": n, "<layer name>": n, ...}``.

    Example:
        >>> count_macs_3d(nn.Conv3d(2, 3, 3, padding=1), (1, 2, 4, 4, 4))["total"]
        10368
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be an nn.Module, got {type(model).__name__}")
    if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 5):
        raise TypeError(f"expected input_shape (B, C, D, H, W), got {input_shape!r}")
    counts: dict[str, int] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv3d, nn.ConvTranspose3d)):

            def hook(mod: nn.Module, args: tuple, out: Tensor, key: str = name or "model") -> None:
                counts[key] = counts.get(key, 0) + _macs(mod, args[0], out)

            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(tuple(input_shape)))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return {"total": sum(counts.values()), **counts}


# --- checkpoints ----------------------------------------------------------------------------

VOLUME_FORMAT = "antialias-volume-unet"


def save_volume_checkpoint(path: str | Path, model: UNet3d, meta: Mapping[str, Any]) -> Path:
    """:func:`antialias.checkpoint.save_checkpoint` of a :class:`UNet3d` (``arch`` stamped)."""
    from antialias.checkpoint import save_checkpoint

    if not isinstance(model, UNet3d):
        raise TypeError(f"expected a UNet3d, got {type(model).__name__}")
    return save_checkpoint(path, model, {**dict(meta), "arch": VOLUME_FORMAT})


def _check_volume_config(config: object, where: str) -> dict[str, Any]:
    from antialias.checkpoint import CheckpointError

    if not isinstance(config, dict):
        raise CheckpointError(f"{where}: expected a config object, got {type(config).__name__}")
    valid = {
        "in_channels",
        "out_channels",
        "depth",
        "width",
        "down",
        "up",
        "pad_mode",
        "norm",
        "down_kwargs",
    }
    unknown = sorted(set(config) - valid)
    if unknown:
        raise CheckpointError(f"{where}: expected config keys among {sorted(valid)}, got {unknown}")
    for key, top in (("in_channels", 64), ("out_channels", 64)):
        value = config.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise CheckpointError(f"{where}: expected config {key} in [1, {top}], got {value!r}")
    return config


def load_volume_checkpoint(path: str | Path) -> tuple[UNet3d, dict[str, Any]]:
    """Rebuild a :class:`UNet3d` from a checkpoint written by :func:`save_volume_checkpoint`.

    The metadata is read from the safetensors header; the config's sizes are bounded
    (:data:`MAX_DEPTH`, :data:`MAX_WIDTH`, channels <= 64) before the model is built; the
    weights are read with safetensors (never unpickled) and must match names, shapes, kinds
    and be finite (:func:`antialias.checkpoint.check_state_dict`).

    Returns:
        ``(model, meta)``: the model in eval mode on the CPU, and the metadata dict.

    Raises:
        CheckpointError: a one-line reason naming the file.
    """
    from antialias.checkpoint import (
        CheckpointError,
        check_state_dict,
        load_state_dict_safely,
        read_metadata,
    )

    path = Path(path)
    meta = read_metadata(path)
    if meta.get("arch") != VOLUME_FORMAT:
        raise CheckpointError(
            f"{path}: expected a volume U-Net checkpoint (arch {VOLUME_FORMAT!r}), got "
            f"arch {meta.get('arch')!r}"
        )
    config = _check_volume_config(meta["config"], str(path))
    try:
        model = UNet3d(**config)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: cannot build a UNet3d from its config: {err}") from err
    state = load_state_dict_safely(path)
    check_state_dict(model, state, str(path))
    model.load_state_dict(state, strict=True)
    return model.eval(), meta
