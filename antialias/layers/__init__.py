"""Anti-aliased layers: blur-pool, APS, up-sampling, the factories, and the model converter.

Public API (each op is a function plus a thin ``nn.Module``; filters are non-persistent
buffers; modules take ``device=`` / ``dtype=``):

- down: :func:`blur_pool2d` / :class:`BlurPool2d`, :func:`max_blur_pool2d` /
  :class:`MaxBlurPool2d`, :class:`ConvBlurPool2d`, :func:`aps_down2d` / :class:`APSDown2d`;
- up: :class:`Upsample2d` (methods in :data:`UPSAMPLE_METHODS`), :func:`blur_upsample2d`,
  :func:`aps_up2d` / :class:`APSUp2d`;
- factories: :func:`create_downsample`, :func:`create_upsample` and their registries;
- :func:`convert`: an existing model's resamplers made anti-aliased, trained weights kept.
- 1-D and 3-D (:mod:`antialias.layers.nd`): ``BlurPool1d/3d``, ``MaxBlurPool1d/3d``,
  ``ConvBlurPool1d/3d``, ``APSDown1d/3d`` / ``APSUp1d/3d`` (:func:`aps_down_nd`,
  :func:`aps_up_nd`), ``BlurUpsample1d/3d``, ``PixelShuffle3d``,
  ``PixelShuffleUpsample3d``, ``ConvTransposeBlur1d/3d``, the blur-before convs
  ``BlurConv1d/2d/3d``; the factories take ``spatial_dims=``.
"""

from __future__ import annotations

from ._common import PAD_MODES
from .aps import APS_NORMS, APSDown2d, APSUp2d, aps_down2d, aps_up2d
from .blurconv import (
    BlurConv1d,
    BlurConv2d,
    BlurConv3d,
    ConvTransposeBlur1d,
    ConvTransposeBlur3d,
    PixelShuffleBlur,
)
from .blurpool import (
    PAD_SPLITS,
    BlurPool2d,
    ConvBlurPool2d,
    MaxBlurPool2d,
    blur_pool2d,
    max_blur_pool2d,
)
from .convert import Change, ConversionReport, ScanWarning, convert, scan_functional
from .factory import (
    DOWN_COMMON,
    DOWNSAMPLERS,
    UPSAMPLERS,
    create_downsample,
    create_upsample,
    list_downsamplers,
    list_upsamplers,
)
from .nd import (
    APSDown1d,
    APSDown3d,
    APSUp1d,
    APSUp3d,
    BlurPool1d,
    BlurPool3d,
    BlurUpsample1d,
    BlurUpsample3d,
    ConvBlurPool1d,
    ConvBlurPool3d,
    MaxBlurPool1d,
    MaxBlurPool3d,
    PixelShuffle3d,
    PixelShuffleUpsample3d,
    aps_down_nd,
    aps_up_nd,
    blur_pool_nd,
    blur_upsample_nd,
    max_blur_pool_nd,
    pixel_shuffle_nd,
)
from .upsample import (
    UPSAMPLE_COMMON,
    UPSAMPLE_KEYWORDS,
    UPSAMPLE_METHODS,
    ConvTransposeBlur2d,
    Upsample2d,
    blur_upsample2d,
    transposed_padding,
)

__all__ = [
    "APS_NORMS",
    "DOWN_COMMON",
    "DOWNSAMPLERS",
    "PAD_MODES",
    "PAD_SPLITS",
    "UPSAMPLERS",
    "UPSAMPLE_COMMON",
    "UPSAMPLE_KEYWORDS",
    "UPSAMPLE_METHODS",
    "APSDown2d",
    "APSUp2d",
    "BlurPool2d",
    "Change",
    "ConversionReport",
    "ConvTransposeBlur2d",
    "ConvBlurPool2d",
    "MaxBlurPool2d",
    "Upsample2d",
    "aps_down2d",
    "aps_up2d",
    "blur_pool2d",
    "blur_upsample2d",
    "convert",
    "create_downsample",
    "create_upsample",
    "list_downsamplers",
    "list_upsamplers",
    "max_blur_pool2d",
    "transposed_padding",
    "BlurConv1d",
    "BlurConv2d",
    "BlurConv3d",
    "ConvTransposeBlur1d",
    "ConvTransposeBlur3d",
    "PixelShuffleBlur",
    "ScanWarning",
    "scan_functional",
    "BlurPool1d",
    "BlurPool3d",
    "BlurUpsample1d",
    "BlurUpsample3d",
    "ConvBlurPool1d",
    "ConvBlurPool3d",
    "MaxBlurPool1d",
    "MaxBlurPool3d",
    "PixelShuffle3d",
    "PixelShuffleUpsample3d",
    "blur_pool_nd",
    "blur_upsample_nd",
    "max_blur_pool_nd",
    "pixel_shuffle_nd",
    "APSDown1d",
    "APSDown3d",
    "APSUp1d",
    "APSUp3d",
    "aps_down_nd",
    "aps_up_nd",
]
