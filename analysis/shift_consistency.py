"""Shift consistency of trained U-Nets (or any image-to-image model): where equivariance breaks.

For every image and every requested shift ``s`` the command compares ``f(shift(x, s))`` with
``shift(f(x), s)`` on the pixels where both exist, and (when the data has targets) scores
``f(shift(x, s))`` against ``shift(target, s)``::

    python analysis/shift_consistency.py CKPT [CKPT ...] [--data nuclei|textures|denoise|DIR]
        [--mode circular|crop|fractional] [--shifts all|line|LIST|random:N] [--max-shift S]
        [--batch-size B] [--device cpu|cuda] [--out DIR] [--seed S] [--per-layer] ...
    python analysis/shift_consistency.py --model pkg.module:factory [--weights FILE] --data DIR
    torchrun --nproc_per_node 2 analysis/shift_consistency.py ...   # shards images over ranks

Models: ``.safetensors`` checkpoints written by :func:`antialias.checkpoint.save_checkpoint`
(their own task's test split is the default data); TorchScript archives (``torch.jit.save``;
note that TorchScript runs the archive's code: analyse only files you trust); or
``--model pkg.module:factory`` (called with ``--model-kwargs`` JSON) plus optional
``--weights`` (safetensors or a plain state dict, read with ``torch.load(weights_only=True)``;
mismatching keys are named). Models that are not an :class:`antialias.models.UNet` need
``--levels L`` (their number of factor-2 down-samplings, period ``2**L``).

Data: a task name (:data:`antialias.data.TASKS`, ``--split``, default test) or a folder (or a
file) of PNG/TIFF/NPY images, integer images scaled by their dtype's maximum
(``--normalize dtype``), by their 1st/99.8th percentiles (``percentile``, as the nuclei task)
or not at all (``none``). Folder images have no targets, so only equivariance is scored;
their kind is ``--kind`` or, by default, regression for 1-channel outputs and segmentation
otherwise. Segmentation outputs are logits (label = argmax over channels; a single channel is
thresholded at 0).

Modes (operators of :mod:`antialias.shifts`, content moves by ``+(dy, dx)``):

- ``circular``: ``torch.roll`` of the image (cropped at the top-left to a multiple of the
  period); every pixel compared. The APS/LPS protocol.
- ``crop``: windows at offsets ``-s`` cut from the full image (a multiple of the period in
  size, placed so that every shifted window fits); compared on the overlap only.
- ``fractional``: band-limited sub-pixel shift (Lanczos-3 as StyleGAN3's EQ-T_frac, or
  ``--fractional-method fourier``) of the input, and the same operator on the output; the
  border band the kernel reaches over is masked. Segmentation references are the shifted
  logits' argmax; targets are shifted as one-hot maps.

Shifts (``--shifts``): ``all`` (default for circular and crop) = every offset of the
``2^L x 2^L`` period; for fractional mode ``all`` = the 16 quarter-pixel offsets in ``[0, 1)^2``.
``line`` = ``(0, 0), (0, 1), ..., (0, S)`` with ``S = --max-shift`` (16): cheap, one axis.
``random:N`` = ``N`` seeded draws uniform in ``[-S, S]^2`` (integers except in fractional mode).
A list: ``DY:DX,DY:DX,...``.

Metrics (:mod:`antialias.metrics`, pooled over images from float64 per-image sums; regions
``all`` = every compared pixel, ``interior`` = at least ``--border`` px (16) from the frame's
edge in both the shifted and the reference frame (fractional: the whole interpolation kernel
of a moved pixel lies in the reference's interior), ``border`` = the rest):

- segmentation: ``agreement`` (label agreement; LPS's mASSC for circular shifts), ``iou`` and
  ``dice`` between the two label maps (mean over foreground classes), ``task_accuracy``,
  ``task_iou``, ``task_dice`` of the shifted input's prediction against the shifted target;
- regression: ``psnr`` (EQ-T PSNR exactly as StyleGAN3, with ``data_range`` of the data, 1.0
  for our tasks) and ``mse``; ``task_psnr``, ``task_mse`` against the target;
- ``--per-layer``: for every level of ``model.levels()`` (encoder blocks, bottleneck,
  decoder blocks) and every shift that is a multiple of the level's stride ``r``, the relative
  RMS error ``sqrt(sum (F_s - shift(F_0, s / r))^2 / sum shift(F_0, s / r)^2)`` of the
  feature maps, on the compared pixels at that resolution.

95% confidence intervals: percentile bootstrap over images (``--n-boot``, seeded by
``--seed``), the same resamples for every metric.

Output schema (``--out DIR``, default ``results/shift_consistency``; file stem ``--name``):

``<name>.json``::

    {"schema": "antialias.shift_consistency/1",
     "config": {...every option...}, "provenance": {versions, git_commit, time_utc, ...},
     "results": [  # one per checkpoint / model, in command-line order
       {"id": "c0", "name": "tconv2_s0", "source": "checkpoints/nuclei/tconv2_s0.safetensors",
        "task": "nuclei", "variant": "tconv2", "seed": 0, "kind": "segmentation",
        "levels": 3, "period": 8, "mode": "crop", "data": "nuclei:test", "n_images": 6,
        "image_sizes": [[256, 256]], "frame_sizes": [[248, 248]], "border": 16,
        "data_range": 1.0, "num_classes": 2, "n_boot": 1000,
        "metrics": ["agreement", "iou", "dice", "task_accuracy", "task_iou", "task_dice"],
        "shifts": [{"dy": 0, "dx": 1, "agreement": 0.99, "agreement_lo": ..,
                    "agreement_hi": .., "agreement_interior": .., "agreement_interior_lo": ..,
                    ..., "agreement_border": .., ..., "iou": .., ..., "task_dice": ..,
                    "n_pixels": .., "n_pixels_interior": .., "n_pixels_border": ..}, ...],
        "summary": {same keys as a shift record, pooled over every non-zero shift},
        "worst": {"agreement": {"value": .., "dy": .., "dx": ..}, ...},
        "period_map": {"agreement": [[...P x P...]], "agreement_interior": ..., ...}
                      (cell [i][j] pools the shifts with dy mod P = i, dx mod P = j;
                       null cells: no such shift; null in fractional mode),
        "per_layer": [{"level": "enc1", "stride": 2, "dy": 0, "dx": 2, "rel_error": ..,
                       "rel_error_interior": .., "rel_error_border": ..}, ...] or null,
        "per_layer_summary": [{"level": .., "stride": .., "rel_error": .., ...}] or null}]}

NaN and infinite values (PSNR of an exact match) are written as JSON ``NaN`` / ``Infinity``
(Python's ``json`` reads them). ``<name>.csv``: one row per (model, shift): identity columns
(``id, name, source, task, variant, seed, mode, dy, dx``) then the shift record's keys.
``<name>_layers.csv`` (with ``--per-layer``): one row per (model, level, shift).
``<name>.npz``: ``<id>__<metric>`` period maps ``(P, P)`` (every region, as in the JSON),
``<id>__shifts`` ``(S, 2)`` (dy, dx), and the raw per-image sums ``<id>__sums__<field>``
``(N, S, 2, ...)`` (axis 2: regions all, interior; border = all - interior) from which every
number can be recomputed: segmentation ``eq_confusion`` ``(..., K, K)`` (moved reference labels
x shifted input's labels) and ``task_confusion`` (prediction x target); regression ``eq_se``
and ``task_se`` ``(..., 2)`` = ``[sse, n]``; ``layer`` ``(..., levels, 3)`` = ``[sse, reference
energy, n]``. All files are written to temporary names and then renamed.

Importable: :func:`run` ``(config) -> result`` (no printing, no file writes; reads models and
data), :func:`main` ``(argv) -> int``. Under ``torchrun`` (``WORLD_SIZE > 1``) images are
sharded over ranks (gloo on CPU, NCCL on CUDA), each rank fills the per-image sums of its own
images and an all-reduce of the (otherwise zero) arrays gathers them; every image is computed
in the same batches as in a single process, so the result is identical. Rank 0 writes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import io
import json
import math
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from antialias import metrics as M
from antialias.shifts import (
    crop_window,
    fractional_shift,
    period_shifts,
)

SCHEMA = "antialias.shift_consistency/1"
MODES: tuple[str, ...] = ("circular", "crop", "fractional")
KINDS: tuple[str, ...] = ("segmentation", "regression")
REGIONS: tuple[str, ...] = ("all", "interior", "border")
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".tif", ".tiff", ".npy")
PROG = "shift_consistency"

SEG_METRICS = {  # name -> (confusion sums, statistic of summed confusion matrices)
    "agreement": ("eq_confusion", lambda c: M.agreement(M.agreement_from_confusion(c))),
    "iou": ("eq_confusion", lambda c: M.iou(M.overlap_from_confusion(c))),
    "dice": ("eq_confusion", lambda c: M.dice(M.overlap_from_confusion(c))),
    "task_accuracy": ("task_confusion", lambda c: M.agreement(M.agreement_from_confusion(c))),
    "task_iou": ("task_confusion", lambda c: M.iou(M.overlap_from_confusion(c))),
    "task_dice": ("task_confusion", lambda c: M.dice(M.overlap_from_confusion(c))),
}
REG_METRICS = ("psnr", "mse", "task_psnr", "task_mse")
LOWER_IS_BETTER = ("mse", "task_mse")


@dataclass
class Config:
    """Options of :func:`run`: the CLI flags under the same names (``--max-shift`` ->
    ``max_shift``); the module docstring says what each does.

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
        batch_size: shifted copies per forward pass.
        device: ``cpu`` or ``cuda``; dtype: ``float32`` or ``float64``.
        seed: seed of ``random:N`` and of the bootstrap.
        border: width of the border band (pixels, at full resolution).
        n_boot: bootstrap resamples.
        per_layer: record per-level feature errors (models with ``levels()``).
        levels: factor-2 down-samplings ``L`` (default: the model's ``num_downsamplings``).
        kind: ``segmentation`` or ``regression`` for data without targets.
        data_range: PSNR data range (default: the data's, 1.0).
        normalize: folder images: ``dtype``, ``percentile`` or ``none``.
        fractional_method: ``lanczos`` or ``fourier``; lanczos_a: its half-width ``a``.
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


# ----------------------------------------------------------------------------------------------
# inputs: models and data


@dataclass
class _Model:
    name: str
    source: str
    net: nn.Module
    meta: dict[str, Any]
    levels: int
    level_modules: list[tuple[str, nn.Module, int]] | None
    in_channels: int | None


@dataclass
class _Data:
    name: str
    images: list[Tensor]  # each (1, C, H, W), float32 CPU
    targets: list[Tensor] | None  # each (1, H, W) int64 or (1, C, H, W) float32
    kind: str | None
    data_range: float


def _fail(message: str) -> ValueError:
    return ValueError(message)


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any("/code/" in n or n.endswith("constants.pkl") for n in names)


def _import_factory(spec: str) -> Callable[..., nn.Module]:
    if spec.count(":") != 1 or not all(spec.split(":")):
        raise _fail(f"expected --model as pkg.module:factory, got {spec!r}")
    module_name, attr = spec.split(":")
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:  # `python analysis/...` puts analysis/ first; users expect their cwd importable
        sys.path.append(cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # any import-time failure of user code is a user error here
        raise _fail(f"cannot import module {module_name!r} for --model {spec!r}: {err}") from err
    finally:
        if added:
            sys.path.remove(cwd)
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise _fail(f"module {module_name!r} has no callable {attr!r} (from --model {spec!r})")
    return factory


def _levels_of(net: nn.Module, override: int | None, name: str) -> int:
    if override is not None:
        return override
    levels = getattr(net, "num_downsamplings", None)
    if isinstance(levels, int) and not isinstance(levels, bool):
        return levels
    raise _fail(
        f"cannot tell the period of model {name!r}: pass --levels L (its number of factor-2 "
        "down-samplings; the period is 2**L)"
    )


def _finish_model(
    net: nn.Module, name: str, source: str, meta: dict[str, Any], cfg: Config
) -> _Model:
    net = net.to(device=cfg.device, dtype=getattr(torch, cfg.dtype)).eval()
    levels = _levels_of(net, cfg.levels, name)
    level_modules = None
    if cfg.per_layer:
        get = getattr(net, "levels", None)
        if not callable(get) or isinstance(net, torch.jit.ScriptModule):
            raise _fail(
                f"--per-layer needs a model with levels() (an antialias UNet), got {name!r}"
            )
        level_modules = list(get())
    config = getattr(net, "config", None)
    in_channels = config.get("in_channels") if isinstance(config, dict) else None
    return _Model(name, source, net, meta, levels, level_modules, in_channels)


def _load_models(cfg: Config) -> list[_Model]:
    from antialias.checkpoint import check_state_dict, load_checkpoint, load_state_dict_safely

    models = []
    if cfg.model is not None:
        if callable(cfg.model):  # library use: run(Config(model=factory, ...))
            factory, spec = cfg.model, getattr(cfg.model, "__name__", "model")
        else:
            factory, spec = _import_factory(cfg.model), cfg.model
        try:
            net = factory(**cfg.model_kwargs)
        except Exception as err:
            raise _fail(f"--model {spec}: the factory failed: {err}") from err
        if not isinstance(net, nn.Module):
            raise _fail(f"expected --model {spec} to return an nn.Module, got {type(net)}")
        if cfg.weights is not None:
            state = load_state_dict_safely(cfg.weights)
            check_state_dict(net, state, cfg.weights)
            net.load_state_dict(state, strict=True)
        source = spec if cfg.weights is None else f"{spec} + {cfg.weights}"
        name = spec.split(":")[-1] if cfg.weights is None else Path(cfg.weights).stem
        models.append(_finish_model(net, name, source, {}, cfg))
    elif cfg.weights is not None:
        raise _fail("expected --weights together with --model pkg.module:factory")
    for item in cfg.checkpoints:
        path = Path(item)
        if not path.is_file():
            raise _fail(f"checkpoint {item!r} does not exist")
        if path.suffix == ".safetensors":
            net, meta = load_checkpoint(path)
        elif _is_torchscript(path):
            try:
                net = torch.jit.load(str(path), map_location="cpu")
            except Exception as err:
                raise _fail(f"{item}: not a loadable TorchScript file: {err}") from err
            meta = {}
        else:
            raise _fail(
                f"expected a .safetensors checkpoint or a TorchScript file, got {item!r} (for a "
                "plain state dict use --model pkg.module:factory --weights FILE)"
            )
        models.append(_finish_model(net, path.stem, str(item), dict(meta), cfg))
    if not models:
        raise _fail("expected at least one CKPT or --model pkg.module:factory")
    return models


def _read_image(path: Path, normalize: str) -> Tensor:
    try:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(path)
        else:
            from PIL import Image

            with Image.open(path) as img:
                arr = np.asarray(img)
    except Exception as err:
        raise _fail(f"cannot read image {str(path)!r}: {err}") from err
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and arr.shape[0] not in (1, 3, 4):
        arr = np.moveaxis(arr, -1, 0)  # HWC (PNG/TIFF colour) -> CHW
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or not (np.issubdtype(arr.dtype, np.number) and arr.dtype != np.bool_):
        raise _fail(f"expected a 2-D or (C, H, W) numeric image in {str(path)!r}, got {arr.shape}")
    if normalize == "percentile":
        from antialias.data import normalize_percentile

        out = normalize_percentile(arr)
    elif normalize == "dtype" and np.issubdtype(arr.dtype, np.integer):
        out = arr.astype(np.float64) / np.iinfo(arr.dtype).max
    else:
        out = arr.astype(np.float64)
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))[None]


def _load_folder(path: Path, normalize: str) -> list[Tensor]:
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise _fail(f"expected PNG/TIFF/NPY images in {str(path)!r}, found none")
    return [_read_image(p, normalize) for p in files]


def _load_data(spec: str, cfg: Config, cache: dict[str, _Data]) -> _Data:
    from antialias.data import TASKS, load_split

    if spec in cache:
        return cache[spec]
    if spec in TASKS:
        split = load_split(spec, cfg.split)
        images = [split.images[i : i + 1] for i in range(len(split))]
        targets = [split.targets[i : i + 1] for i in range(len(split))]
        data = _Data(f"{spec}:{cfg.split}", images, targets, split.kind, float(split.data_range))
    else:
        path = Path(spec)
        if not path.exists():
            raise _fail(f"expected --data to be one of {sorted(TASKS)} or a folder, got {spec!r}")
        data = _Data(str(path), _load_folder(path, cfg.normalize), None, None, 1.0)
    if cfg.max_images is not None:
        data.images = data.images[: cfg.max_images]
        data.targets = None if data.targets is None else data.targets[: cfg.max_images]
    if cfg.image_size is not None:
        data.images = [_center_crop(x, cfg.image_size, spec) for x in data.images]
        if data.targets is not None:
            data.targets = [_center_crop(t, cfg.image_size, spec) for t in data.targets]
    cache[spec] = data
    return data


def _center_crop(x: Tensor, size: int, where: str) -> Tensor:
    h, w = x.shape[-2:]
    if h < size or w < size:
        raise _fail(f"expected images of at least --image-size {size} px in {where}, got {h}x{w}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size].contiguous()


# ----------------------------------------------------------------------------------------------
# shifts


def _parse_shifts(spec: str, cfg: Config, levels: int) -> list[tuple[float, float]]:
    frac = cfg.mode == "fractional"
    s = cfg.max_shift
    if spec == "all":
        if frac:
            return [(i / 4, j / 4) for i in range(4) for j in range(4)]
        return [(float(a), float(b)) for a, b in period_shifts(levels)]
    if spec == "line":
        return [(0.0, float(d)) for d in range(s + 1)]
    if spec.startswith("random:"):
        count = spec.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise _fail(f"expected --shifts random:N with N >= 1, got {spec!r}")
        rng = np.random.default_rng(cfg.seed)
        if frac:
            draws = rng.uniform(-s, s, size=(int(count), 2))
        else:
            draws = rng.integers(-s, s + 1, size=(int(count), 2)).astype(np.float64)
        return [(float(a), float(b)) for a, b in draws]
    out = []
    for part in spec.split(","):
        pieces = part.strip().split(":")
        try:
            dy, dx = (float(p) for p in pieces)
        except ValueError:
            raise _fail(
                f"expected --shifts all, line, random:N or a list DY:DX,DY:DX,...; got {spec!r}"
            ) from None
        if not (math.isfinite(dy) and math.isfinite(dx)):
            raise _fail(f"expected finite shifts, got {part!r}")
        if not frac and (dy != round(dy) or dx != round(dx)):
            raise _fail(f"expected integer shifts in {cfg.mode} mode, got {part!r}")
        out.append((dy, dx))
    return out


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


class _Geometry:
    """Per image: the frame the model sees, and the shift operators in and out of the model.

    For a batch of shifts everything is built along each axis in numpy and applied in one
    gather: a circular or crop shift of the input is ``canvas[rows[b, i], cols[b, j]]``, and
    every mask used here is separable, ``row_mask[b, i] & col_mask[b, j]``. The masks are those
    of the operators of :mod:`antialias.shifts` (a test checks them against the operators);
    building them per batch keeps the work and memory of a batch independent of the number of
    shifts. Fractional shifts run :func:`~antialias.shifts.fractional_shift` per shift.
    """

    def __init__(self, cfg: Config, shape: tuple[int, int], period: int, shifts, where: str):
        self.cfg = cfg
        self.mode = cfg.mode
        self.canvas = shape
        h, w = shape
        if h < period or w < period:
            raise _fail(
                f"expected images of at least the period {period} px, got {h}x{w} ({where})"
            )
        if self.mode == "crop":
            try:
                self.origin, self.size = crop_window(
                    (h, w), [(int(a), int(b)) for a, b in shifts], multiple=period
                )
            except ValueError:
                span = max(abs(a) for a, _ in shifts), max(abs(b) for _, b in shifts)
                raise _fail(
                    f"image {h}x{w} ({where}) is too small for crop shifts up to {span} px with "
                    f"period {period}: lower --max-shift or use larger images"
                ) from None
        else:
            self.origin = (0, 0)
            self.size = (h // period * period, w // period * period)
            big = [s for s in shifts if abs(s[0]) >= self.size[0] or abs(s[1]) >= self.size[1]]
            if big:
                raise _fail(
                    f"image frame {self.size[0]}x{self.size[1]} ({where}) is smaller than the "
                    f"shift {big[0]}: lower --max-shift or use larger images"
                )

    def reference(self, canvas: Tensor) -> Tensor:
        oy, ox = self.origin
        h, w = self.size
        return canvas[..., oy : oy + h, ox : ox + w]

    # -- along one axis ------------------------------------------------------------------------

    def _axis_masks(self, n: int, d: np.ndarray, scale: int) -> dict[str, np.ndarray]:
        """1-D masks ``(B, n)`` for shifts ``d`` (pixels at this scale), one axis."""
        t = np.arange(n)[None, :]
        bw = math.ceil(self.cfg.border / scale)
        inner = (t >= bw) & (t < n - bw)
        d = d[:, None]
        if self.mode == "circular":
            valid = np.ones_like(t, dtype=bool) & np.ones_like(d, dtype=bool)
            moved_inner = ((t - d) % n >= bw) & ((t - d) % n < n - bw)
            task = valid
        elif self.mode == "crop":
            valid = (t >= d) & (t < n + d)  # overlap with the moved reference
            moved_inner = (t - d >= bw) & (t - d < n - bw)
            task = np.ones_like(valid)  # the shifted window is all real content
        else:  # StyleGAN3's Lanczos mask: the whole 2a-tap kernel inside the frame / interior
            a = self.cfg.lanczos_a
            k = np.floor(d).astype(np.int64)
            valid = (t >= k + a) & (t < n + k - a + 1)
            moved_inner = (t >= bw + k + a) & (t < n - bw + k - a + 1)
            task = valid
        return {
            "compared": valid,
            "interior": valid & inner & moved_inner,
            "task": task,
            "task_interior": task & inner,
        }

    def masks(
        self, ss: list[tuple[float, float]], scale: int = 1, device: str | torch.device = "cpu"
    ) -> dict[str, Tensor]:
        """``compared``, ``interior``, ``task``, ``task_interior``: bool ``(B, 1, h, w)``.

        ``compared``: real content in both the shifted input's output and the moved reference
        output; ``interior``: compared and at least ``border / scale`` px from the edge of
        both frames; ``task``: real content of the shifted input (compared with the target);
        ``task_interior``: that, at least the border width from the shifted frame's edge.
        """
        h, w = self.size[0] // scale, self.size[1] // scale
        dy = np.asarray([s[0] / scale for s in ss])
        dx = np.asarray([s[1] / scale for s in ss])
        rows, cols = self._axis_masks(h, dy, scale), self._axis_masks(w, dx, scale)
        out = {}
        for key in rows:
            r = torch.from_numpy(rows[key]).to(device)
            c = torch.from_numpy(cols[key]).to(device)
            out[key] = (r[:, None, :, None] & c[:, None, None, :]).contiguous()
        return out

    def _gather(self, t: Tensor, rows: np.ndarray, cols: np.ndarray) -> Tensor:
        """``t[0, :, rows[b, i], cols[b, j]]``: ``(1, C, H, W)`` -> ``(B, C, h, w)``."""
        width = t.shape[-1]
        index = torch.from_numpy((rows[:, :, None] * width + cols[:, None, :]).reshape(-1))
        flat = t.reshape(t.shape[1], -1)
        out = flat.index_select(1, index.to(t.device))
        return out.view(t.shape[1], len(rows), rows.shape[1], cols.shape[1]).transpose(0, 1)

    def inputs(self, canvas: Tensor, ss: list[tuple[float, float]]) -> Tensor:
        """The model inputs (or targets) for a batch of shifts: ``(1, C, H, W) -> (B, C, h, w)``."""
        if self.mode == "fractional":
            ref = self.reference(canvas)
            return self.move(ref, ss) if ss else ref[:0]
        h, w = self.size
        dy = np.asarray([int(s[0]) for s in ss])[:, None]
        dx = np.asarray([int(s[1]) for s in ss])[:, None]
        oy, ox = self.origin
        if self.mode == "circular":
            rows, cols = (np.arange(h) - dy) % h, (np.arange(w) - dx) % w
        else:
            rows, cols = oy - dy + np.arange(h), ox - dx + np.arange(w)
        return self._gather(canvas, rows, cols)

    def move(self, ref: Tensor, ss: list[tuple[float, float]], scale: int = 1) -> Tensor:
        """A reference output (or features at stride ``scale``) moved by each ``s / scale``.

        Where the moved map has no content (outside ``masks(...)["compared"]``) the values are
        arbitrary.
        """
        if self.mode == "fractional":
            return torch.cat(
                [
                    fractional_shift(
                        ref,
                        s[0] / scale,
                        s[1] / scale,
                        method=self.cfg.fractional_method,
                        a=self.cfg.lanczos_a,
                    )[0]
                    for s in ss
                ]
            )
        h, w = ref.shape[-2:]
        dy = np.asarray([int(s[0]) // scale for s in ss])[:, None]
        dx = np.asarray([int(s[1]) // scale for s in ss])[:, None]
        rows, cols = np.arange(h) - dy, np.arange(w) - dx
        if self.mode == "circular":
            rows, cols = rows % h, cols % w
        else:
            rows, cols = np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)
        return self._gather(ref, rows, cols)


# ----------------------------------------------------------------------------------------------
# per-image sums


def _labels(out: Tensor) -> Tensor:
    return (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(1)


class _Accumulator:
    """Per-image float64 sums for every shift: field -> array ``(N, S, 2, ...)``.

    Axis 2 holds the regions ``(all, interior)``; the border band is their difference.
    Segmentation keeps confusion matrices (``eq_confusion``: the moved reference's labels vs
    the shifted input's; ``task_confusion``: the shifted input's labels vs the shifted
    target), regression ``[sse, n]`` pairs; ``layer`` holds ``[sse, reference energy, n]`` per
    level.
    """

    def __init__(self, n_images: int, n_shifts: int, kind: str, k: int, task: bool, levels):
        self.kind, self.k, self.task = kind, k, task
        shapes: dict[str, tuple[int, ...]] = {}
        if kind == "segmentation":
            shapes["eq_confusion"] = (k, k)
            if task:
                shapes["task_confusion"] = (k, k)
        else:
            shapes["eq_se"] = (2,)
            if task:
                shapes["task_se"] = (2,)
        if levels:
            shapes["layer"] = (len(levels), 3)
        self.sums = {
            key: np.zeros((n_images, n_shifts, 2, *shape), dtype=np.float64)
            for key, shape in shapes.items()
        }
        self.levels = levels


def _image_sums(
    model: _Model,
    canvas: Tensor,
    target: Tensor | None,
    shifts: list[tuple[float, float]],
    geo: _Geometry,
    acc: _Accumulator,
    index: int,
    cfg: Config,
) -> None:
    """Run the model on the reference and every shifted copy of one image; fill ``acc``.

    Memory is one batch of shifted copies plus the reference output (and features): it does
    not grow with the number of shifts.
    """
    device, dtype = cfg.device, getattr(torch, cfg.dtype)
    canvas = canvas.to(device=device, dtype=dtype)
    if target is not None:
        target = target.to(device)
        if acc.kind == "segmentation":
            target = (
                target[:, None]
                if cfg.mode != "fractional"
                # labels are shifted as one-hot maps and read back by argmax
                else (
                    torch.nn.functional.one_hot(target.long(), acc.k).permute(0, 3, 1, 2).to(dtype)
                )
            )
        else:
            target = target.to(dtype)
    captured: dict[str, Tensor] = {}
    handles = []
    for name, module, _stride in model.level_modules or []:

        def hook(_m, _inp, out, name=name):
            captured[name] = out[0] if isinstance(out, (tuple, list)) else out

        handles.append(module.register_forward_hook(hook))
    # The reference (shift 0) rides in the first batch; a requested zero shift reuses it.
    items: list[int | None] = [None] + [i for i, s in enumerate(shifts) if s != (0.0, 0.0)]
    zeros = [i for i, s in enumerate(shifts) if s == (0.0, 0.0)]
    ref: dict[str, Tensor] = {}
    try:
        for start in range(0, len(items), cfg.batch_size):
            chunk = items[start : start + cfg.batch_size]
            ss = [(0.0, 0.0) if i is None else shifts[i] for i in chunk]
            if cfg.mode == "fractional" and chunk[0] is None:
                inputs = torch.cat([geo.reference(canvas), geo.inputs(canvas, ss[1:])])
            else:
                inputs = geo.inputs(canvas, ss)
            captured.clear()
            out = model.net(inputs)
            feats = dict(captured)
            if not ref:
                ref["out"] = out[:1].clone()
                if acc.kind == "segmentation":
                    ref["labels"] = _seg_labels(ref["out"])[:, None]
                ref.update({f"feat:{k}": v[:1].clone() for k, v in feats.items()})
                rows = [0] * len(zeros) + list(range(1, len(chunk)))
                chunk = zeros + chunk[1:]
                if not chunk:
                    continue
                out = out[rows]
                feats = {k: v[rows] for k, v in feats.items()}
            with _serial(out.device):
                _batch_sums(out, feats, ref, chunk, shifts, target, geo, acc, index, cfg)
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def _serial(device: torch.device):
    """One CPU thread for the metric bookkeeping (a few memory-bound passes per batch).

    Measured on a 2-core machine shared with other jobs: each multi-threaded pass over a batch
    of 256x256 maps waited ~100 ms at OpenMP barriers, 3-10x its single-thread time; on an idle
    machine these passes cost a few ms either way. The model's forward keeps every thread.
    """
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _confusions(a: Tensor, b: Tensor, k: int, compared: Tensor, interior: Tensor) -> np.ndarray:
    """Per-image confusion matrices of two label maps in ``[0, k)``, for both regions at once.

    Returns ``(n, 2, k, k)`` float64: region 0 = ``compared``, region 1 = ``interior`` (a subset
    of it). One ``bincount`` over ``(image, a, b, region)`` codes, where the region code is 0
    (interior), 1 (compared, border band) or 2 (not compared); the same counts as
    :func:`antialias.metrics.confusion_sums` with each mask (tested).
    """
    n = a.shape[0]
    if n * k * k * 3 >= 2**31:
        raise _fail(f"expected fewer than {2**31 // (3 * k * k)} shifts per batch, got {n}")
    # int32 halves the memory traffic of these memory-bound passes
    a, b = a.to(torch.int32), b.to(torch.int32)
    region = 2 - compared[:, 0].to(torch.int32) - interior[:, 0].to(torch.int32)
    image = torch.arange(n, device=a.device, dtype=torch.int32).view(-1, 1, 1)
    code = ((image * k + a) * k + b) * 3 + region
    counts = torch.bincount(code.flatten(), minlength=n * k * k * 3).view(n, k, k, 3)
    counts = counts.to(torch.float64).cpu().numpy()
    both = counts[..., 0] + counts[..., 1]
    return np.stack([both, counts[..., 0]], axis=1)


def _seg_labels(out: Tensor) -> Tensor:
    # argmax over two channels is a comparison (ties -> 0, as argmax): cheaper than argmax
    if out.shape[1] == 2:
        return (out[:, 1] > out[:, 0]).to(torch.int32)
    return _labels(out).to(torch.int32)


def _batch_sums(out, feats, ref, chunk, shifts, target, geo, acc, index, cfg) -> None:
    ss = [shifts[i] for i in chunk]
    masks = geo.masks(ss, 1, out.device)
    regions = [masks["compared"], masks["interior"]]
    task_regions = [masks["task"], masks["task_interior"]]
    rows = np.asarray(chunk)
    sums = acc.sums
    tgt = None if target is None else geo.inputs(target, ss)
    if acc.kind == "segmentation":
        a = _seg_labels(out)
        if cfg.mode == "fractional":  # move the logits (band-limited), then take labels
            b = _seg_labels(geo.move(ref["out"], ss))
        else:  # integer shifts commute with argmax: move the labels, K times cheaper
            b = geo.move(ref["labels"], ss)[:, 0]
        sums["eq_confusion"][index, rows] = _confusions(b, a, acc.k, *regions)
        if tgt is not None:
            t = tgt[:, 0] if cfg.mode != "fractional" else tgt.argmax(1)
            # ground truth may hold labels outside [0, k) (an ignore label): count them nowhere
            known = ((t >= 0) & (t < acc.k))[:, None]
            sums["task_confusion"][index, rows] = _confusions(
                a, t.clamp(0, acc.k - 1), acc.k, task_regions[0] & known, task_regions[1] & known
            )
    else:
        moved = geo.move(ref["out"], ss)
        for r, m in enumerate(regions):
            sums["eq_se"][index, rows, r] = M.squared_error_sums(moved, out, m).cpu().numpy()
        if tgt is not None:
            for r, m in enumerate(task_regions):
                sums["task_se"][index, rows, r] = M.squared_error_sums(tgt, out, m).cpu().numpy()
    if acc.levels:
        _layer_sums(feats, ref, ss, rows, geo, acc, index)


def _layer_sums(feats, ref, ss, rows, geo, acc, index) -> None:
    """Equivariance error sums of each level, for the shifts that are multiples of its stride."""
    for j, (name, _module, stride) in enumerate(acc.levels):
        take = [b for b, s in enumerate(ss) if s[0] % stride == 0 and s[1] % stride == 0]
        if not take:
            continue
        f = feats[name][take]
        if tuple(f.shape[-2:]) != (geo.size[0] // stride, geo.size[1] // stride):
            continue  # a level whose resolution is not input / stride cannot be compared
        st = [ss[b] for b in take]
        moved = geo.move(ref[f"feat:{name}"], st, scale=stride)
        masks = geo.masks(st, stride, f.device)
        err = (f - moved).square()
        energy = moved.square()
        for r, key in enumerate(("compared", "interior")):
            m = masks[key].to(f.dtype)
            vals = torch.stack(
                [
                    (err * m).flatten(1).sum(1, dtype=torch.float64),
                    (energy * m).flatten(1).sum(1, dtype=torch.float64),
                    m.flatten(1).sum(1, dtype=torch.float64) * f.shape[1],
                ],
                dim=1,
            )
            acc.sums["layer"][index, rows[take], r, j] = vals.cpu().numpy()


# ----------------------------------------------------------------------------------------------
# reduction to the reported numbers


def _regions3(a: np.ndarray) -> np.ndarray:
    """Axis 2 ``(all, interior)`` -> ``(all, interior, border)``; border = all - interior."""
    return np.concatenate([a, a[:, :, :1] - a[:, :, 1:2]], axis=2)


def _metric_table(kind: str, data_range: float, task: bool) -> dict[str, tuple[str, Callable]]:
    if kind == "segmentation":
        table = dict(SEG_METRICS)
    else:
        table = {
            "psnr": ("eq_se", lambda s: M.psnr(s, data_range)),
            "mse": ("eq_se", M.mse),
            "task_psnr": ("task_se", lambda s: M.psnr(s, data_range)),
            "task_mse": ("task_se", M.mse),
        }
    return {k: v for k, v in table.items() if task or not k.startswith("task_")}


def _key(metric: str, region: str) -> str:
    return metric if region == "all" else f"{metric}_{region}"


def _f(v: Any) -> float:
    return float(v)


def _summarise(
    model: _Model,
    shifts: list[tuple[float, float]],
    acc: _Accumulator,
    info: dict[str, Any],
    cfg: Config,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    rid = info["id"]
    n_images = next(iter(acc.sums.values())).shape[0]
    counts = M.bootstrap_counts(n_images, cfg.n_boot, cfg.seed)
    table = _metric_table(acc.kind, info["data_range"], acc.task)
    full = {k: _regions3(v) for k, v in acc.sums.items() if k != "layer"}
    nonzero = [i for i, s in enumerate(shifts) if s != (0.0, 0.0)]
    records: list[dict[str, Any]] = [{"dy": _num(dy), "dx": _num(dx)} for dy, dx in shifts]
    summary: dict[str, Any] = {"n_shifts": len(nonzero)}
    worst: dict[str, Any] = {}
    period_map: dict[str, Any] | None = None if cfg.mode == "fractional" else {}
    arrays: dict[str, np.ndarray] = {f"{rid}__sums__{k}": v for k, v in acc.sums.items()}
    arrays[f"{rid}__shifts"] = np.asarray(shifts, dtype=np.float64).reshape(-1, 2)
    period = 2**model.levels
    residues = np.asarray([int(dy) % period * period + int(dx) % period for dy, dx in shifts])
    cells = np.bincount(residues, minlength=period * period)
    for metric, (key, fn) in table.items():
        per_image = full[key]  # (N, S, 3, ...)
        values = fn(per_image.sum(0))  # (S, 3)
        lo, hi = M.bootstrap_ci(per_image, fn, counts=counts)
        for i, rec in enumerate(records):
            for r, region in enumerate(REGIONS):
                name = _key(metric, region)
                rec[name] = _f(values[i, r])
                rec[name + "_lo"], rec[name + "_hi"] = _f(lo[i, r]), _f(hi[i, r])
        if nonzero:
            pooled = per_image[:, nonzero].sum(1)  # (N, 3, ...)
            pv = fn(pooled.sum(0))
            plo, phi = M.bootstrap_ci(pooled, fn, counts=counts)
            for r, region in enumerate(REGIONS):
                name = _key(metric, region)
                summary[name] = _f(pv[r])
                summary[name + "_lo"], summary[name + "_hi"] = _f(plo[r]), _f(phi[r])
            col = np.asarray(values[nonzero, 0], dtype=np.float64)
            if np.isfinite(col).any() or np.isinf(col).any():
                filled = np.where(
                    np.isnan(col), np.inf if metric not in LOWER_IS_BETTER else -1, col
                )
                j = int(np.argmax(filled) if metric in LOWER_IS_BETTER else np.argmin(filled))
                dy, dx = shifts[nonzero[j]]
                worst[metric] = {"value": _f(col[j]), "dy": _num(dy), "dx": _num(dx)}
        if period_map is not None:
            grid = np.zeros((period * period, *per_image.shape[2:]), dtype=np.float64)
            np.add.at(grid, residues, per_image.sum(0))
            gv = np.asarray(fn(grid), dtype=np.float64)  # (P*P, 3)
            gv[cells == 0] = np.nan
            gv = gv.reshape(period, period, len(REGIONS))
            for r, region in enumerate(REGIONS):
                name = _key(metric, region)
                arrays[f"{rid}__{name}"] = gv[..., r]
                period_map[name] = [
                    [None if np.isnan(v) else _f(v) for v in row] for row in gv[..., r]
                ]
    if acc.kind == "segmentation":
        n = full["eq_confusion"].sum(0).sum(axis=(-2, -1))  # (S, 3) compared pixels
    else:
        n = full["eq_se"].sum(0)[..., 1]  # (S, 3) compared elements (pixels x channels)
    for i, rec in enumerate(records):
        for r, region in enumerate(REGIONS):
            rec[_key("n_compared", region)] = _f(n[i, r])
    record = {
        **info,
        "metrics": list(table),
        "shifts": records,
        "summary": summary,
        "worst": worst,
        "period_map": period_map,
        "per_layer": None,
        "per_layer_summary": None,
    }
    if acc.levels:
        record["per_layer"], record["per_layer_summary"] = _layer_records(shifts, acc, nonzero)
    return record, arrays


def _rel(sums: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sums[..., 2] > 0, sums[..., 0] / sums[..., 1], np.nan)
    return np.sqrt(ratio)


def _layer_records(shifts, acc: _Accumulator, nonzero: list[int]):
    layer = _regions3(acc.sums["layer"]).sum(0)  # (S, 3, Lv, 3)
    rel = _rel(layer)  # (S, 3, Lv)
    records, summary = [], []
    for j, (name, _module, stride) in enumerate(acc.levels):
        ok = [
            i
            for i, s in enumerate(shifts)
            if s[0] % stride == 0 and s[1] % stride == 0 and layer[i, 0, j, 2] > 0
        ]
        for i in ok:
            rec = {
                "level": name,
                "stride": stride,
                "dy": _num(shifts[i][0]),
                "dx": _num(shifts[i][1]),
            }
            for r, region in enumerate(REGIONS):
                rec[_key("rel_error", region)] = _f(rel[i, r, j])
            records.append(rec)
        used = [i for i in ok if i in nonzero]
        pooled = layer[used].sum(0) if used else np.zeros((3, layer.shape[2], 3))
        prel = _rel(pooled)
        entry = {"level": name, "stride": stride, "n_shifts": len(used)}
        for r, region in enumerate(REGIONS):
            entry[_key("rel_error", region)] = _f(prel[r, j])
        summary.append(entry)
    return records, summary


# ----------------------------------------------------------------------------------------------
# run


def _check_config(config: Config | dict[str, Any]) -> Config:
    if isinstance(config, dict):
        valid = {f.name for f in Config.__dataclass_fields__.values()}
        unknown = sorted(set(config) - valid)
        if unknown:
            raise _fail(f"expected config keys among {sorted(valid)}, got unknown {unknown}")
        config = Config(**config)
    if not isinstance(config, Config):
        raise TypeError(f"expected a Config or dict, got {type(config).__name__}")
    c = config
    choices = {
        "mode": (c.mode, MODES),
        "dtype": (c.dtype, ("float32", "float64")),
        "normalize": (c.normalize, ("dtype", "percentile", "none")),
        "fractional_method": (c.fractional_method, ("lanczos", "fourier")),
    }
    for name, (value, valid) in choices.items():
        if value not in valid:
            raise _fail(f"expected {name} one of {list(valid)}, got {value!r}")
    if c.kind is not None and c.kind not in KINDS:
        raise _fail(f"expected kind one of {list(KINDS)}, got {c.kind!r}")
    positive = {"batch_size": c.batch_size, "n_boot": c.n_boot, "lanczos_a": c.lanczos_a}
    for name, value in positive.items():
        if not isinstance(value, int) or value < 1:
            raise _fail(f"expected {name} a positive int, got {value!r}")
    for name, value in (("max_images", c.max_images), ("image_size", c.image_size)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise _fail(f"expected {name} a positive int, got {value!r}")
    for name, value in (("border", c.border), ("max_shift", c.max_shift), ("levels", c.levels)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise _fail(f"expected {name} a non-negative int, got {value!r}")
    if c.data_range is not None and not (math.isfinite(c.data_range) and c.data_range > 0):
        raise _fail(f"expected a positive data_range, got {c.data_range!r}")
    if not (c.device == "cpu" or c.device.startswith("cuda")):
        raise _fail(f"expected device cpu or cuda, got {c.device!r}")
    if c.device.startswith("cuda") and not torch.cuda.is_available():
        raise _fail("expected --device cpu: CUDA is not available on this machine")
    if not isinstance(c.model_kwargs, dict):
        raise _fail(f"expected model_kwargs a dict, got {c.model_kwargs!r}")
    return c


def _dist_info() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size(), torch.distributed.get_rank()
    return 1, 0


def _all_reduce(acc: _Accumulator, cfg: Config) -> None:
    # Each image's row is filled by exactly one rank and is zero elsewhere, so the sum is exact.
    keys = sorted(acc.sums)
    flat = torch.from_numpy(np.concatenate([acc.sums[k].ravel() for k in keys]))
    if torch.distributed.get_backend() == "nccl":
        flat = flat.to(cfg.device)
    torch.distributed.all_reduce(flat)
    flat = flat.cpu().numpy()
    offset = 0
    for k in keys:
        size = acc.sums[k].size
        acc.sums[k] = flat[offset : offset + size].reshape(acc.sums[k].shape).copy()
        offset += size


def _probe(model: _Model, data: _Data, geo: _Geometry, cfg: Config) -> tuple[str, int]:
    """One forward pass: check channels and output shape; return (kind, number of classes)."""
    c = data.images[0].shape[1]
    for i, x in enumerate(data.images):
        if x.shape[1] != c:
            raise _fail(
                f"expected every image of {data.name} to have {c} channels, image {i} "
                f"has {x.shape[1]}"
            )
    if model.in_channels is not None and c != model.in_channels:
        raise _fail(
            f"model {model.name} expects {model.in_channels} input channels, the images "
            f"of {data.name} have {c}"
        )
    frame = geo.reference(data.images[0]).to(device=cfg.device, dtype=getattr(torch, cfg.dtype))
    try:
        with torch.inference_mode():
            y = model.net(frame)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _fail(
            f"model {model.name} failed on an input of shape {tuple(frame.shape)} "
            f"(channel mismatch?): {first}"
        ) from err
    if (
        not isinstance(y, Tensor)
        or y.ndim != 4
        or y.shape[0] != 1
        or y.shape[-2:] != frame.shape[-2:]
    ):
        shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
        raise _fail(
            f"expected model {model.name} to map {tuple(frame.shape)} to (1, K, "
            f"{frame.shape[-2]}, {frame.shape[-1]}), got {shape}"
        )
    k = int(y.shape[1])
    if cfg.kind is not None and data.kind is not None and cfg.kind != data.kind:
        raise _fail(f"expected --kind {data.kind} for data {data.name}, got {cfg.kind}")
    kind = data.kind or cfg.kind or ("regression" if k == 1 else "segmentation")
    if data.targets is not None:
        t = data.targets[0]
        if kind == "segmentation" and torch.is_floating_point(t):
            raise _fail(f"expected integer targets for segmentation, {data.name} has {t.dtype}")
        if kind == "regression" and (t.ndim != 4 or t.shape[1] != k):
            raise _fail(f"expected regression targets with {k} channels, got {tuple(t.shape)}")
    return kind, (max(k, 2) if kind == "segmentation" else k)


def run(
    config: Config | dict[str, Any],
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Analyse every model; no printing, no file writes.

    Args:
        config: a :class:`Config` or a dict of its fields.
        progress: optional callback ``(model name, images done, images of this rank)``.

    Returns:
        ``{"schema", "config", "results": [record per model], "arrays": {npz key: array}}``
        with the records described in the module docstring.
    """
    cfg = _check_config(config)
    world, rank = _dist_info()
    models = _load_models(cfg)
    cache: dict[str, _Data] = {}
    plans = []
    for ci, model in enumerate(models):  # validate every input before computing anything
        spec = cfg.data or model.meta.get("task")
        if not spec:
            raise _fail(f"model {model.name} has no task in its metadata: pass --data")
        data = _load_data(str(spec), cfg, cache)
        if not data.images:
            raise _fail(f"expected at least one image in {data.name}")
        default = "line" if cfg.mode == "crop" else "all"
        shifts = _parse_shifts(cfg.shifts or default, cfg, model.levels)
        period = 2**model.levels
        geos = [
            _Geometry(cfg, tuple(x.shape[-2:]), period, shifts, f"{data.name} image {i}")
            for i, x in enumerate(data.images)
        ]
        kind, k = _probe(model, data, geos[0], cfg)
        plans.append((ci, model, data, shifts, geos, kind, k))
    results, arrays = [], {}
    for ci, model, data, shifts, geos, kind, k in plans:
        n = len(data.images)
        acc = _Accumulator(n, len(shifts), kind, k, data.targets is not None, model.level_modules)
        mine = [i for i in range(n) if i % world == rank]
        with torch.inference_mode():
            for done, i in enumerate(mine, 1):
                target = None if data.targets is None else data.targets[i]
                _image_sums(model, data.images[i], target, shifts, geos[i], acc, i, cfg)
                if progress is not None:
                    progress(model.name, done, len(mine))
        if world > 1:
            _all_reduce(acc, cfg)
        meta = model.meta
        info = {
            "id": f"c{ci}",
            "name": model.name,
            "source": model.source,
            "task": meta.get("task"),
            "variant": meta.get("variant"),
            "seed": meta.get("seed"),
            "kind": kind,
            "levels": model.levels,
            "period": 2**model.levels,
            "mode": cfg.mode,
            "data": data.name,
            "n_images": n,
            "image_sizes": sorted({tuple(x.shape[-2:]) for x in data.images}),
            "frame_sizes": sorted({tuple(g.size) for g in geos}),
            "border": cfg.border,
            "data_range": cfg.data_range or data.data_range,
            "num_classes": k if kind == "segmentation" else None,
            "n_boot": cfg.n_boot,
        }
        info["image_sizes"] = [list(s) for s in info["image_sizes"]]
        info["frame_sizes"] = [list(s) for s in info["frame_sizes"]]
        record, arr = _summarise(model, shifts, acc, info, cfg)
        results.append(record)
        arrays.update(arr)
    config_out = asdict(cfg)
    if callable(cfg.model):
        config_out["model"] = getattr(cfg.model, "__qualname__", repr(cfg.model))
    return {"schema": SCHEMA, "config": config_out, "results": results, "arrays": arrays}


# ----------------------------------------------------------------------------------------------
# files and table

_ID_COLUMNS = ("id", "name", "source", "task", "variant", "seed", "mode")


def _csv_text(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buf.getvalue()


def result_files(result: dict[str, Any], provenance: dict[str, Any]) -> dict[str, bytes]:
    """The output files: suffix (``.json``, ``.csv``, ``_layers.csv``, ``.npz``) -> content."""
    doc = {
        "schema": result["schema"],
        "config": result["config"],
        "provenance": provenance,
        "results": result["results"],
    }
    files = {".json": (json.dumps(doc, indent=1, allow_nan=True) + "\n").encode()}
    rows, layer_rows = [], []
    for rec in result["results"]:
        ident = {k: rec.get(k) for k in _ID_COLUMNS}
        rows += [{**ident, **shift} for shift in rec["shifts"]]
        layer_rows += [{**ident, **layer} for layer in rec["per_layer"] or []]
    files[".csv"] = _csv_text(rows).encode()
    if layer_rows:
        files["_layers.csv"] = _csv_text(layer_rows).encode()
    buf = io.BytesIO()
    np.savez_compressed(buf, **result["arrays"])
    files[".npz"] = buf.getvalue()
    return files


def write_files(files: dict[str, bytes], out_dir: str | Path, name: str) -> list[Path]:
    """Write every file under a temporary name first, then rename them all into place."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[str, Path]] = []
    try:
        for suffix, content in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}{suffix}.", suffix=".tmp", dir=out)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            temps.append((suffix, Path(tmp)))
    except BaseException:
        for _, tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    paths = []
    for suffix, tmp in temps:
        final = out / f"{name}{suffix}"
        os.replace(tmp, final)
        paths.append(final)
    return paths


def _fmt(v: Any, width: int = 7) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "nan".rjust(width)
    if isinstance(v, float) and math.isinf(v):
        return ("inf" if v > 0 else "-inf").rjust(width)
    return f"{v:.4f}".rjust(width) if abs(v) < 100 else f"{v:.1f}".rjust(width)


def _label(rec: dict[str, Any]) -> str:
    return f"{rec['task']}/{rec['name']}" if rec.get("task") else rec["name"]


def format_table(result: dict[str, Any]) -> str:
    """A readable summary: one row per model, pooled over its non-zero shifts."""
    lines = []
    for kind, cols in (
        (
            "segmentation",
            ("agreement", "agreement_interior", "agreement_border", "iou", "task_dice"),
        ),
        ("regression", ("psnr", "psnr_interior", "psnr_border", "mse", "task_psnr")),
    ):
        recs = [r for r in result["results"] if r["kind"] == kind]
        if not recs:
            continue
        name_w = max(12, *(len(_label(r)) for r in recs))
        head = f"{'model':<{name_w}} {'mode':<10} {'shifts':>6} {'images':>6} " + " ".join(
            f"{c:>18}" for c in cols
        )
        lines += [f"{kind} (pooled over non-zero shifts; [95% CI] over images)", head]
        for r in recs:
            s = r["summary"]
            cells = []
            for c in cols:
                if c not in s:
                    cells.append(f"{'-':>18}")
                else:
                    cells.append(
                        f"{_fmt(s[c], 7)} [{_fmt(s[c + '_lo'], 4).strip()},"
                        f"{_fmt(s[c + '_hi'], 4).strip()}]".rjust(18)
                    )
            lines.append(
                f"{_label(r):<{name_w}} {r['mode']:<10} {s['n_shifts']:>6} "
                f"{r['n_images']:>6} " + " ".join(cells)
            )
        lines.append("")
    for r in result["results"]:
        if r["per_layer_summary"]:
            lines.append(
                f"{_label(r)}: relative RMS feature error per level (all / interior / "
                "border), pooled over shifts that are multiples of the stride"
            )
            for e in r["per_layer_summary"]:
                lines.append(
                    f"  {e['level']:<12} stride {e['stride']:>3}  shifts {e['n_shifts']:>4}"
                    f"  {_fmt(e['rel_error'])} {_fmt(e['rel_error_interior'])} "
                    f"{_fmt(e['rel_error_border'])}"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------------------------
# command line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2 (no usage block)
        self.exit(2, f"{PROG}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Shift consistency of U-Nets: every offset of the period.")
    p.add_argument(
        "checkpoints",
        nargs="*",
        metavar="CKPT",
        help=".safetensors checkpoints or TorchScript files",
    )
    p.add_argument("--model", help="user model factory pkg.module:factory")
    p.add_argument("--model-kwargs", default="{}", help="JSON keyword arguments of the factory")
    p.add_argument("--weights", help="safetensors or plain state-dict file for --model")
    p.add_argument("--data", help="nuclei|textures|denoise or a folder of PNG/TIFF/NPY images")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--mode", default="circular", choices=MODES)
    p.add_argument(
        "--shifts", help="all | line | random:N | DY:DX,DY:DX,... (default: all; line in crop mode)"
    )
    p.add_argument("--max-shift", type=int, default=16, help="S for line and random (pixels)")
    p.add_argument("--max-images", type=int, help="use only the first N images")
    p.add_argument("--image-size", type=int, help="centre-crop images to S x S first")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--out", default="results/shift_consistency", help="output folder")
    p.add_argument("--name", default="shift_consistency", help="output file stem")
    p.add_argument("--seed", type=int, default=0, help="seed of random shifts and bootstrap")
    p.add_argument("--border", type=int, default=16, help="border band width (pixels)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--per-layer", action="store_true", help="equivariance error per level")
    p.add_argument("--levels", type=int, help="factor-2 down-samplings of a non-antialias model")
    p.add_argument("--kind", choices=KINDS, help="for folders: segmentation or regression")
    p.add_argument("--data-range", type=float, help="PSNR data range (default: the data's, 1.0)")
    p.add_argument("--normalize", default="dtype", choices=("dtype", "percentile", "none"))
    p.add_argument("--fractional-method", default="lanczos", choices=("lanczos", "fourier"))
    p.add_argument("--lanczos-a", type=int, default=3, help="Lanczos half-width / masked band")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")
    return p


def _config_from_args(args: argparse.Namespace) -> Config:
    try:
        kwargs = json.loads(args.model_kwargs)
    except json.JSONDecodeError as err:
        raise _fail(
            f"expected --model-kwargs as a JSON object, got {args.model_kwargs!r}: {err}"
        ) from None
    return Config(
        checkpoints=list(args.checkpoints),
        model=args.model,
        model_kwargs=kwargs,
        weights=args.weights,
        data=args.data,
        split=args.split,
        mode=args.mode,
        shifts=args.shifts,
        max_shift=args.max_shift,
        max_images=args.max_images,
        image_size=args.image_size,
        batch_size=args.batch_size,
        device=args.device,
        dtype=args.dtype,
        seed=args.seed,
        border=args.border,
        n_boot=args.n_boot,
        per_layer=args.per_layer,
        levels=args.levels,
        kind=args.kind,
        data_range=args.data_range,
        normalize=args.normalize,
        fractional_method=args.fractional_method,
        lanczos_a=args.lanczos_a,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, already printed)
        return int(stop.code or 0)
    dist = torch.distributed
    started = False
    rank = 0
    try:
        cfg = _config_from_args(args)
        if args.threads is not None:
            if args.threads < 1:
                raise _fail(f"expected --threads >= 1, got {args.threads}")
            torch.set_num_threads(args.threads)
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
            cuda = cfg.device.startswith("cuda")
            if cuda:
                cfg.device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
                torch.cuda.set_device(cfg.device)
            dist.init_process_group("nccl" if cuda else "gloo")
            started = True
        rank = dist.get_rank() if dist.is_initialized() else 0
        bar = None
        progress = None
        if rank == 0 and not args.no_progress:
            from tqdm import tqdm

            def progress(name: str, done: int, total: int) -> None:
                nonlocal bar
                if bar is None or bar.desc != name:
                    if bar is not None:
                        bar.close()
                    bar = tqdm(total=total, desc=name, unit="img", leave=False, file=sys.stderr)
                bar.update(1)

        result = run(cfg, progress=progress)
        if bar is not None:
            bar.close()
        if rank == 0:
            from antialias.provenance import provenance

            paths = write_files(result_files(result, provenance()), args.out, args.name)
            if not args.quiet:
                sys.stdout.write(format_table(result))
                sys.stdout.write("wrote " + ", ".join(str(p) for p in paths) + "\n")
    except (ValueError, TypeError, OSError, ImportError) as err:
        if rank == 0:
            text = str(err).strip().splitlines()
            sys.stderr.write(f"{PROG}: error: {text[0] if text else type(err).__name__}\n")
        return 2
    finally:
        if started and dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
