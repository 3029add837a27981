"""antialias: aliasing and shift-equivariance of convolutional networks, U-Nets above all.

Layers of the library (each imports only the ones above it):

- ``antialias.filters``     filter *design* (1-D taps, 2-D kernels); no torch.nn.
- ``antialias.resample``    filter *application*: ``upfirdn2d`` (``impl=``), its wrappers, the
  "prepare once" plan and the border extension.
- ``antialias.catalogue``   torch's fixed up-samplers expressed as zeros + FIR.
- ``antialias.spectral``    frequency responses and aliasing / imaging / checkerboard measures.
- ``antialias.transposed``  transposed convolution: shapes, equivalent views, initialisers.
- ``antialias.upfirdn``     the N-D (1-3 axes) resampling primitive; ``spectral_nd`` its analysis.
- ``antialias.layers``      blur-pool, APS, ``Upsample2d``, 1-D/3-D layers, factories, ``convert``.
- ``antialias.models``      the U-Net family.
- ``antialias.export``      ONNX export of any model, checked against eager at a second size.
- ``antialias.data``, ``antialias.train``, ``antialias.checkpoint``: data, training, safe I/O.
- ``antialias.shifts``, ``antialias.metrics``: shift operators and equivariance metrics.
"""

from __future__ import annotations

__version__ = "0.1.0"

import sys  # noqa: E402
import types  # noqa: E402

from antialias import metrics, shifts, spectral, spectral_nd, transposed  # noqa: E402
from antialias.catalogue import interpolate_as_fir, interpolation_taps  # noqa: E402
from antialias.filters import (  # noqa: E402
    as_taps,
    binomial_taps,
    box_taps,
    cubic_taps,
    kaiser_lowpass_taps,
    lanczos_taps,
    linear_taps,
    outer2d,
)
from antialias.layers import (  # noqa: E402
    APSDown1d,
    APSDown2d,
    APSDown3d,
    APSUp1d,
    APSUp2d,
    APSUp3d,
    BlurPool1d,
    BlurPool2d,
    BlurPool3d,
    BlurUpsample1d,
    BlurUpsample3d,
    ConvBlurPool1d,
    ConvBlurPool2d,
    ConvBlurPool3d,
    MaxBlurPool1d,
    MaxBlurPool2d,
    MaxBlurPool3d,
    PixelShuffle3d,
    PixelShuffleUpsample3d,
    Upsample2d,
    convert,
    create_downsample,
    create_upsample,
)
from antialias.resample import (  # noqa: E402
    PAD_MODES,
    downsample2d,
    extend2d,
    filter2d,
    prepare_upfirdn2d,
    upfirdn2d,
    upfirdn2d_reference,
    upsample2d,
)
from antialias.upfirdn import (  # noqa: E402
    downsample_nd,
    filter_nd,
    upfirdn_reference,
    upsample_nd,
)


class _CallableModule(types.ModuleType):
    """``antialias.upfirdn`` is both the module and its function: calling it calls
    :func:`antialias.upfirdn.upfirdn`.

    ``from antialias.upfirdn import upfirdn`` in this ``__init__`` would rebind the package
    attribute ``upfirdn`` to the function, and ``import antialias.upfirdn as m`` would then
    give the function, not the module (its private helpers, tests, monkeypatching gone).
    """

    def __call__(self, *args, **kwargs):
        return self.upfirdn(*args, **kwargs)


upfirdn = sys.modules["antialias.upfirdn"]
upfirdn.__class__ = _CallableModule

__all__ = [
    "PAD_MODES",
    "APSDown2d",
    "APSUp2d",
    "BlurPool2d",
    "ConvBlurPool2d",
    "MaxBlurPool2d",
    "Upsample2d",
    "as_taps",
    "binomial_taps",
    "box_taps",
    "convert",
    "create_downsample",
    "create_upsample",
    "cubic_taps",
    "downsample2d",
    "extend2d",
    "filter2d",
    "interpolate_as_fir",
    "interpolation_taps",
    "kaiser_lowpass_taps",
    "lanczos_taps",
    "linear_taps",
    "metrics",
    "outer2d",
    "prepare_upfirdn2d",
    "shifts",
    "spectral",
    "transposed",
    "upfirdn2d",
    "upfirdn2d_reference",
    "upsample2d",
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
    "downsample_nd",
    "filter_nd",
    "upfirdn",
    "upfirdn_reference",
    "upsample_nd",
    "spectral_nd",
    "APSDown1d",
    "APSDown3d",
    "APSUp1d",
    "APSUp3d",
]
