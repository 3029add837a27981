"""Learned up-sampling kernels of trained U-Nets: polyphase gains, responses, checkerboards.

The numbers behind the paper's figure 2. Run (the installed command, or in a clone)::

    antialias kernels [--checkpoints checkpoints] [--task nuclei] [--seed 0]
                      [--variants tconv4,bilinear] [--out results/learned_kernels]
    python -m analysis.learned_kernels ...      # in a clone: the clone's folders by default

For every model (by default every ``<checkpoints>/<task>/*_s<seed>.safetensors``):

1. **Its learned up-samplers, found generically** (:func:`find_upsampling_layers`): every
   ``nn.ConvTranspose2d`` with stride >= 2 (and ``ConvTranspose1d/3d``, e.g. MONAI's 3-D
   deconvs, scored by :mod:`antialias.spectral_nd`: polyphase gains, their imbalance, tap
   energy and the checkerboard index; the 2-D response maps and probes are 2-D only), and
   every ``nn.Conv2d`` immediately followed by an
   ``nn.PixelShuffle`` among the children of one module (a sub-pixel conv, as in
   ``nn.Sequential(conv, PixelShuffle(s))``), which is rewritten as the equivalent
   transposed-conv weight. Nothing here depends on :class:`antialias.models.UNet`, so a user's
   model works as well. Per layer: the ``s x s`` polyphase DC gains ``G_r`` (``C_in x C_out``
   matrices: the output a constant input gets at output phase ``r``) as operator and Frobenius
   norms, their imbalance, the per-tap kernel energy, the 2-D response map (operator norm over
   channels, :func:`antialias.spectral.transposed_response`), the checkerboard index (analytic,
   and measured from a constant input) and the imaging energy; a cross-check that the weight
   read from the layer equals the layer's measured impulse response.
2. **The whole model's output for a constant input**, i.e. what a flat region of an image turns
   into. Away from the borders (``constant_margin`` pixels) a U-Net with period ``P = 2**L``
   produces a pattern that repeats every ``P`` pixels; its phase means, RMS, peak-to-peak and
   its component at 0.5 cycles/pixel (the checkerboard proper) are reported, with the check
   that the interior really is ``P``-periodic (free of border effects). For a 2-class model the
   map is the logit margin ``logit_1 - logit_0`` (its sign is the prediction), otherwise
   channel 0.

Output (atomic writes): ``<out>/learned_kernels.json`` (config, provenance, every scalar, the
layer lists) and ``<out>/learned_kernels.npz`` with ``freqs_2d`` (cycles/pixel, centred grid)
and, for model ``m`` and layer ``i`` (registration order; the JSON's ``order`` is the forward
order):

- ``layer__m__i__spectral_norm``, ``layer__m__i__frobenius_norm``: ``(N, N)`` response maps;
- ``layer__m__i__phase_gain_spectral``, ``layer__m__i__phase_gain_frobenius``: ``(s, s)``;
- ``layer__m__i__tap_energy``: ``(k, k)``, RMS over channel pairs;
- for constant level ``j``: ``const__m__j``, a ``constant_crop`` square of the display map's
  interior (float32), and ``const__m__j__phase``, the ``(P, P)`` phase means.

Frequencies in cycles/pixel of the layer's output (Nyquist 0.5).

Importable: :func:`run` computes a :class:`LearnedKernelsResult` (it reads the checkpoints when
not given models; it writes and prints nothing); :func:`main` is the command line (exit 2 with
one line on stderr when checkpoints are missing).

A model in which no up-sampling layer can be read (none, or only grouped / dilated ones) is
not passed silently: a ``warnings`` entry of the result (per model, and all of them at the top
level), a ``UserWarning`` from :func:`run`, one line on stderr from the command. The
constant-input run is 2-D only: for a volume model it is skipped, with a warning.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import math
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from antialias import _cli
from antialias import spectral as S
from antialias import spectral_nd as SN
from antialias._checks import check_int
from antialias.files import npz_bytes, write_result_set
from antialias.tools import parse_args
from antialias.tools.upsamplers import (  # re-exported: the API of this analysis
    UpsamplingLayer,
    find_upsampling_layers,
    pixel_shuffle_as_transposed,
    plain_twin,
    unreadable_upsamplers,
)

__all__ = [
    "DEFINITIONS",
    "LearnedKernelsConfig",
    "LearnedKernelsResult",
    "MissingCheckpointsError",
    "UpsamplingLayer",
    "checkpoint_files",
    "constant_measures",
    "find_upsampling_layers",
    "format_table",
    "layer_measures",
    "layer_measures_nd",
    "load_models",
    "main",
    "pixel_shuffle_as_transposed",
    "run",
    "unreadable_upsamplers",
    "save",
]

# Relative to the current directory; a clone's script passes the clone's folders.
DEFAULT_CHECKPOINTS = Path("checkpoints")
DEFAULT_OUT = Path("results") / "learned_kernels"
PROG = "antialias kernels"
TRAIN_COMMAND = "python -m analysis.train_all"


@dataclass(frozen=True)
class LearnedKernelsConfig:
    """What to analyse. Frequencies in cycles/pixel (Nyquist 0.5).

    Attributes:
        checkpoints: root folder holding ``<task>/<variant>_s<seed>.safetensors``.
        task: task sub-folder.
        seed: training seed of the checkpoints.
        variants: variant names to analyse; ``None`` for every checkpoint found for the seed.
        n_freqs_2d: side of the centred 2-D frequency grid of the response maps.
        constant_levels: input values of the constant-input runs (the tasks' inputs are
            scaled to about ``[0, 1]``; 0 is background).
        constant_size: side of the constant input (pixels); must exceed ``2 constant_margin``.
        constant_margin: pixels left out at each border (more than the receptive-field
            radius, so the interior sees no padding; with 64 the shipped max-blur-pool variants
            still showed ~1e-8 logits of border residue, with 128 none: ~1e-15).
        constant_crop: side of the interior patch stored per level (for display).
        period: pattern period used for models without a ``period`` attribute (``UNet`` has
            one: ``2**depth``).
        probe_size: input size of the per-layer impulse / constant probes.
    """

    checkpoints: str = str(DEFAULT_CHECKPOINTS)
    task: str = "nuclei"
    seed: int = 0
    variants: tuple[str, ...] | None = None
    n_freqs_2d: int = 64
    constant_levels: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    constant_size: int = 320
    constant_margin: int = 128
    constant_crop: int = 32
    period: int = 8
    probe_size: int = 24

    def validate(self) -> None:
        """Raise ``ValueError`` / ``TypeError`` ("expected ..., got ...") on a bad field."""
        for name in ("checkpoints", "task"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise TypeError(f"expected {name} as a non-empty str, got {value!r}")
        check_int("seed", self.seed, 0)
        check_int("n_freqs_2d", self.n_freqs_2d, 4)
        check_int("period", self.period, 1)
        check_int("probe_size", self.probe_size, 8)
        check_int("constant_margin", self.constant_margin, 0)
        check_int("constant_crop", self.constant_crop, 1)
        check_int("constant_size", self.constant_size, 2 * self.constant_margin + self.period)
        if self.variants is not None:
            if not isinstance(self.variants, tuple) or not self.variants:
                raise TypeError(
                    f"expected variants as a non-empty tuple or None, got {self.variants!r}"
                )
            for v in self.variants:
                if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", v):
                    raise ValueError(
                        f"expected variant names of letters, digits, _ or -, got {v!r}"
                    )
        if not isinstance(self.constant_levels, tuple) or not self.constant_levels:
            raise TypeError(
                f"expected constant_levels as a non-empty tuple, got {self.constant_levels!r}"
            )
        for level in self.constant_levels:
            if isinstance(level, bool) or not isinstance(level, (int, float)):
                raise TypeError(f"expected constant_levels of numbers, got {level!r}")
            if not math.isfinite(level):
                raise ValueError(f"expected finite constant_levels, got {level!r}")


QUICK = {"n_freqs_2d": 16, "constant_size": 48, "constant_margin": 16, "probe_size": 16}
"""Coarse settings (a smoke test; ``constant_margin`` is then too small for a real U-Net)."""


# ----------------------------------------------------------------------------- measures


def _phase_gains(weight: np.ndarray, stride: int) -> np.ndarray:
    """``G[ry, rx]``: DC gain matrices ``(C_in, C_out)`` of the polyphase components."""
    return S.polyphase_components(weight, stride).sum(axis=(-2, -1))


def layer_measures_nd(layer: UpsamplingLayer) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Scalars and arrays of a 1-D or 3-D layer, from :mod:`antialias.spectral_nd`.

    The same keys as :func:`layer_measures` where the measure exists in N-D (polyphase gains,
    imbalance, tap energy, checkerboard index); the 2-D-only ones (response maps, probes) are
    ``None``. Arrays: ``phase_gain_spectral`` / ``phase_gain_frobenius`` ``(*s)``,
    ``tap_energy`` ``(*k)``.
    """
    w, dims = layer.weight, layer.spatial_dims
    strides = (layer.stride,) * dims if isinstance(layer.stride, int) else tuple(layer.stride)
    gains = SN.phase_gains_nd(w, strides)  # (*s, C_in, C_out)
    mean_gain = gains.reshape(-1, *gains.shape[dims:]).mean(axis=0)
    spec = np.linalg.svd(gains, compute_uv=False)[..., 0]
    frob = np.sqrt((gains**2).sum(axis=(-2, -1)))
    mean_norm = float(np.linalg.svd(mean_gain, compute_uv=False)[0])
    imbalance = np.linalg.svd(gains - mean_gain, compute_uv=False)[..., 0]
    entry: dict[str, Any] = {
        "name": layer.name,
        "kind": layer.kind,
        "spatial_dims": dims,
        "stride": layer.stride if isinstance(layer.stride, int) else list(layer.stride),
        "in_channels": int(w.shape[0]),
        "out_channels": int(w.shape[1]),
        "kernel_size": [int(k) for k in w.shape[2:]],
        "checkerboard_index": _finite(SN.checkerboard_index_nd(w, strides)),
        "checkerboard_index_measured": None,
        "imaging_energy_2d": None,
        "dc_gain_spectral": None,
        "phase_gain_mean_spectral": mean_norm,
        "phase_imbalance": _finite(float(imbalance.max()) / mean_norm if mean_norm else math.inf),
        "linear": None,
        "affine": None,
        "shift_invariant": None,
        "weight_vs_measured_max_abs_error": None,
        "input_size": None,
        "output_size": None,
        "output_stride": None,
    }
    arrays = {
        "phase_gain_spectral": spec,
        "phase_gain_frobenius": frob,
        "tap_energy": np.sqrt((w**2).mean(axis=(0, 1))),
    }
    return entry, arrays


def layer_measures(
    layer: UpsamplingLayer, config: LearnedKernelsConfig, freqs: np.ndarray
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Scalars and arrays of one layer (see the module docstring); 1-D/3-D layers:
    :func:`layer_measures_nd`."""
    if layer.spatial_dims != 2:
        return layer_measures_nd(layer)
    s, w = layer.stride, layer.weight
    c_in, c_out = w.shape[:2]
    gains = _phase_gains(w, s)  # (s, s, C_in, C_out)
    mean_gain = gains.mean(axis=(0, 1))
    spec = np.linalg.svd(gains, compute_uv=False)[..., 0]
    frob = np.sqrt((gains**2).sum(axis=(-2, -1)))
    mean_norm = float(np.linalg.svd(mean_gain, compute_uv=False)[0])
    imbalance = np.linalg.svd(gains - mean_gain, compute_uv=False)[..., 0]
    response = S.transposed_response(w, s, worN=freqs)
    measured = S.impulse_response(layer.module, up=s, size=config.probe_size, channels=c_in)
    taps = measured.taps.transpose(1, 0, 2, 3)  # (C_out, C_in, ..) -> transposed-conv layout
    weight_error = float(np.abs(taps - w).max()) if taps.shape == w.shape else None
    entry: dict[str, Any] = {
        "name": layer.name,
        "kind": layer.kind,
        "stride": s,
        "in_channels": int(c_in),
        "out_channels": int(c_out),
        "kernel_size": [int(w.shape[2]), int(w.shape[3])],
        "checkerboard_index": _finite(S.checkerboard_index(w, s)),
        "checkerboard_index_measured": _finite(
            S.constant_input_checkerboard(
                layer.module, s, size=config.probe_size, channels=c_in, margin=w.shape[-1] + s
            )
        ),
        "imaging_energy_2d": _finite(S.imaging_energy(w, s)),
        "dc_gain_spectral": _finite(float(response.spectral_norm[_dc_index(freqs)])),
        "phase_gain_mean_spectral": mean_norm,
        "phase_imbalance": _finite(float(imbalance.max()) / mean_norm if mean_norm else math.inf),
        "linear": measured.linear,
        "affine": measured.affine,
        "shift_invariant": measured.shift_invariant,
        "weight_vs_measured_max_abs_error": weight_error,
    }
    arrays = {
        "spectral_norm": response.spectral_norm,
        "frobenius_norm": response.frobenius_norm,
        "phase_gain_spectral": spec,
        "phase_gain_frobenius": frob,
        "tap_energy": np.sqrt((w**2).mean(axis=(0, 1))),
    }
    return entry, arrays


def _dc_index(freqs: np.ndarray) -> tuple[int, int]:
    """The index of frequency (0, 0) in the centred 2-D grid."""
    i = int(np.argmin(np.abs(freqs)))
    return i, i


def _finite(value: float) -> float | None:
    """JSON has no inf / nan: ``None`` stands for them."""
    value = float(value)
    return value if math.isfinite(value) else None


def _display_map(out: np.ndarray) -> np.ndarray:
    """Logit margin of a 2-class output, else channel 0 (``out``: ``(C, H, W)``)."""
    return out[1] - out[0] if out.shape[0] == 2 else out[0]


def constant_measures(
    model: nn.Module, config: LearnedKernelsConfig, layers: Sequence[UpsamplingLayer]
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], list[dict[str, Any]]]:
    """The model's output for each constant input level, and each layer's output stride.

    Returns:
        ``(entries, arrays, strides)``: one dict of scalars per level, arrays keyed
        ``"<j>"`` (interior display map) and ``"<j>__phase"`` (phase means), and per layer
        ``{"input_size", "output_size", "output_stride", "order"}`` from forward hooks.
    """
    model = copy.deepcopy(model).to(torch.float64).eval()
    period = int(getattr(model, "period", config.period))
    size = config.constant_size
    in_channels = _in_channels(model)
    seen: dict[int, dict[str, Any]] = {}
    modules = dict(model.named_modules())  # the copy's modules carry the originals' names
    # TorchScript has no forward hooks: its layers' output strides stay unknown (None).
    hooked = [] if isinstance(model, torch.jit.ScriptModule) else list(enumerate(layers))
    handles = [
        modules[layer.output_name].register_forward_hook(_shape_recorder(seen, i))
        for i, layer in hooked
        if layer.output_name in modules
    ]
    entries, arrays = [], {}
    try:
        for j, level in enumerate(config.constant_levels):
            x = torch.full((1, in_channels, size, size), float(level), dtype=torch.float64)
            with torch.no_grad():
                y = model(x)
            if not isinstance(y, torch.Tensor) or y.ndim != 4:
                raise ValueError(f"expected the model to return (N, C, H, W), got {type(y)}")
            entry, inner, phase = _pattern(_display_map(y[0].numpy()), config, period)
            entries.append({"level": float(level), **entry})
            crop = config.constant_crop
            arrays[f"{j}"] = inner[:crop, :crop].astype(np.float32)
            arrays[f"{j}__phase"] = phase
    finally:
        for handle in handles:
            handle.remove()
    return entries, arrays, _strides(seen, len(layers), size)


def _shape_recorder(seen: dict[int, dict[str, Any]], index: int) -> Callable:
    """A forward hook that records a layer's first input/output sizes and call order."""

    def record(_module: nn.Module, inputs: tuple, output: object) -> None:
        if index not in seen and isinstance(output, torch.Tensor) and output.ndim == 4:
            seen[index] = {
                "input_size": list(inputs[0].shape[-2:]),
                "output_size": list(output.shape[-2:]),
                "order": len(seen),
            }

    return record


def _strides(seen: dict[int, dict[str, Any]], n_layers: int, size: int) -> list[dict[str, Any]]:
    """Per layer: the recorded sizes and the output stride (input size / output size)."""
    strides = []
    for i in range(n_layers):
        info = seen.get(i)
        if info is None:
            strides.append({"input_size": None, "output_size": None, "output_stride": None})
            continue
        out = info["output_size"]
        info["output_stride"] = size / out[0] if out[0] else None
        strides.append(info)
    return strides


def _pattern(
    display: np.ndarray, config: LearnedKernelsConfig, period: int
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Scalars of a constant input's display map on the interior, which should be periodic.

    Returns:
        ``(scalars, interior, phase means)``; the interior is cropped to whole periods.

    Shape:
        - display: ``(H, W)``; interior: ``(ny, nx)``, multiples of ``period``;
          phase means: ``(period, period)``.
    """
    size, margin = config.constant_size, config.constant_margin
    inner = display[margin : display.shape[0] - margin, margin : display.shape[1] - margin]
    ny, nx = (inner.shape[0] // period) * period, (inner.shape[1] // period) * period
    if ny == 0 or nx == 0:
        raise ValueError(
            f"expected constant_size > 2 constant_margin + period ({period}), got "
            f"{size} and margin {margin}"
        )
    inner = inner[:ny, :nx]
    phase = inner.reshape(ny // period, period, nx // period, period).mean(axis=(0, 2))
    tiled = np.tile(phase, (ny // period, nx // period))
    mean = float(inner.mean())
    spectrum = np.fft.fft2(phase) / phase.size
    half = period // 2
    nyquist = (
        max(abs(spectrum[half, 0]), abs(spectrum[0, half]), abs(spectrum[half, half]))
        if period % 2 == 0
        else 0.0
    )
    flips = float(np.mean(np.sign(inner) != np.sign(mean))) if mean != 0 else None
    scalars = {
        "mean": mean,
        "interior_std": float(inner.std()),
        "pattern_rms": float(np.sqrt(np.mean((phase - phase.mean()) ** 2))),
        "pattern_peak_to_peak": float(np.ptp(phase)),
        "checkerboard_amplitude": float(nyquist),
        "periodicity_error": float(np.abs(inner - tiled).max()),
        "sign_flip_fraction": flips,
    }
    return scalars, inner, phase


def _in_channels(model: nn.Module) -> int:
    """The model's input channels (from its config, else its first conv)."""
    config = getattr(model, "config", None)
    if isinstance(config, Mapping) and isinstance(config.get("in_channels"), int):
        return int(config["in_channels"])
    for module in model.modules():
        module = plain_twin(module)  # TorchScript: the plain layer it was scripted from
        if isinstance(module, nn.modules.conv._ConvNd):
            return int(module.in_channels)
    raise ValueError("expected a model with a `config['in_channels']` or a first conv layer")


# ----------------------------------------------------------------------------- loading


class MissingCheckpointsError(FileNotFoundError):
    """The checkpoints to analyse are not there (the message says how to make them)."""


def checkpoint_files(config: LearnedKernelsConfig) -> dict[str, Path]:
    """``variant -> <checkpoints>/<task>/<variant>_s<seed>.safetensors`` (files that exist).

    Raises:
        MissingCheckpointsError: none found, or a requested variant is missing.
    """
    folder = Path(config.checkpoints) / config.task
    suffix = f"_s{config.seed}.safetensors"
    if config.variants is None:
        found = {p.name[: -len(suffix)]: p for p in sorted(folder.glob(f"*{suffix}"))}
        if not found:
            raise MissingCheckpointsError(
                f"no checkpoints {folder}/*{suffix}; train them with `{TRAIN_COMMAND}` "
                "(or pass --checkpoints DIR)"
            )
        return _ordered(found)
    missing = [v for v in config.variants if not (folder / f"{v}{suffix}").is_file()]
    if missing:
        raise MissingCheckpointsError(
            f"missing checkpoints {', '.join(str(folder / (v + suffix)) for v in missing)}; "
            f"train them with `{TRAIN_COMMAND}` (or pass --checkpoints DIR)"
        )
    return {v: folder / f"{v}{suffix}" for v in config.variants}


def _ordered(found: dict[str, Path]) -> dict[str, Path]:
    """Known variants in the documented order first, then the rest by name."""
    try:
        from antialias.models import VARIANTS

        order = {name: i for i, name in enumerate(VARIANTS)}
    except ImportError:  # the analysis also runs on a bare checkpoint folder
        order = {}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def load_models(
    config: LearnedKernelsConfig, root: str | Path | None = None
) -> dict[str, tuple[nn.Module, dict[str, Any]]]:
    """Load every checkpoint of :func:`checkpoint_files` (safetensors, no pickle).

    Args:
        config: which checkpoints.
        root: folder the recorded ``checkpoint`` paths are relative to (default: the current
            directory; paths outside it are recorded absolute).
    """
    from antialias.checkpoint import load_checkpoint

    models = {}
    for variant, path in checkpoint_files(config).items():
        model, meta = load_checkpoint(path)
        meta = dict(meta)
        meta["checkpoint"] = display_path(path, root)
        models[variant] = (model, meta)
    return models


def display_path(path: str | Path, root: str | Path | None = None) -> str:
    """``path`` relative to ``root`` (default: the current directory) when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path(root or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------- run / save


@dataclass
class LearnedKernelsResult:
    """What :func:`run` computed.

    Attributes:
        config: the configuration used.
        summary: JSON-ready dict: ``models`` (per model: checkpoint facts, ``layers``,
            ``constant``) and ``definitions``.
        arrays: the arrays of the ``.npz`` (keys in the module docstring).
    """

    config: LearnedKernelsConfig
    summary: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


DEFINITIONS = {
    "frequency_unit": "cycles/pixel of the layer's output, Nyquist 0.5",
    "phase_gain": "operator (spectral) / Frobenius norm of G_r = sum of the taps of polyphase "
    "component r (C_in x C_out): the output a constant input gets at output phase r",
    "phase_imbalance": "max_r ||G_r - mean_r G_r||_2 / ||mean_r G_r||_2",
    "checkerboard_index": "max |H(k/s)| / |H(0)| over the DC images (channel operator norm); "
    "0 = a constant input stays flat",
    "checkerboard_index_measured": "the same from a constant input to the layer alone",
    "imaging_energy_2d": "share of ||H||_F^2 outside |fx|, |fy| < 1/(2 s)",
    "tap_energy": "RMS over channel pairs of each kernel tap; tap t belongs to polyphase "
    "component t mod s",
    "constant": "whole model, input = level everywhere; display map = logit_1 - logit_0 for 2 "
    "outputs, else channel 0; measured on the interior (constant_margin from each border)",
    "pattern_rms": "RMS over the P x P phase means of their deviation from their mean "
    "(P = model period)",
    "checkerboard_amplitude": "largest |DFT| / P^2 of the phase means at (0.5, 0), (0, 0.5), "
    "(0.5, 0.5) cycles/pixel",
    "periodicity_error": "max |interior - phase means tiled| (0 = the interior is exactly "
    "P-periodic, i.e. free of border effects)",
    "sign_flip_fraction": "share of interior pixels whose display value has the opposite sign "
    "of the interior mean (for logits: the prediction flips)",
    "null": "infinite / undefined, or not applicable",
}


def run(
    config: LearnedKernelsConfig | None = None,
    models: Mapping[str, nn.Module | tuple[nn.Module, Mapping[str, Any]]] | None = None,
) -> LearnedKernelsResult:
    """Analyse the learned up-samplers and constant-input outputs of trained models.

    Args:
        config: what to compute; ``None`` for the defaults.
        models: ``name -> model`` or ``name -> (model, checkpoint metadata)``; ``None`` reads
            the checkpoints named by ``config`` (:func:`load_models`). Nothing is written or
            printed either way.

    Returns:
        A :class:`LearnedKernelsResult`.

    Raises:
        MissingCheckpointsError: ``models`` is ``None`` and the checkpoints are missing.
    """
    config = LearnedKernelsConfig() if config is None else config
    if not isinstance(config, LearnedKernelsConfig):
        raise TypeError(f"expected a LearnedKernelsConfig, got {type(config).__name__}")
    config.validate()
    if models is None:
        models = load_models(config)
    if not isinstance(models, Mapping) or not models:
        raise TypeError(f"expected a non-empty mapping of name -> model, got {models!r}")
    with _one_thread():
        result = _run(config, models)
    for message in result.summary["warnings"]:
        warnings.warn(message, UserWarning, stacklevel=2)
    return result


def _run(config: LearnedKernelsConfig, models: Mapping[str, Any]) -> LearnedKernelsResult:
    """:func:`run` after the checks, on one thread."""
    result = LearnedKernelsResult(config=config)
    freqs = np.fft.fftshift(np.fft.fftfreq(config.n_freqs_2d))
    result.arrays["freqs_2d"] = freqs
    out: dict[str, Any] = {}
    for name, item in models.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
            raise ValueError(f"expected model names of letters, digits, _ or -, got {name!r}")
        model, meta = item if isinstance(item, tuple) else (item, {})
        if not isinstance(model, nn.Module):
            raise TypeError(f"expected {name!r} to be an nn.Module, got {type(model).__name__}")
        layers = find_upsampling_layers(model)
        notes = _model_warnings(name, model, layers)
        entries = []
        for i, layer in enumerate(layers):
            entry, arrays = layer_measures(layer, config, freqs)
            entries.append(entry)
            for key, value in arrays.items():
                result.arrays[f"layer__{name}__{i}__{key}"] = value
        dims = _spatial_dims(model)
        if dims in (None, 2):
            constant, arrays, strides = constant_measures(model, config, layers)
        else:  # a constant_size^3 float64 volume through the model: not a probe any more
            constant, arrays, strides = [], {}, []
            notes.append(
                f"model {name}: the constant-input run is 2-D only, skipped for this {dims}-D model"
            )
        for entry, where in zip(entries, strides):
            entry.update(where)
        for key, value in arrays.items():
            result.arrays[f"const__{name}__{key}"] = value
        metrics = meta.get("metrics") if isinstance(meta, Mapping) else None
        out[name] = {
            "checkpoint": meta.get("checkpoint"),
            "variant": meta.get("variant", name),
            "task": meta.get("task"),
            "seed": meta.get("seed"),
            "checkpoint_commit": (meta.get("provenance") or {}).get("git_commit"),
            "test_metrics": metrics.get("test") if isinstance(metrics, Mapping) else None,
            "model_config": getattr(model, "config", None) if _jsonable(model) else None,
            "period": int(getattr(model, "period", config.period)),
            "layers": entries,
            "constant": constant,
            "warnings": notes,
        }
    every = [w for m in out.values() for w in m["warnings"]]
    result.summary = {"models": out, "definitions": DEFINITIONS, "warnings": every}
    return result


def _spatial_dims(model: nn.Module) -> int | None:
    """1, 2 or 3 when every convolution of ``model`` has that many spatial axes, else None."""
    dims = {m.weight.dim() - 2 for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)}
    return dims.pop() if len(dims) == 1 else None


def _model_warnings(name: str, model: nn.Module, layers: Sequence[UpsamplingLayer]) -> list[str]:
    """One line when the model has no up-sampling layer this analysis can read."""
    if layers:
        return []
    skipped = unreadable_upsamplers(model)
    why = f"; not read: {', '.join(skipped)}" if skipped else ""
    return [
        f"model {name}: found no up-sampling layer it can read (ConvTranspose1d/2d/3d with "
        f"stride >= 2, or Conv2d + PixelShuffle): nothing to score{why}"
    ]


def _jsonable(model: nn.Module) -> bool:
    """Whether the model's ``config`` can go into the JSON as it is."""
    try:
        json.dumps(getattr(model, "config", None))
        return True
    except TypeError:
        return False


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Tiny float64 probes: thread start-up dominates on a busy 2-core machine (see
    ``analysis.spectra``). The caller's setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def document(
    result: LearnedKernelsResult,
    seconds: float | None = None,
    *,
    command: str = PROG,
    root: str | Path | None = None,
) -> dict[str, Any]:
    """The JSON document of a result: config, provenance, the scalars, the array names."""
    from antialias.provenance import provenance

    doc = {
        "analysis": "learned_kernels",
        "command": command,
        "config": dataclasses.asdict(result.config),
        "provenance": provenance(),
        "seconds": seconds,
        **result.summary,
        "arrays": sorted(result.arrays),
    }
    doc["config"]["checkpoints"] = display_path(result.config.checkpoints, root)
    # Strict JSON (no NaN / inf: the scalars are mapped to null), checked before any write.
    json.dumps(doc, allow_nan=False)
    return doc


def save(
    result: LearnedKernelsResult,
    out: str | Path,
    seconds: float | None = None,
    *,
    command: str = PROG,
    root: str | Path | None = None,
) -> tuple[Path, Path]:
    """Write ``learned_kernels.json`` and ``.npz`` into ``out`` (created) as one result set."""
    doc = document(result, seconds, command=command, root=root)
    npz, js = write_result_set(out, "learned_kernels", doc, {".npz": npz_bytes(result.arrays)})
    return js, npz


def _fmt(value: object, spec: str = ".3g") -> str:
    """A table cell (``-`` for a missing value)."""
    if value is None:
        return "-"
    return format(value, spec)


def format_table(result: LearnedKernelsResult) -> str:
    """A short readable table of the scalars."""
    lines = [
        f"{'model':18}{'layer':16}{'stride':>7}{'k':>4}{'checker':>9}{'(const)':>9}"
        f"{'imbal':>8}{'imag2d':>8}"
    ]
    for name, m in result.summary["models"].items():
        for e in m["layers"]:
            lines.append(
                f"{name:18}{e['name']:16}{_fmt(e.get('output_stride'), 'g'):>7}"
                f"{e['kernel_size'][0]:>4}{_fmt(e['checkerboard_index']):>9}"
                f"{_fmt(e['checkerboard_index_measured']):>9}{_fmt(e['phase_imbalance']):>8}"
                f"{_fmt(e['imaging_energy_2d']):>8}"
            )
        if not m["layers"]:
            lines.append(f"{name:18}{'(no transposed / sub-pixel layers)':16}")
    lines += ["", "Constant input -> whole model (display map, interior):"]
    lines.append(
        f"{'model':18}{'level':>6}{'mean':>9}{'pat rms':>9}{'p-to-p':>9}{'chk amp':>9}"
        f"{'flips':>7}{'per err':>9}"
    )
    for name, m in result.summary["models"].items():
        for c in m["constant"]:
            lines.append(
                f"{name:18}{c['level']:>6g}{_fmt(c['mean']):>9}{_fmt(c['pattern_rms']):>9}"
                f"{_fmt(c['pattern_peak_to_peak']):>9}{_fmt(c['checkerboard_amplitude']):>9}"
                f"{_fmt(c['sign_flip_fraction'], '.2f'):>7}{_fmt(c['periodicity_error']):>9}"
            )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command line


def build_parser(
    prog: str = PROG,
    default_checkpoints: str | Path = DEFAULT_CHECKPOINTS,
    default_out: str | Path = DEFAULT_OUT,
) -> argparse.ArgumentParser:
    """The command's arguments (defaults given by the caller: a clone's script passes its own)."""
    parser = _cli.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=Path, default=Path(default_checkpoints))
    parser.add_argument("--task", default="nuclei")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default=None, help="comma-separated (default: all found)")
    parser.add_argument("--out", type=Path, default=Path(default_out), help="output folder")
    parser.add_argument("--quick", action="store_true", help="coarse grids (a smoke test)")
    user = parser.add_argument_group(
        "any model (instead of --checkpoints; a factory and a TorchScript file run their code "
        "by design: analyse only code you trust)"
    )
    user.add_argument("--model", help="factory pkg.module:factory (e.g. monai.networks.nets:UNet)")
    user.add_argument("--model-kwargs", default="{}", help="JSON keyword arguments of --model")
    user.add_argument("--weights", help="safetensors or plain state-dict file for --model")
    user.add_argument("--torchscript", type=Path, help="a TorchScript archive (torch.jit.save)")
    return parser


def user_models(args: argparse.Namespace) -> dict[str, tuple[nn.Module, dict[str, Any]]]:
    """The models named by ``--model`` (+ ``--weights``) and ``--torchscript``; may be empty."""
    from antialias.consistency.inputs import build_factory_model, load_torchscript

    if args.weights is not None and args.model is None:
        _cli.fail("expected --weights together with --model pkg.module:factory")
    try:
        kwargs = json.loads(args.model_kwargs)
    except json.JSONDecodeError as err:
        _cli.fail(f"expected --model-kwargs as a JSON object, got {args.model_kwargs!r} ({err})")
    if not isinstance(kwargs, dict):
        _cli.fail(f"expected --model-kwargs as a JSON object, got {args.model_kwargs!r}")
    models: dict[str, tuple[nn.Module, dict[str, Any]]] = {}
    if args.model is not None:
        net, name, source = build_factory_model(args.model, kwargs, args.weights)
        models[name] = (net.eval(), {"checkpoint": source})
    if args.torchscript is not None:
        net = load_torchscript(args.torchscript)
        # Layers are found by type; a scripted archive keeps each layer's original name and
        # constants (read back by upsamplers.plain_twin), a traced one keeps neither.
        if not any(plain_twin(m) is not m for m in net.modules()):
            _cli.fail(
                f"{args.torchscript}: no layer of this TorchScript archive can be read (a traced "
                "archive keeps no strides); save it with torch.jit.script, or pass the Python "
                "model (--model pkg.module:factory --weights FILE)"
            )
        models[args.torchscript.stem] = (net.eval(), {"checkpoint": str(args.torchscript)})
    return models


def config_from_args(args: argparse.Namespace) -> LearnedKernelsConfig:
    """The :class:`LearnedKernelsConfig` the command line asks for."""
    variants = None
    if args.variants is not None:
        variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
        if not variants:
            _cli.fail(f"expected --variants as a comma-separated list, got {args.variants!r}")
    return LearnedKernelsConfig(
        checkpoints=str(args.checkpoints),
        task=args.task,
        seed=args.seed,
        variants=variants,
        **(QUICK if args.quick else {}),
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = PROG,
    default_checkpoints: str | Path = DEFAULT_CHECKPOINTS,
    default_out: str | Path = DEFAULT_OUT,
    root: str | Path | None = None,
) -> int:
    """Command line: analyse, write ``learned_kernels.json`` / ``.npz``, print the table.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).
        prog: the command's name (in errors, and recorded as ``command`` in the result).
        default_checkpoints, default_out: defaults of ``--checkpoints`` / ``--out``.
        root: folder recorded paths are relative to (default: the current directory).

    Returns:
        0, or 2 after one line on stderr for a user mistake (missing checkpoints, bad option).
    """
    from antialias.checkpoint import CheckpointError

    args = parse_args(build_parser(prog, default_checkpoints, default_out), argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        if args.out.exists() and not args.out.is_dir():
            _cli.fail(f"expected --out to be a folder, got the file {args.out}")
        config = config_from_args(args)
        start = time.perf_counter()
        try:
            config.validate()
            with warnings.catch_warnings():  # said below as one line each, not file:line
                warnings.simplefilter("ignore", UserWarning)
                models = user_models(args) or load_models(config, root)
                result = run(config, models)
            for message in result.summary["warnings"]:
                print(f"{prog}: warning: {message}", file=sys.stderr)
            seconds = round(time.perf_counter() - start, 2)
            js, npz = save(result, args.out, seconds, command=prog, root=root)
        except MissingCheckpointsError:
            raise
        except OSError as err:
            _cli.fail(f"cannot read or write: {err}")
        print(format_table(result))
        print(f"\nwrote {js} and {npz}")
        return 0

    errors = (MissingCheckpointsError, CheckpointError, ValueError, TypeError)
    return _cli.run(prog, body, user_errors=errors)


if __name__ == "__main__":
    sys.exit(main())
