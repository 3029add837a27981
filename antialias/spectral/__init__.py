"""Frequency responses of filters, transposed convolutions and whole modules, and the measures
built on them: DC gain, checkerboard index, imaging / aliasing energy, -3 dB cutoff, stop-band
attenuation.

Conventions used throughout:

- Frequencies are in cycles/pixel (Nyquist 0.5) unless ``fs`` says otherwise; with ``fs`` they
  are in the units of ``fs`` (Nyquist ``fs/2``), exactly as in :func:`scipy.signal.freqz`.
- 1-D taps ``h[0..K-1]`` have the response ``H(f) = sum_n h[n] exp(-2j pi f n / fs)``, phase
  measured from tap 0 (as ``freqz``). Moving the origin multiplies ``H`` by a unimodular factor,
  so every *measure* here (all are built on magnitudes) is independent of it.
- An up-sampler by ``up`` is "zeros + FIR": insert ``up - 1`` zeros after every sample, then
  convolve with the taps. Its output spectrum is ``Y(f) = H(f) X(up f)`` (``f`` in output
  cycles/pixel); it preserves a constant when ``H(0) = up`` per axis. A down-sampler by ``down``
  filters (``H(0) = 1``) and keeps every ``down``-th sample.
- The general multi-rate model (scipy's ``upfirdn``) used by :func:`impulse_response`:
  ``y[o] = sum_i x[i] h[down*o - up*i + origin]``, per axis.

Layout: ``responses`` (taps, kernels), ``measures`` (numbers from taps), ``convtranspose``
(transposed convs by their polyphase components), ``measured`` (numbers from running a
module), ``_common`` (checks, grids).

What lives elsewhere: filter design (:mod:`antialias.filters`), applying filters
(:mod:`antialias.resample`), the taps of torch's interpolation modes (:mod:`antialias.catalogue`).
Everything here computes in float64 (NumPy), also when given torch tensors.
"""

from __future__ import annotations

from ._common import MAX_FREQUENCIES, MAX_FREQUENCIES_2D, MAX_PROBE_VALUES
from .convtranspose import TransposedResponse, polyphase_components, transposed_response
from .measured import (
    AliasingProbe,
    ImpulseResponse,
    aliasing_energy_empirical,
    constant_input_checkerboard,
    impulse_response,
)
from .measures import (
    aliasing_energy,
    checkerboard_index,
    cutoff_3db,
    dc_gain,
    imaging_energy,
    stopband_attenuation_db,
)
from .responses import frequency_response, frequency_response2d

__all__ = [
    "MAX_FREQUENCIES",
    "MAX_FREQUENCIES_2D",
    "MAX_PROBE_VALUES",
    "AliasingProbe",
    "ImpulseResponse",
    "TransposedResponse",
    "aliasing_energy",
    "aliasing_energy_empirical",
    "checkerboard_index",
    "constant_input_checkerboard",
    "cutoff_3db",
    "dc_gain",
    "frequency_response",
    "frequency_response2d",
    "imaging_energy",
    "impulse_response",
    "polyphase_components",
    "stopband_attenuation_db",
    "transposed_response",
]
