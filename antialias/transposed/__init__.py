"""Transposed convolution: shape arithmetic, three equivalent views, and two initialisers.

What lives here:

- three views of ``F.conv_transpose2d`` that compute the same tensor through ordinary
  operations, each returning its intermediate tensors: :func:`conv_transpose_as_zero_insertion`
  (zero-stuff, pad, stride-1 conv with the flipped, channel-swapped kernel),
  :func:`conv_transpose_as_matrix` (the transpose of the conv's matrix, i.e. its gradient) and
  :func:`conv_transpose_as_polyphase` (``stride^2`` ordinary convs interleaved by pixel shuffle);
- fixed up-samplers as transposed convs (:func:`nearest_weight`) and the composition of a
  transposed conv with a following stride-1 conv (:func:`compose_with_conv`): a resize-conv is
  one transposed conv whose kernel is ``box * kernel``; :func:`phase_gains` and
  :func:`dc_image_response` say whether a transposed kernel can checkerboard on flat input;
- shape arithmetic: :func:`conv_output_size`, :func:`conv_transpose_output_size` and the
  inverse :func:`transpose_padding_for` (which ``padding`` / ``output_padding`` give a wanted
  output size, or a ``ValueError`` saying why none does);
- initialisers: :func:`init_bilinear_` (FCN, Long et al. 2015) for a ``ConvTranspose2d``
  weight and :func:`init_icnr_` (Aitken et al. 2017) for a conv feeding ``PixelShuffle``.

Layout: ``shapes``, ``initializers``, ``views``, ``checkerboard`` (fixed up-samplers,
resize-conv, phase gains), ``_common`` (argument pairs, the size bound).

What does not: frequency responses of kernels (``antialias.spectral``), the up-sampling layers
themselves (``antialias.layers``).

All sizes are per spatial axis and follow PyTorch's conventions exactly (tested against torch).
"""

from __future__ import annotations

from ._common import MAX_MATRIX_ENTRIES
from .checkerboard import (
    compose_with_conv,
    dc_image_response,
    nearest_weight,
    overlap_counts,
    phase_gains,
)
from .initializers import bilinear_kernel_size, bilinear_taps, init_bilinear_, init_icnr_
from .shapes import conv_output_size, conv_transpose_output_size, transpose_padding_for
from .views import (
    MatrixView,
    PolyphaseView,
    ZeroInsertionView,
    conv_matrix,
    conv_transpose_as_matrix,
    conv_transpose_as_polyphase,
    conv_transpose_as_zero_insertion,
)

__all__ = [
    "MAX_MATRIX_ENTRIES",
    "MatrixView",
    "PolyphaseView",
    "ZeroInsertionView",
    "bilinear_kernel_size",
    "bilinear_taps",
    "compose_with_conv",
    "conv_matrix",
    "conv_transpose_as_matrix",
    "conv_transpose_as_polyphase",
    "conv_transpose_as_zero_insertion",
    "dc_image_response",
    "nearest_weight",
    "overlap_counts",
    "phase_gains",
    "conv_output_size",
    "conv_transpose_output_size",
    "init_bilinear_",
    "init_icnr_",
    "transpose_padding_for",
]
