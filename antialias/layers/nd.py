"""The 1-D and 3-D layers in one import: ``from antialias.layers.nd import BlurPool3d``.

What lives here: nothing but the names of ``blurpool_nd.py`` (blur-pool, max-blur-pool,
conv-blur-pool), ``aps_nd.py`` (APS down and up) and ``upsample_nd.py`` (blur up-sampling,
pixel shuffle), so that the package ``__init__`` and the factory have one module to import
them from.
"""

from __future__ import annotations

from .aps_nd import APSDown1d, APSDown3d, APSUp1d, APSUp3d, aps_down_nd, aps_up_nd
from .blurpool_nd import (
    PAD_SPLITS,
    BlurPool1d,
    BlurPool3d,
    ConvBlurPool1d,
    ConvBlurPool3d,
    MaxBlurPool1d,
    MaxBlurPool3d,
    blur_pool_nd,
    max_blur_pool_nd,
)
from .upsample_nd import (
    BlurUpsample1d,
    BlurUpsample3d,
    PixelShuffle3d,
    PixelShuffleUpsample3d,
    blur_upsample_nd,
    pixel_shuffle_nd,
)

__all__ = [
    "PAD_SPLITS",
    "APSDown1d",
    "APSDown3d",
    "APSUp1d",
    "APSUp3d",
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
    "aps_down_nd",
    "aps_up_nd",
    "blur_pool_nd",
    "blur_upsample_nd",
    "max_blur_pool_nd",
    "pixel_shuffle_nd",
]
