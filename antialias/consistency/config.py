"""Options of a shift-consistency run (:class:`Config`), their checks, and the size limits.

Every option is checked once, here, before anything is loaded or allocated; the limits bound
what an option implies (shifts per model, bootstrap resamples, ...) so that a typo such as
``--max-shift 1e12`` is a one-line error instead of a ``MemoryError`` minutes later.

What does not live here: the command line (:mod:`antialias.consistency.cli`) and the checks that
need the models or the images (:mod:`antialias.consistency.engine`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, NoReturn

import torch
from torch import nn

from antialias._checks import check_choice, check_float, check_int
from antialias._cli import UsageError

__all__ = [
    "AXIS_NAMES",
    "NEW_OPTIONS",
    "VOLUME_SHIFT_BUDGET",
    "InputError",
    "KINDS",
    "LIMITS",
    "MODES",
    "PROG",
    "REGIONS",
    "SCHEMA",
    "Config",
    "check_config",
    "fail",
]


class InputError(UsageError, ValueError):
    """A mistake in the options, models or images: one line for the command, a ``ValueError``
    for library callers (as every argument check of the library)."""


def fail(message: str) -> NoReturn:
    """Raise :class:`InputError` with ``message`` (the whole report, one line)."""
    raise InputError(message)


SCHEMA = "antialias.shift_consistency/1"
PROG = "shift_consistency"
MODES: tuple[str, ...] = ("circular", "crop", "fractional")
KINDS: tuple[str, ...] = ("segmentation", "regression")
REGIONS: tuple[str, ...] = ("all", "interior", "border")

#: Upper bounds of what an option may imply. 65536 shifts is the whole period of a network with
#: 8 down-samplings (256 x 256), far beyond any U-Net here; a million bootstrap resamples would
#: already be 25x more than any percentile interval needs.
LIMITS: dict[str, int] = {
    "shifts": 65536,  # shifts per model, whatever --shifts asks for
    "max_shift": 65535,  # pixels
    "levels": 16,  # factor-2 down-samplings (period 65536 px)
    "n_boot": 100_000,
    "batch_size": 4096,
    "lanczos_a": 16,  # StyleGAN3 uses 3; the masked band is 2a px
    "image_size": 65536,
    "max_images": 10_000_000,
    "border": 65536,
    "shift_budget": 65536,
}

#: Spatial axes by name, per number of spatial dimensions (``--axes``).
AXIS_NAMES: dict[int, tuple[str, ...]] = {2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass
class Config:
    """Options of :func:`antialias.consistency.run`: the CLI flags under the same names
    (``--max-shift`` -> ``max_shift``); the package docstring says what each does.

    Attributes:
        checkpoints: ``.safetensors`` checkpoints or TorchScript files.
        model: ``"pkg.module:factory"``, or (library use) the factory callable itself.
        model_kwargs: keyword arguments of the factory.
        weights: state dict for ``model`` (safetensors or ``torch.load(weights_only=True)``).
        data: task name or folder/file of images; ``None``: each checkpoint's own task.
        split: task split (``test``).
        mode: ``circular``, ``crop`` or ``fractional``.
        shifts: ``all``, ``line``, ``random:N`` or ``"DY:DX,..."``; ``None``: ``line`` for crop,
            else ``all``.
        max_shift: ``S`` of ``line`` and ``random:N`` (pixels).
        max_images: first ``N`` images only.
        image_size: centre-crop images to ``S x S`` first.
        batch_size: shifted copies per forward pass (at most: lowered when the memory estimate
            of a batch exceeds the budget, see :func:`antialias.consistency.engine.plan`).
        device: ``cpu`` or ``cuda``; dtype: ``float32`` or ``float64``.
        seed: seed of ``random:N`` and of the bootstrap.
        border: width of the border band (pixels, at full resolution).
        n_boot: bootstrap resamples.
        per_layer: record per-level feature errors.
        levels: factor-2 down-samplings ``L`` (default: the model's ``num_downsamplings``; a
            different value is refused).
        kind: ``segmentation`` or ``regression`` for data without targets.
        data_range: PSNR data range (default: the data's, 1.0).
        normalize: folder images: ``dtype``, ``percentile`` or ``none``.
        fractional_method: ``lanczos`` or ``fourier``; lanczos_a: its half-width ``a``.
        layers: with ``per_layer``, the names of the modules whose outputs are the levels
            (``model.named_modules()`` names); ``None``: the model's ``levels()`` or, for other
            models, the ones found from its module graph.
        spatial_dims: 2 (images) or 3 (volumes); ``None``: inferred from the model (its
            convolutions) or else the data (NIfTI files, 4-D arrays).
        axes: the spatial axes that shift, names among ``D, H, W`` (3-D) or ``H, W`` (2-D);
            ``None``: all of them.
        shift_budget: ``shifts="all"`` measures the whole period when it has at most this many
            offsets, else a seeded sample of this many (the result says which); ``None``:
            :data:`VOLUME_SHIFT_BUDGET` for volumes, no sampling for 2-D images (their
            ``all`` is refused above ``LIMITS["shifts"]``, as before).
    """

    checkpoints: list[str] = field(default_factory=list)
    model: str | Callable[..., nn.Module] | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    weights: str | None = None
    data: str | None = None
    split: str = "test"
    mode: str = "circular"
    shifts: str | None = None
    max_shift: int = 16
    max_images: int | None = None
    image_size: int | None = None
    batch_size: int = 16
    device: str = "cpu"
    dtype: str = "float32"
    seed: int = 0
    border: int = 16
    n_boot: int = 1000
    per_layer: bool = False
    levels: int | None = None
    kind: str | None = None
    data_range: float | None = None
    normalize: str = "dtype"
    fractional_method: str = "lanczos"
    lanczos_a: int = 3
    layers: list[str] | None = None
    spatial_dims: int | None = None
    axes: list[str] | None = None
    shift_budget: int | None = None


#: Options newer than the schema: written to the result's config only when not the default.
NEW_OPTIONS: dict[str, Any] = {"spatial_dims": None, "axes": None, "shift_budget": None}

#: Default ``shift_budget`` of volumes: the whole 16^3 period of a 4-level 3-D U-Net.
VOLUME_SHIFT_BUDGET = 4096


def _int(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    if optional and value is None:
        return
    check_int(name, value, minimum=minimum, maximum=LIMITS.get(name))


def check_config(config: Config | dict[str, Any]) -> Config:
    """Return ``config`` as a :class:`Config` if every option is valid (one-line errors)."""
    if isinstance(config, dict):
        valid = {f.name for f in fields(Config)}
        unknown = sorted(set(config) - valid)
        if unknown:
            fail(f"expected config keys among {sorted(valid)}, got unknown {unknown}")
        config = Config(**config)
    if not isinstance(config, Config):
        raise TypeError(f"expected a Config or dict, got {type(config).__name__}")
    c = config
    check_choice("mode", c.mode, MODES)
    check_choice("dtype", c.dtype, ("float32", "float64"))
    check_choice("normalize", c.normalize, ("dtype", "percentile", "none"))
    check_choice("fractional_method", c.fractional_method, ("lanczos", "fourier"))
    check_choice("split", c.split, ("train", "val", "test"))
    if c.kind is not None:
        check_choice("kind", c.kind, KINDS)
    for name in ("batch_size", "n_boot", "lanczos_a"):
        _int(name, getattr(c, name), 1)
    _int("max_images", c.max_images, 1, optional=True)
    _int("shift_budget", c.shift_budget, 1, optional=True)
    _int("border", c.border, 0)
    _int("max_shift", c.max_shift, 0)
    if c.spatial_dims is not None:
        check_choice("spatial_dims", c.spatial_dims, (2, 3))
    for name, minimum in (("image_size", 1), ("levels", 1)):
        # --levels 0 would measure the zero shift only and report an empty summary
        value = getattr(c, name)
        if isinstance(value, (list, tuple)):
            if len(value) not in (2, 3):
                fail(f"expected {name} as one number or one per spatial axis, got {value!r}")
            for v in value:
                _int(name, v, minimum)
            if c.spatial_dims is not None and len(value) != c.spatial_dims:
                fail(
                    f"expected {name} with {c.spatial_dims} numbers (--spatial-dims "
                    f"{c.spatial_dims}), got {value!r}"
                )
        else:
            _int(name, value, minimum, optional=True)
    if c.axes is not None:
        names = sorted({n for names in AXIS_NAMES.values() for n in names})
        ok = isinstance(c.axes, (list, tuple)) and c.axes
        if not ok or any(a not in names for a in c.axes) or len(set(c.axes)) != len(c.axes):
            fail(f"expected --axes as distinct names among {names} (e.g. H,W), got {c.axes!r}")
    check_int("seed", c.seed, minimum=0)
    if c.data_range is not None:
        value = check_float("data_range", c.data_range)
        if value <= 0:
            fail(f"expected data_range to be a positive finite number, got {c.data_range!r}")
    if not isinstance(c.device, str) or not (c.device == "cpu" or c.device.startswith("cuda")):
        fail(f"expected device cpu or cuda, got {c.device!r}")
    if c.device.startswith("cuda") and not torch.cuda.is_available():
        fail("expected --device cpu: CUDA is not available on this machine")
    if not isinstance(c.model_kwargs, dict):
        fail(f"expected model_kwargs a dict, got {c.model_kwargs!r}")
    if c.layers is not None:
        if not c.per_layer:
            fail("expected --layers together with --per-layer")
        if not c.layers or not all(isinstance(n, str) and n for n in c.layers):
            fail(f"expected --layers as module names name,name,..., got {c.layers!r}")
    return c


def check_threads(threads: int) -> int:
    """``--threads`` in ``[1, CPUs of this machine]`` (more only oversubscribes the cores)."""
    return check_int("--threads", threads, minimum=1, maximum=os.cpu_count() or 1)
