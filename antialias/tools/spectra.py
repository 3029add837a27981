"""Spectra of the built-in re-samplers: the numbers behind the paper's figures 1-3.

Run (the installed command, or in a clone)::

    antialias spectra [--out results/spectra] [--quick]
    python -m analysis.spectra ...      # in a clone: the clone's results/spectra by default

Three parts, each computed (no number is typed in):

1. **Up-samplers x up** (figure 1): nearest, bilinear, bicubic (torch's ``F.interpolate``,
   ``align_corners=False``), blur-ups (zeros + binomial-4, the default blur-up of
   :class:`~antialias.layers.Upsample2d` and of study v1, which equals bilinear's taps, and
   binomial-5, study v2's; gain ``up``), Kaiser-windowed sinc and
   the ideal brick-wall. Taps come from :mod:`antialias.catalogue` when it exists and are
   always also *measured* with :func:`~antialias.spectral.impulse_response` of
   ``nn.Upsample`` (the two are cross-checked); 1-D and 2-D magnitude responses, DC gain,
   imaging energy (1-D and 2-D), checkerboard index (analytic and from a constant input),
   -3 dB cutoff, stop-band attenuation beyond ``stopband_edge``.
2. **Down-samplers x down** (figure 2): max-pool, strided conv without filter (taps ``[1]``),
   avg-pool (box-2), blur-pool binomial-1..7 and max-blur-pool-1..7 (:mod:`antialias.layers`).
   Aliasing energy analytically (1-D and 2-D, linear ones) and empirically from sinusoid
   probes (:func:`~antialias.spectral.aliasing_energy_empirical`, along W), plus the share that
   counts a nonlinear op's harmonic distortion. Those probes are all dyadic (``(2j+1)/(4n)``),
   where max-pool's landing power equals avg-pool's; part 2b (:func:`landing_power`) adds
   probes at 1/6, 1/3 and 2/5, where it does not and depends on the probe's phase.
3. **Learned up-samplers at initialisation** (figure 1(c, d)): transposed convs 2x2 / 3x3 / 4x4
   stride ``up`` (default init, and FCN bilinear init for 4x4), nearest + conv, conv + pixel
   shuffle (random and ICNR), and the up paths of the other designs compared: blur-up
   (zeros + binomial-4 / -5) + conv, 1x1 conv + bilinear (MONAI's nontrainable path),
   pixel shuffle (ICNR) + 2x2 blur (MONAI's ``SubpixelUpsample``); channel-operator-norm maps,
   checkerboard and imaging energy.

Output (one result set, :func:`antialias.files.write_result_set`): ``<out>/spectra.json`` (config,
provenance, every scalar and 1-D taps) and ``<out>/spectra.npz`` with the arrays:
``freqs_1d`` (cycles/pixel, ``[0, 0.5]``), ``freqs_2d`` (centred FFT grid), ``probe_freqs``;
``up__<name>__mag1d``, ``up__<name>__mag2d``; ``down__<name>__mag1d`` (linear only),
``down__<name>__transfer``, ``down__<name>__distortion``; ``landing__freqs``,
``landing__phases``, ``landing__<p>_<q>__{maxpool,avgpool}`` (per-phase landing power,
:func:`landing_power`); ``tconv__<name>__spectral_norm``,
``tconv__<name>__frobenius_norm``. Frequencies in cycles/pixel, Nyquist 0.5.

Importable: :func:`run` computes a :class:`SpectraResult` without I/O or printing;
:func:`format_table` renders it; :func:`main` is the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from antialias import _cli
from antialias import spectral as S
from antialias._checks import check_int
from antialias.files import npz_bytes, write_result_set
from antialias.filters import binomial_taps, kaiser_lowpass_taps
from antialias.tools import parse_args

# Relative to the current directory; a clone's script passes the clone's folder.
DEFAULT_OUT = Path("results") / "spectra"
PROG = "antialias spectra"
INTERPOLATION_MODES = ("nearest", "bilinear", "bicubic")


@dataclass(frozen=True)
class SpectraConfig:
    """What to compute. Frequencies in cycles/pixel (Nyquist 0.5).

    Attributes:
        up: up-sampling factor of part 1 and stride of part 3.
        down: down-sampling factor of part 2.
        n_freqs_1d: points of the 1-D responses on ``[0, 0.5]`` (both ends included).
        n_freqs_2d: side of the centred 2-D grid (``fftshift(fftfreq(n))``).
        blur_taps: binomial lengths of the blur up-samplers (4: the layers' default, v1's
            blur-up; 5: study v2's ``blurpool_blur5``).
        kaiser_numtaps, kaiser_width: Kaiser-windowed sinc design (cutoff ``1/(2 up)``,
            ``firwin`` transition width), gain ``up``.
        stopband_edge: start of the stop band for the attenuation (``None``: ``1/(2 up)`` plus
            half the Kaiser width).
        blur_sizes: binomial lengths of blur-pool and max-blur-pool.
        n_probe_freqs, n_phases: sinusoid probes of the empirical aliasing energy.
        channels: channels of the learned up-samplers in part 3.
        seed: seed of their initialisation.
    """

    up: int = 2
    down: int = 2
    n_freqs_1d: int = 257
    n_freqs_2d: int = 64
    blur_taps: tuple[int, ...] = (4, 5)
    kaiser_numtaps: int = 24
    kaiser_width: float = 0.1
    stopband_edge: float | None = None
    blur_sizes: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
    n_probe_freqs: int = 64
    n_phases: int = 8
    channels: int = 16
    seed: int = 0

    def validate(self) -> None:
        """Raise ``ValueError`` / ``TypeError`` ("expected ..., got ...") on a bad field."""
        for name in ("up", "down", "n_freqs_1d", "n_freqs_2d", "kaiser_numtaps"):
            check_int(name, getattr(self, name), 2 if name in ("up", "down") else 1)
        for name in ("n_probe_freqs", "n_phases", "channels"):
            check_int(name, getattr(self, name), 1)
        check_int("seed", self.seed, 0)
        if self.n_probe_freqs % 2:
            raise ValueError(f"expected an even n_probe_freqs, got {self.n_probe_freqs}")
        if not isinstance(self.blur_sizes, tuple) or not self.blur_sizes:
            raise TypeError(f"expected blur_sizes as a non-empty tuple, got {self.blur_sizes!r}")
        for n in self.blur_sizes:
            check_int("blur_sizes[i]", n, 1)
        if not isinstance(self.blur_taps, tuple) or not self.blur_taps:
            raise TypeError(f"expected blur_taps as a non-empty tuple, got {self.blur_taps!r}")
        for n in self.blur_taps:
            check_int("blur_taps[i]", n, 1)
        if not (isinstance(self.kaiser_width, (int, float)) and 0 < self.kaiser_width < 0.5):
            raise ValueError(f"expected 0 < kaiser_width < 0.5, got {self.kaiser_width!r}")
        edge = self.stopband_edge
        if edge is not None and not (isinstance(edge, (int, float)) and 0 <= edge <= 0.5):
            raise ValueError(f"expected 0 <= stopband_edge <= 0.5 or None, got {edge!r}")


QUICK = {"n_freqs_1d": 65, "n_freqs_2d": 16, "n_probe_freqs": 16, "n_phases": 2, "channels": 4}


@dataclass
class SpectraResult:
    """What :func:`run` computed.

    Attributes:
        config: the configuration used.
        summary: JSON-ready nested dict of scalars and 1-D taps (``None`` where a value is
            infinite or undefined), keyed ``upsamplers`` / ``downsamplers`` / ``transposed``.
        arrays: the arrays of the ``.npz`` (see the module docstring for the keys).
    """

    config: SpectraConfig
    summary: dict[str, dict[str, dict[str, object]]] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def _finite(value: float) -> float | None:
    """JSON has no inf / nan: ``None`` stands for them (the docstrings say which is meant)."""
    value = float(value)
    return value if math.isfinite(value) else None


# ----------------------------------------------------------------------------- part 1: up


def _separable_taps(kernel: np.ndarray) -> np.ndarray:
    """1-D taps ``t`` with ``kernel == outer(t, t)`` (positive DC), checked."""
    total = kernel.sum()
    if total <= 0:
        raise ValueError(f"expected a kernel with positive DC gain, got sum {total}")
    taps = kernel.sum(axis=0) / math.sqrt(total)
    error = np.abs(kernel - np.outer(taps, taps)).max()
    if error > 1e-12 * np.abs(kernel).max():
        raise ValueError(f"expected a separable symmetric kernel, got residual {error:.3e}")
    return taps


def _catalogue_taps(mode: str, up: int) -> np.ndarray | None:
    """Taps from :mod:`antialias.catalogue` when that module exists (``None`` before)."""
    try:
        from antialias.catalogue import interpolation_taps
    except ImportError:
        return None
    taps = interpolation_taps(mode, up)
    if isinstance(taps, tuple):  # (taps, phase/origin)
        taps = taps[0]
    taps = getattr(taps, "taps", taps)
    if isinstance(taps, torch.Tensor):
        taps = taps.detach().cpu().double().numpy()
    return np.asarray(taps, dtype=np.float64)


def _zeros_fir(taps: np.ndarray, up: int) -> nn.Module:
    """Zeros + FIR as a module: a transposed conv with the separable kernel (no bias)."""
    k = len(taps)
    module = nn.ConvTranspose2d(1, 1, k, stride=up, bias=False, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(np.outer(taps, taps))[None, None])
    return module


def _upsampler_entry(
    taps: np.ndarray,
    config: SpectraConfig,
    edge: float,
    f1: np.ndarray,
    f2: np.ndarray,
    module: nn.Module,
) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """The scalars of one up-sampler (taps measured, and from the catalogue)."""
    up = config.up
    kernel = np.outer(taps, taps)
    # big enough that the response (len(taps) output pixels) leaves an interior to measure
    size = max(32, 2 * len(taps))
    measured = S.impulse_response(module, up=up, size=size)
    entry: dict[str, object] = {
        "taps": taps.tolist(),
        "dc_gain": S.dc_gain(taps),
        "imaging_energy_1d": S.imaging_energy(taps, up),
        "imaging_energy_2d": S.imaging_energy(kernel, up),
        "checkerboard_index": S.checkerboard_index(kernel, up),
        "checkerboard_index_measured": S.constant_input_checkerboard(
            module, up, size=size, margin=len(taps) + up
        ),
        "cutoff_3db": _finite(S.cutoff_3db(taps)),
        "stopband_attenuation_db": _finite(S.stopband_attenuation_db(taps, edge)),
        "linear": measured.linear,
        "shift_invariant": measured.shift_invariant,
        "origin": measured.origin[1],
    }
    mag1 = np.abs(S.frequency_response(taps, f1)[1])
    mag2 = np.abs(S.frequency_response2d(kernel, f2)[2])
    return entry, mag1, mag2


def _upsamplers(config: SpectraConfig, result: SpectraResult, f1: np.ndarray, f2: np.ndarray):
    """Part 1: the fixed up-samplers' responses and measures."""
    up = config.up
    edge = (
        config.stopband_edge
        if config.stopband_edge is not None
        else 1 / (2 * up) + config.kaiser_width / 2
    )
    out: dict[str, dict[str, object]] = {}

    def add(name: str, entry: dict[str, object], mag1: np.ndarray, mag2: np.ndarray) -> None:
        out[name] = entry
        result.arrays[f"up__{name}__mag1d"] = mag1
        result.arrays[f"up__{name}__mag2d"] = mag2

    for mode in INTERPOLATION_MODES:
        module = nn.Upsample(scale_factor=up, mode=mode)
        measured = _separable_taps(S.impulse_response(module, up=up, size=32).kernel)
        catalogue = _catalogue_taps(mode, up)
        taps = measured if catalogue is None else catalogue
        entry, mag1, mag2 = _upsampler_entry(taps, config, edge, f1, f2, module)
        entry["taps_source"] = "measured" if catalogue is None else "catalogue"
        entry["catalogue_vs_measured_max_abs_error"] = (
            None
            if catalogue is None
            else float(np.abs(np.abs(S.frequency_response(catalogue, f1)[1]) - mag1).max())
        )
        closed = {"nearest": 1, "bilinear": 3}.get(mode) if up == 2 else None
        entry["closed_form_max_abs_error"] = (
            None if closed is None else float(np.abs(mag1 - 2 * np.cos(np.pi * f1) ** closed).max())
        )
        add(mode, entry, mag1, mag2)

    designed = {f"blur_binomial{n}": binomial_taps(n).numpy() * up for n in config.blur_taps}
    designed |= {
        "kaiser": kaiser_lowpass_taps(
            config.kaiser_numtaps, cutoff=1 / (2 * up), width=config.kaiser_width, gain=up
        ).numpy(),
    }
    for name, taps in designed.items():
        entry, mag1, mag2 = _upsampler_entry(taps, config, edge, f1, f2, _zeros_fir(taps, up))
        entry["taps_source"] = "antialias.filters"
        add(name, entry, mag1, mag2)

    # The ideal interpolator: H = up on |f| < 1/(2 up), 0 outside, up/2 on the edge itself.
    cut = 1 / (2 * up)
    ideal1 = np.where(np.abs(f1) < cut, up, 0.0) + np.where(np.isclose(np.abs(f1), cut), up / 2, 0)
    ideal_ax = np.where(np.abs(f2) < cut, up, 0.0) + np.where(
        np.isclose(np.abs(f2), cut), up / 2, 0
    )
    ideal = {
        "taps": None,
        "taps_source": "analytic (brick wall, infinitely many taps)",
        "dc_gain": float(up),
        "imaging_energy_1d": 0.0,
        "imaging_energy_2d": 0.0,
        "checkerboard_index": 0.0,
        "checkerboard_index_measured": None,
        "cutoff_3db": cut,
        "stopband_attenuation_db": None,  # infinite
        "linear": True,
        "shift_invariant": True,
        "origin": None,
    }
    add("ideal", ideal, ideal1, np.outer(ideal_ax, ideal_ax))
    return out, edge


# ----------------------------------------------------------------------------- part 2: down


def _downsamplers(config: SpectraConfig, result: SpectraResult, f1: np.ndarray):
    """Part 2: the down-samplers' aliasing, analytic and from sinusoid probes."""
    from antialias.layers import BlurPool2d, MaxBlurPool2d

    down = config.down
    modules: dict[str, tuple[Callable, np.ndarray | None]] = {
        "maxpool": (nn.MaxPool2d(down), None),
        "strided_conv": (BlurPool2d(taps=1, down=down), np.array([1.0])),
        "avgpool": (nn.AvgPool2d(down), np.full(down, 1.0 / down)),
    }
    for n in config.blur_sizes:
        modules[f"blurpool{n}"] = (BlurPool2d(taps=n, down=down), binomial_taps(n).numpy())
    for n in config.blur_sizes:
        modules[f"maxblurpool{n}"] = (MaxBlurPool2d(taps=n, down=down), None)

    out: dict[str, dict[str, object]] = {}
    for name, (module, taps) in modules.items():
        probe = S.aliasing_energy_empirical(
            module, down, n_freqs=config.n_probe_freqs, n_phases=config.n_phases
        )
        measured = S.impulse_response(module, down=down, size=32)
        entry: dict[str, object] = {
            "taps": None if taps is None else taps.tolist(),
            "aliasing_energy_1d": None if taps is None else S.aliasing_energy(taps, down),
            "aliasing_energy_2d": (
                None if taps is None else S.aliasing_energy(np.outer(taps, taps), down)
            ),
            "aliasing_energy_empirical_1d": _finite(probe.share),
            "aliasing_energy_with_distortion_1d": _finite(probe.share_with_distortion),
            "cutoff_3db": None if taps is None else _finite(S.cutoff_3db(taps)),
            "linear": measured.linear,
            "shift_invariant": measured.shift_invariant,
        }
        if taps is not None:
            # the layer measured == the taps it claims: |H(f)|^2 at the probe frequencies
            expected = np.abs(S.frequency_response(taps, probe.freqs)[1]) ** 2
            entry["transfer_vs_taps_max_abs_error"] = float(np.abs(probe.transfer - expected).max())
            result.arrays[f"down__{name}__mag1d"] = np.abs(S.frequency_response(taps, f1)[1])
        result.arrays[f"down__{name}__transfer"] = probe.transfer
        result.arrays[f"down__{name}__distortion"] = probe.distortion
        result.arrays["probe_freqs"] = probe.freqs
        out[name] = entry
    return out


LANDING_FREQS: tuple[tuple[int, int], ...] = ((3, 16), (5, 16), (37, 256), (1, 6), (1, 3), (2, 5))
"""Probe frequencies ``p/q`` cycles/pixel of :func:`landing_power`: three dyadic (odd
numerator over a power of 2, like the probes of part 2) and three that are not. Max-pool's
power at the landing frequency equals avg-pool's at every dyadic probe, but not in general:
``max(a, b) = (a + b)/2 + |a - b|/2`` and the harmonics of ``|a - b|`` land on the probe's own
output frequency ``g`` when ``(2k +- 1) g`` is an integer (``g = 1/3``: ``k = 2``)."""


def landing_power(
    module: Callable, down: int, p: int, q: int, n_phases: int = 16, repeats: int = 4
) -> np.ndarray:
    """Output power at the landing frequency of ``cos(2 pi (p/q) n + phi)``, per phase ``phi``.

    The probe runs along W (constant along H); the landing frequency is ``down p / q`` folded
    into ``[0, 0.5]``. The DFT of a whole number of output periods (``repeats`` of them, from
    the interior) holds that component exactly; power = amplitude squared (input amplitude 1).
    The landing frequency must not be 0 or 1/2 (their amplitude convention differs).

    Returns:
        ``(n_phases,)`` powers, phases ``2 pi i / n_phases``.
    """
    num = (down * p) % q
    g_num = min(num, q - num)  # folded landing frequency g = g_num / q
    if g_num == 0 or 2 * g_num == q:
        raise ValueError(f"expected a landing frequency off 0 and 1/2, got {p}/{q}")
    period = q // math.gcd(g_num, q)  # outputs per period of the landing frequency
    length = period * repeats
    margin = 8
    width = down * (length + 2 * margin)
    n = np.arange(width)
    phis = 2 * np.pi * np.arange(n_phases) / n_phases
    rows = np.cos(2 * np.pi * (p / q) * n[None, :] + phis[:, None])  # (P, W)
    x = torch.from_numpy(rows).reshape(n_phases, 1, 1, width).expand(-1, 1, down * 2, width)
    with torch.no_grad():
        y = (
            module.double().eval()(x.contiguous().double())
            if isinstance(module, nn.Module)
            else module(x)
        )
    seg = y[:, 0, 0, margin : margin + length].numpy()
    k = g_num * length // q  # the DFT bin of g
    amp = 2 * np.abs(np.fft.fft(seg, axis=-1)[:, k]) / length
    return amp**2


def _landing(config: SpectraConfig, result: SpectraResult) -> dict[str, object]:
    """Part 2b: max-pool's landing power against avg-pool's at dyadic and other probes."""
    down, n_phases = config.down, max(config.n_phases, 16)
    modules = {"maxpool": nn.MaxPool2d(down), "avgpool": nn.AvgPool2d(down)}
    out: dict[str, object] = {"phases": n_phases, "probes": []}
    for p, q in LANDING_FREQS:
        power = {name: landing_power(m, down, p, q, n_phases) for name, m in modules.items()}
        ratio = power["maxpool"] / power["avgpool"]
        dyadic = q & (q - 1) == 0 and p % 2 == 1
        out["probes"].append(
            {
                "f": p / q,
                "fraction": f"{p}/{q}",
                "dyadic": bool(dyadic),
                "avgpool_power": float(power["avgpool"].mean()),
                "avgpool_power_spread": float(np.ptp(power["avgpool"])),
                "maxpool_power_min": float(power["maxpool"].min()),
                "maxpool_power_max": float(power["maxpool"].max()),
                "ratio_min": float(ratio.min()),
                "ratio_max": float(ratio.max()),
            }
        )
        for name, pw in power.items():
            result.arrays[f"landing__{p}_{q}__{name}"] = pw
    result.arrays["landing__freqs"] = np.array([p / q for p, q in LANDING_FREQS])
    result.arrays["landing__phases"] = 2 * np.pi * np.arange(n_phases) / n_phases
    return out


# ----------------------------------------------------------------------------- part 3: learned


def _learned_upsamplers(config: SpectraConfig) -> dict[str, tuple[nn.Module, np.ndarray | None]]:
    """Learned up-samplers at init, with their transposed-conv weight when they are one."""
    from antialias.layers import create_upsample
    from antialias.models import SubpixelBlurUpsample2d
    from antialias.transposed import bilinear_kernel_size, init_bilinear_, init_icnr_

    up, c = config.up, config.channels
    made: dict[str, tuple[nn.Module, np.ndarray | None]] = {}
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        for k in (2, 3, 4):
            tconv = nn.ConvTranspose2d(c, c, k, stride=up, padding=(k - up + 1) // 2)
            made[f"tconv{k}"] = (tconv, tconv.weight.detach().double().numpy())
        k = bilinear_kernel_size(up)
        tconv = nn.ConvTranspose2d(c, c, k, stride=up, padding=(k - up) // 2, bias=False)
        with torch.no_grad():
            init_bilinear_(tconv.weight, up)
        made[f"tconv{k}_bilinear_init"] = (tconv, tconv.weight.detach().double().numpy())
        made["nearest_conv"] = (
            nn.Sequential(nn.Upsample(scale_factor=up), nn.Conv2d(c, c, 3, padding=1)),
            None,
        )
        made["bilinear_conv"] = (
            nn.Sequential(
                nn.Upsample(scale_factor=up, mode="bilinear"), nn.Conv2d(c, c, 3, padding=1)
            ),
            None,
        )
        made["pixelshuffle"] = (
            nn.Sequential(nn.Conv2d(c, c * up * up, 3, padding=1), nn.PixelShuffle(up)),
            None,
        )
        conv = nn.Conv2d(c, c * up * up, 3, padding=1)
        with torch.no_grad():
            init_icnr_(conv.weight, up, bias=conv.bias)
        made["pixelshuffle_icnr"] = (nn.Sequential(conv, nn.PixelShuffle(up)), None)
        # The other designs' up paths, drawn after the ones above so that their weights stay
        # those of earlier results; built from the layers the U-Nets use.
        for n in config.blur_taps:
            made[f"blur{n}_conv"] = (
                create_upsample("blur", c, c, up=up, taps=n, conv=True, pad_mode="zeros"),
                None,
            )
        made["bilinear_1x1"] = (  # MONAI nontrainable: 1x1 conv at the coarse resolution first
            nn.Sequential(nn.Conv2d(c, c, 1), nn.Upsample(scale_factor=up, mode="bilinear")),
            None,
        )
        if up == 2:  # MONAI SubpixelUpsample's pad + 2x2 average is for x2
            made["subpixel_blur"] = (SubpixelBlurUpsample2d(c, c), None)
    return made


def _transposed(config: SpectraConfig, result: SpectraResult, f2: np.ndarray):
    """Part 3: the learned up-samplers at initialisation."""
    up, c = config.up, config.channels
    out: dict[str, dict[str, object]] = {}
    for name, (module, weight) in _learned_upsamplers(config).items():
        measured = S.impulse_response(module, up=up, size=24, channels=c)
        # (C_out, C_in, k, k) -> the transposed-conv layout (C_in, C_out, k, k)
        taps = measured.taps.transpose(1, 0, 2, 3)
        response = S.transposed_response(taps, up, worN=f2)
        out[name] = {
            "kernel_size": list(taps.shape[-2:]),
            "checkerboard_index": response.checkerboard_index,
            "checkerboard_index_measured": S.constant_input_checkerboard(module, up, channels=c),
            "imaging_energy_2d": response.imaging_energy,
            "affine": measured.affine,
            "shift_invariant": measured.shift_invariant,
            # the measured taps of a transposed conv are its weight (a cross-check of probing)
            "weight_vs_measured_max_abs_error": (
                None if weight is None else float(np.abs(weight - taps).max())
            ),
        }
        result.arrays[f"tconv__{name}__spectral_norm"] = response.spectral_norm
        result.arrays[f"tconv__{name}__frobenius_norm"] = response.frobenius_norm
    return out


# ----------------------------------------------------------------------------- run / main


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Every probe here is a tiny float64 tensor: OpenMP start-up dominates, and with 2 threads
    on a busy 2-core machine each op took 10-100x longer than with 1 (measured: blur-pool on a
    (5, 1, 32, 32) input, 78 ms vs 1.4 ms). The caller's setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(config: SpectraConfig | None = None) -> SpectraResult:
    """Compute every spectrum and measure (no files, no printing).

    Args:
        config: what to compute; ``None`` for the defaults.

    Returns:
        A :class:`SpectraResult`.
    """
    config = SpectraConfig() if config is None else config
    if not isinstance(config, SpectraConfig):
        raise TypeError(f"expected a SpectraConfig, got {type(config).__name__}")
    config.validate()
    with _one_thread():
        return _run(config)


def _run(config: SpectraConfig) -> SpectraResult:
    """:func:`run` after the checks, on one thread."""
    result = SpectraResult(config=config)
    f1 = np.linspace(0.0, 0.5, config.n_freqs_1d)
    f2 = np.fft.fftshift(np.fft.fftfreq(config.n_freqs_2d))
    result.arrays["freqs_1d"] = f1
    result.arrays["freqs_2d"] = f2
    ups, edge = _upsamplers(config, result, f1, f2)
    result.summary["upsamplers"] = ups
    result.summary["downsamplers"] = _downsamplers(config, result, f1)
    result.summary["landing_power"] = _landing(config, result)
    result.summary["transposed"] = _transposed(config, result, f2)
    result.summary["definitions"] = {
        "frequency_unit": "cycles/pixel, Nyquist 0.5",
        "stopband_edge": edge,
        "imaging_energy": "share of |H|^2 outside |f| < 1/(2 up) (2-D: the square)",
        "aliasing_energy": "share of |H|^2 outside |f| < 1/(2 down) (2-D: the square)",
        "aliasing_energy_empirical_1d": "cos probes along W: share of output power at the "
        "landing frequency coming from f > 1/(2 down)",
        "aliasing_energy_with_distortion_1d": "also counting power at other non-DC frequencies",
        "landing_power": "per-phase output power at the landing frequency of a cos probe "
        "(input amplitude 1), max-pool vs avg-pool, at dyadic and non-dyadic probes",
        "checkerboard_index": "max |H(k/up)| / |H(0)| over the DC images (channel operator norm)",
        "checkerboard_index_measured": "the same from a constant input (phase means, interior)",
        "null": "infinite (stop-band of the ideal) or not applicable",
    }
    return result


def document(result: SpectraResult) -> dict[str, object]:
    """The JSON document of a result: config, provenance, the scalars, the array names."""
    from antialias.provenance import provenance

    doc = {
        "analysis": "spectra",
        "config": dataclasses.asdict(result.config),
        "provenance": provenance(),
        **result.summary,
        "arrays": sorted(result.arrays),
    }
    # Strict JSON (no NaN / inf: the scalars are mapped to null), checked before any write.
    json.dumps(doc, allow_nan=False)
    return doc


def save(result: SpectraResult, out: str | Path) -> tuple[Path, Path]:
    """Write ``spectra.json`` and ``spectra.npz`` into ``out`` (created) as one result set."""
    npz, js = write_result_set(out, "spectra", document(result), {".npz": npz_bytes(result.arrays)})
    return js, npz


def _fmt(value: object, spec: str = ".4f") -> str:
    """A table cell (``-`` for missing, yes/no for booleans)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return format(value, spec)


def format_table(result: SpectraResult) -> str:
    """A short readable table of the scalars."""
    c = result.config
    lines = [f"Up-samplers x{c.up} (imaging = |H|^2 share outside |f| < {1 / (2 * c.up):g})"]
    lines.append(
        f"{'':16}{'DC':>6}{'imag1d':>9}{'imag2d':>9}{'checker':>10}{'(const)':>10}"
        f"{'-3dB':>8}{'stop dB':>9}"
    )
    for name, e in result.summary["upsamplers"].items():
        lines.append(
            f"{name:16}{_fmt(e['dc_gain'], '.2f'):>6}{_fmt(e['imaging_energy_1d']):>9}"
            f"{_fmt(e['imaging_energy_2d']):>9}{_fmt(e['checkerboard_index'], '.2e'):>10}"
            f"{_fmt(e['checkerboard_index_measured'], '.2e'):>10}{_fmt(e['cutoff_3db'], '.3f'):>8}"
            f"{_fmt(e['stopband_attenuation_db'], '.1f'):>9}"
        )
    lines += [
        "",
        f"Down-samplers x{c.down} (aliasing = |H|^2 share outside |f| < {1 / (2 * c.down):g})",
    ]
    lines.append(f"{'':16}{'alias1d':>9}{'alias2d':>9}{'empir1d':>9}{'+distort':>9}{'linear':>8}")
    for name, e in result.summary["downsamplers"].items():
        lines.append(
            f"{name:16}{_fmt(e['aliasing_energy_1d']):>9}{_fmt(e['aliasing_energy_2d']):>9}"
            f"{_fmt(e['aliasing_energy_empirical_1d']):>9}"
            f"{_fmt(e['aliasing_energy_with_distortion_1d']):>9}{_fmt(e['linear']):>8}"
        )
    lines += ["", f"Learned up-samplers at init, {c.channels} channels, seed {c.seed}"]
    lines.append(f"{'':22}{'checker':>10}{'(const)':>10}{'imag2d':>9}")
    for name, e in result.summary["transposed"].items():
        lines.append(
            f"{name:22}{_fmt(e['checkerboard_index'], '.2e'):>10}"
            f"{_fmt(e['checkerboard_index_measured'], '.2e'):>10}{_fmt(e['imaging_energy_2d']):>9}"
        )
    return "\n".join(lines)


def build_parser(
    prog: str = PROG, default_out: str | Path = DEFAULT_OUT
) -> argparse.ArgumentParser:
    """The command's arguments (a clone's script passes its own ``--out`` default)."""
    parser = _cli.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(default_out), help="output folder")
    parser.add_argument("--quick", action="store_true", help="coarse grids (a smoke test)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = PROG,
    default_out: str | Path = DEFAULT_OUT,
) -> int:
    """Command line: compute, write ``spectra.json`` / ``spectra.npz``, print the table.

    Returns:
        0, or 2 after one line on stderr for a user mistake (bad option, ``--out`` a file).
    """
    args = parse_args(build_parser(prog, default_out), argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        if args.out.exists() and not args.out.is_dir():
            _cli.fail(f"expected --out to be a folder, got the file {args.out}")
        result = run(SpectraConfig(**QUICK) if args.quick else SpectraConfig())
        try:
            js, npz = save(result, args.out)
        except OSError as err:
            _cli.fail(f"cannot write results: {err}")
        print(format_table(result))
        print(f"\nwrote {js} and {npz}")
        return 0

    return _cli.run(prog, body, user_errors=(ValueError, TypeError))


if __name__ == "__main__":
    sys.exit(main())
