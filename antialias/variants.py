"""The designs compared by the study: the one table of names, labels, order and citations.

Every U-Net variant the project trains is a row of :data:`DESIGNS`: its name (used in file
names and results), a human label (figures, paper, docs), its family (one colour per family in
the figures), the encoder's down-sampler, the implementation it mirrors, and the
:class:`antialias.models.UNet` keyword arguments that build it. Figures, the paper and the docs
read labels and order from here (or from the labels stamped into results), never from a copy.

What does not live here: the U-Net itself (:mod:`antialias.models`) and colours/markers
(``figures/style.py``, keyed by family and encoder).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DESIGNS", "Design", "design", "label", "order", "unet_kwargs"]


@dataclass(frozen=True)
class Design:
    """One U-Net design: how it down- and up-samples, and where the idea comes from.

    Attributes:
        name: identifier in file names and results (``tconv2``).
        label: what a reader sees (``transposed 2x2``).
        family: the up-path family: ``transposed``, ``resize_conv``, ``pixel_shuffle``,
            ``blur``, ``aps`` (one colour per family in the figures).
        encoder: the down-sampler name of :func:`antialias.layers.create_downsample`.
        mirrors: the implementation or paper this design reproduces.
        unet: :class:`antialias.models.UNet` keyword arguments (down, up, their kwargs, padding).
        shipped: one of the ten variants with shipped checkpoints (study v1,
            :data:`antialias.models.VARIANTS`); ``False`` for the study-v2 designs.
    """

    name: str
    label: str
    family: str
    encoder: str
    mirrors: str
    unet: dict[str, Any] = field(default_factory=dict)
    shipped: bool = False


_ROWS: tuple[Design, ...] = (
    Design(
        "tconv2",
        "transposed 2x2",
        "transposed",
        "maxpool",
        "U-Net up-conv (Ronneberger 2015); Pytorch-UNet; MONAI BasicUNet deconv",
        {"down": "maxpool", "up": "transposed", "up_kwargs": {"kernel_size": 2}},
        shipped=True,
    ),
    Design(
        "tconv3",
        "transposed 3x3",
        "transposed",
        "maxpool",
        "MONAI UNet (transposed conv, kernel 3, stride 2)",
        {"down": "maxpool", "up": "transposed", "up_kwargs": {"kernel_size": 3}},
        shipped=True,
    ),
    Design(
        "tconv4",
        "transposed 4x4",
        "transposed",
        "maxpool",
        "DCGAN-style 4x4 stride-2 deconvolution (Odena et al. 2016)",
        {"down": "maxpool", "up": "transposed", "up_kwargs": {"kernel_size": 4}},
        shipped=True,
    ),
    Design(
        "nearest",
        "nearest + conv",
        "resize_conv",
        "maxpool",
        "resize-conv (Odena et al. 2016): nearest x2, then 3x3 conv at the fine resolution",
        {"down": "maxpool", "up": "nearest"},
        shipped=True,
    ),
    Design(
        "bilinear",
        "bilinear + conv",
        "resize_conv",
        "maxpool",
        "resize-conv (Odena et al. 2016): bilinear x2, then 3x3 conv at the fine resolution",
        {"down": "maxpool", "up": "bilinear"},
        shipped=True,
    ),
    Design(
        "pixelshuffle",
        "pixel shuffle (ICNR)",
        "pixel_shuffle",
        "maxpool",
        "sub-pixel conv (Shi et al. 2016) with ICNR init (Aitken et al. 2017)",
        {"down": "maxpool", "up": "pixel_shuffle"},
        shipped=True,
    ),
    Design(
        "blurpool_tconv4",
        "blur-pool + transposed 4x4",
        "transposed",
        "maxblurpool",
        "max-blur-pool encoder (Zhang 2019) with a 4x4 transposed decoder",
        {"down": "maxblurpool", "up": "transposed", "up_kwargs": {"kernel_size": 4}},
        shipped=True,
    ),
    Design(
        "blurpool_bilinear",
        "blur-pool + bilinear",
        "resize_conv",
        "maxblurpool",
        "max-blur-pool encoder (Zhang 2019) with a bilinear resize-conv decoder",
        {"down": "maxblurpool", "up": "bilinear"},
        shipped=True,
    ),
    Design(
        "blurpool_blur",
        "blur-pool + blur-up",
        "blur",
        "maxblurpool",
        "max-blur-pool encoder and zeros + binomial low-pass decoder (Zhang 2019, both halves)",
        {"down": "maxblurpool", "up": "blur"},
        shipped=True,
    ),
    Design(
        "aps",
        "APS down + up (circular)",
        "aps",
        "aps",
        "adaptive polyphase sampling, APS-U (Chaman & Dokmanic 2021), circular padding",
        {"down": "aps", "up": "aps", "pad_mode": "circular"},
        shipped=True,
    ),
    # --- study v2 (issue 12): the up paths real U-Nets use, crossed encoders, APS padding ----
    Design(
        "bilinear_1x1",
        "1x1 conv (coarse) + bilinear",
        "interp_1x1",
        "maxpool",
        "MONAI UpSample(mode='nontrainable', pre_conv='default', interp_mode='linear') as in "
        "BasicUNet(upsample='nontrainable') (monai/networks/blocks/upsample.py): 1x1 conv at "
        "the coarse resolution, then bilinear x2; align_corners=False here (MONAI's default "
        "True makes the sampling grid depend on the input size)",
        {"down": "maxpool", "up": "preconv", "up_kwargs": {"mode": "bilinear"}},
    ),
    Design(
        "bilinear_only",
        "bilinear only (wide decoder)",
        "interp_only",
        "maxpool",
        "Pytorch-UNet (milesial) UNet(bilinear=True) (unet/unet_parts.py Up, unet_model.py): "
        "nn.Upsample(2, bilinear) with no conv, DoubleConv(in, out, mid=in // 2) on the wider "
        "concatenation, bottleneck halved; align_corners=False here (Pytorch-UNet: True)",
        {"down": "maxpool", "up": "bilinear", "up_halves": False},
    ),
    Design(
        "subpixel_blur",
        "pixel shuffle (ICNR) + 2x2 blur",
        "pixel_shuffle",
        "maxpool",
        "MONAI SubpixelUpsample (UpSample(mode='pixelshuffle'), apply_pad_pool=True; "
        "monai/networks/blocks/upsample.py): 3x3 conv to 4 C_out, ICNR, PixelShuffle, zero pad "
        "top/left + AvgPool(2, stride 1) (Aitken et al. 2017)",
        {"down": "maxpool", "up": "subpixel_blur"},
    ),
    Design(
        "tconv4_bilinear",
        "transposed 4x4, bilinear init",
        "transposed",
        "maxpool",
        "FCN bilinear-initialised deconvolution (Long et al. 2015) with the U-Net's channel "
        "halving: kernel = triangle x 1x1 mix, so it starts as 1x1 conv + bilinear",
        {"down": "maxpool", "up": "transposed_bilinear"},
    ),
    Design(
        "blurpool_blur5",
        "blur-pool + binomial-5 blur-up",
        "blur",
        "maxblurpool",
        "max-blur-pool encoder (Zhang 2019) and zeros + binomial-5 [1,4,6,4,1] low-pass decoder, "
        "then 3x3 conv: a low-pass genuinely different from bilinear's [1,3,3,1]",
        {"down": "maxblurpool", "up": "blur", "up_kwargs": {"taps": 5}},
    ),
    Design(
        "blurpool_tconv2",
        "blur-pool + transposed 2x2",
        "transposed",
        "maxblurpool",
        "max-blur-pool encoder (Zhang 2019) with the U-Net up-conv (Ronneberger 2015)",
        {"down": "maxblurpool", "up": "transposed", "up_kwargs": {"kernel_size": 2}},
    ),
    Design(
        "blurpool_bilinear_1x1",
        "blur-pool + 1x1 conv + bilinear",
        "interp_1x1",
        "maxblurpool",
        "max-blur-pool encoder (Zhang 2019) with MONAI's nontrainable up path",
        {"down": "maxblurpool", "up": "preconv", "up_kwargs": {"mode": "bilinear"}},
    ),
    Design(
        "blurpool_bilinear_only",
        "blur-pool + bilinear only",
        "interp_only",
        "maxblurpool",
        "max-blur-pool encoder (Zhang 2019) with Pytorch-UNet's bilinear=True decoder",
        {"down": "maxblurpool", "up": "bilinear", "up_halves": False},
    ),
    Design(
        "aps_zeros",
        "APS down + up (zeros)",
        "aps",
        "aps",
        "adaptive polyphase sampling, APS-U (Chaman & Dokmanic 2021) with zero padding: the "
        "padding effect apart from the sampler (compare aps)",
        {"down": "aps", "up": "aps", "pad_mode": "zeros"},
    ),
)

#: name -> :class:`Design`, in display order.
DESIGNS: dict[str, Design] = {row.name: row for row in _ROWS}


def design(name: str) -> Design:
    """The row of ``name``; ``ValueError`` naming the valid designs otherwise."""
    if not isinstance(name, str) or name not in DESIGNS:
        raise ValueError(f"expected variant to be one of {list(DESIGNS)}, got {name!r}")
    return DESIGNS[name]


def label(name: str) -> str:
    """What a reader sees for ``name`` (unknown names are shown as they are)."""
    row = DESIGNS.get(name)
    return row.label if row else name


def order() -> tuple[str, ...]:
    """Display order of the designs."""
    return tuple(DESIGNS)


def unet_kwargs(name: str) -> dict[str, Any]:
    """A fresh copy of the :class:`~antialias.models.UNet` keyword arguments of ``name``."""
    return copy.deepcopy(design(name).unet)
