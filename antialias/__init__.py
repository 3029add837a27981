"""antialias: aliasing and shift-equivariance of convolutional networks, U-Nets above all.

Layers of the library (each imports only the ones above it):

- ``antialias.filters``     filter *design* (1-D taps, 2-D kernels); no torch.nn.
- ``antialias.resample``    filter *application*: ``upfirdn2d`` and its wrappers.
- ``antialias.catalogue``   torch's fixed up-samplers expressed as zeros + FIR.
- ``antialias.spectral``    frequency responses and aliasing / imaging / checkerboard measures.
- ``antialias.transposed``  transposed convolution: shapes, equivalent views, initialisers.
- ``antialias.layers``      blur-pool, APS, ``Upsample2d``, the factories, ``convert``.
- ``antialias.models``      the U-Net family.
- ``antialias.data``, ``antialias.train``, ``antialias.checkpoint``: data, training, safe I/O.
- ``antialias.shifts``, ``antialias.metrics``: shift operators and equivariance metrics.
"""

from __future__ import annotations

__version__ = "0.1.0"
