"""antialias: aliasing and shift-equivariance of convolutional networks, U-Nets above all.

Layers of the library (each imports only the ones above it):

- ``antialias.filters``     filter *design* (1-D taps, 2-D kernels); no torch.nn.
- ``antialias.resample``    filter *application*: ``upfirdn2d`` (``impl=``), its wrappers, the
  "prepare once" plan and the border extension.
- ``antialias.catalogue``   torch's fixed up-samplers expressed as zeros + FIR.
- ``antialias.spectral``    frequency responses and aliasing / imaging / checkerboard measures.
- ``antialias.transposed``  transposed convolution: shapes, equivalent views, initialisers.
- ``antialias.layers``      blur-pool, APS, ``Upsample2d``, the factories, ``convert``.
- ``antialias.models``      the U-Net family.
- ``antialias.export``      ONNX export of any model, checked against eager at a second size.
- ``antialias.data``, ``antialias.train``, ``antialias.checkpoint``: data, training, safe I/O.
- ``antialias.shifts``, ``antialias.metrics``: shift operators and equivariance metrics.
"""

from __future__ import annotations

__version__ = "0.1.0"

from antialias import metrics, shifts, spectral, transposed  # noqa: E402
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
    APSDown2d,
    APSUp2d,
    BlurPool2d,
    ConvBlurPool2d,
    MaxBlurPool2d,
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
]
