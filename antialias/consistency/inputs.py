"""Models and images in: checkpoints, factories, TorchScript, task splits, image folders.

- models: ``.safetensors`` checkpoints (:func:`antialias.checkpoint.load_checkpoint`), a factory
  ``pkg.module:fn`` (+ ``--weights``, read without unpickling) or a TorchScript archive. A
  factory and a TorchScript archive *run their code* by design: analyse only code you trust.
  Weights must be finite.
- images: a task split (:func:`antialias.data.load_split`) or a folder (or one file) of
  PNG/TIFF/NPY images. Images must be real, finite, 2-D or ``(C, H, W)``; grey+alpha and palette
  PNGs are read as their channels, 1-bit images as 0/1. Under ``torchrun`` a rank reads only the
  folder images it computes (``index % world == rank``); the others stay ``None`` and only their
  shapes are known (gathered from the ranks that read them).

What does not live here: which shifts are measured (:mod:`~antialias.consistency.geometry`) and
the checks that need a forward pass (:mod:`~antialias.consistency.engine`).
"""

from __future__ import annotations

import importlib
import itertools
import os
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from antialias._cli import UsageError
from antialias.consistency.config import Config, fail

__all__ = ["IMAGE_SUFFIXES", "Data", "Model", "load_data", "load_models", "read_image"]

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".tif", ".tiff", ".npy")


@dataclass
class Model:
    """A loaded model: ``levels`` factor-2 down-samplings (period ``2**levels``)."""

    name: str
    source: str
    net: nn.Module
    meta: dict[str, Any]
    levels: int
    level_modules: list[tuple[str, nn.Module, int]] | None
    in_channels: int | None


@dataclass
class Data:
    """Images of one data spec; ``images[i]`` is ``None`` where another rank reads image ``i``.

    ``shapes[i]`` is ``(C, H, W)`` of image ``i`` for every image.
    """

    name: str
    images: list[Tensor | None]  # each (1, C, H, W), float32 CPU
    targets: list[Tensor | None] | None  # each (1, H, W) int64 or (1, C, H, W) float32
    kind: str | None
    data_range: float
    shapes: list[tuple[int, int, int]]


# ----------------------------------------------------------------------------------------------
# models


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any("/code/" in n or n.endswith("constants.pkl") for n in names)


def _import_factory(spec: str) -> Callable[..., nn.Module]:
    if spec.count(":") != 1 or not all(spec.split(":")):
        fail(f"expected --model as pkg.module:factory, got {spec!r}")
    module_name, attr = spec.split(":")
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:  # `python analysis/...` puts analysis/ first; users expect their cwd importable
        sys.path.append(cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # any import-time failure of user code is a user error here
        fail(f"cannot import module {module_name!r} for --model {spec!r}: {err}")
    finally:
        if added:
            sys.path.remove(cwd)
    factory = getattr(module, attr, None)
    if not callable(factory):
        fail(f"module {module_name!r} has no callable {attr!r} (from --model {spec!r})")
    return factory


def _levels_of(net: nn.Module, override: int | None, name: str) -> int:
    declared = getattr(net, "num_downsamplings", None)
    if isinstance(declared, bool) or not isinstance(declared, int):
        declared = None
    if override is not None and declared is not None and override != declared:
        fail(
            f"expected --levels {declared} for model {name!r} (its num_downsamplings), "
            f"got {override}"
        )
    if override is not None:
        return override
    if declared is not None:
        if declared < 1:
            fail(f"expected model {name!r} to have at least one down-sampling, got {declared}")
        return declared
    fail(
        f"cannot tell the period of model {name!r}: pass --levels L (its number of factor-2 "
        "down-samplings; the period is 2**L)"
    )


def _check_finite_weights(net: nn.Module, name: str) -> None:
    for key, t in itertools.chain(net.named_parameters(), net.named_buffers()):
        if not (t.is_floating_point() or t.is_complex()):
            continue
        bad = int((~torch.isfinite(t.detach())).sum())
        if bad:
            fail(f"model {name!r} has non-finite weights: {bad} of {t.numel()} values of {key!r}")


def _finish_model(
    net: nn.Module, name: str, source: str, meta: dict[str, Any], cfg: Config
) -> Model:
    _check_finite_weights(net, name)
    net = net.to(device=cfg.device, dtype=getattr(torch, cfg.dtype)).eval()
    levels = _levels_of(net, cfg.levels, name)
    level_modules = None
    get = getattr(net, "levels", None)
    if cfg.per_layer and cfg.layers is None and callable(get):
        if not isinstance(net, torch.jit.ScriptModule):
            level_modules = list(get())
    if cfg.per_layer and isinstance(net, torch.jit.ScriptModule):
        fail(f"--per-layer needs a Python model (hooks), got the TorchScript file {name!r}")
    config = getattr(net, "config", None)
    in_channels = config.get("in_channels") if isinstance(config, dict) else None
    return Model(name, source, net, meta, levels, level_modules, in_channels)


def _factory_model(cfg: Config) -> Model:
    from antialias.checkpoint import check_state_dict, load_state_dict_safely

    if callable(cfg.model):  # library use: run(Config(model=factory, ...))
        factory, spec = cfg.model, getattr(cfg.model, "__name__", "model")
    else:
        factory, spec = _import_factory(str(cfg.model)), str(cfg.model)
    try:
        net = factory(**cfg.model_kwargs)
    except Exception as err:
        fail(f"--model {spec}: the factory failed: {err}")
    if not isinstance(net, nn.Module):
        fail(f"expected --model {spec} to return an nn.Module, got {type(net)}")
    if cfg.weights is not None:
        state = load_state_dict_safely(cfg.weights)
        check_state_dict(net, state, cfg.weights)
        net.load_state_dict(state, strict=True)
    source = spec if cfg.weights is None else f"{spec} + {cfg.weights}"
    name = spec.split(":")[-1] if cfg.weights is None else Path(cfg.weights).stem
    return _finish_model(net, name, source, {}, cfg)


def load_models(cfg: Config) -> list[Model]:
    """Every model of ``cfg`` (the factory first, then the checkpoints in order)."""
    from antialias.checkpoint import load_checkpoint

    models = []
    if cfg.model is not None:
        models.append(_factory_model(cfg))
    elif cfg.weights is not None:
        fail("expected --weights together with --model pkg.module:factory")
    for item in cfg.checkpoints:
        path = Path(item)
        if not path.is_file():
            fail(f"checkpoint {item!r} does not exist")
        if path.suffix == ".safetensors":
            net, meta = load_checkpoint(path)
        elif _is_torchscript(path):
            try:
                net = torch.jit.load(str(path), map_location="cpu")
            except Exception as err:
                fail(f"{item}: not a loadable TorchScript file: {err}")
            meta = {}
        else:
            fail(
                f"expected a .safetensors checkpoint or a TorchScript file, got {item!r} (for a "
                "plain state dict use --model pkg.module:factory --weights FILE)"
            )
        models.append(_finish_model(net, path.stem, str(item), dict(meta), cfg))
    if not models:
        fail("expected at least one CKPT or --model pkg.module:factory")
    return models


# ----------------------------------------------------------------------------------------------
# images


def _read_array(path: Path) -> tuple[np.ndarray, bool]:
    """The file's array and whether it is channels-last (PIL always is)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False), False
        if suffix in (".tif", ".tiff"):
            import tifffile

            return tifffile.imread(path), False
        from PIL import Image

        with Image.open(path) as img:
            if img.mode == "P":  # palette indices are not intensities: read the colours
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            return np.asarray(img), True
    except Exception as err:
        fail(f"cannot read image {str(path)!r}: {err}")


def read_image(path: Path, normalize: str) -> Tensor:
    """One image as a float32 ``(1, C, H, W)`` tensor, normalised as ``normalize`` says.

    2-D images get one channel; channels-last colour (``H, W, 2..4``: grey+alpha, RGB, RGBA) is
    moved first. Integers are scaled by their dtype's maximum (``dtype``), by their 1st/99.8th
    percentiles (``percentile``) or not at all (``none``); 1-bit images are 0/1.
    """
    where = str(path)
    arr, channels_last = _read_array(path)
    if np.iscomplexobj(arr):
        fail(f"expected a real image in {where!r}, got dtype {arr.dtype} (complex)")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        fail(f"expected a numeric image in {where!r}, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[-1] in (2, 3, 4):
        if channels_last or arr.shape[0] not in (1, 2, 3, 4):
            arr = np.moveaxis(arr, -1, 0)  # HWC -> CHW
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or min(arr.shape) < 1:
        fail(f"expected a 2-D or (C, H, W) image in {where!r}, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        out = arr.astype(np.float64)  # 1-bit: already 0/1, whatever normalize says
    elif normalize == "percentile":
        from antialias.data import normalize_percentile

        out = normalize_percentile(arr)
    elif normalize == "dtype" and np.issubdtype(arr.dtype, np.integer):
        out = arr.astype(np.float64) / np.iinfo(arr.dtype).max
    else:
        out = arr.astype(np.float64)
    tensor = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))[None]
    bad = int((~torch.isfinite(tensor)).sum())
    if bad:  # NaN would pass as perfect: argmax of NaN is 0 everywhere
        fail(f"expected finite pixels in {where!r}, got {bad} non-finite of {tensor.numel()}")
    return tensor


def _folder_files(path: Path) -> list[Path]:
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        fail(f"expected PNG/TIFF/NPY images in {str(path)!r}, found none")
    return files


def _center_crop(x: Tensor, size: int, where: str) -> Tensor:
    h, w = x.shape[-2:]
    if h < size or w < size:
        fail(f"expected images of at least --image-size {size} px in {where}, got {h}x{w}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size].contiguous()


def _gather(
    local: dict[int, tuple[int, int, int]], error: str | None, n: int, world: int
) -> list[tuple[int, int, int]]:
    """Every image's shape, from the ranks that read them; every rank's error, raised here.

    A bad image is found only by the rank that reads it: exchanging the errors with the shapes
    makes every rank stop at the same point with one line each, instead of the others waiting
    for a peer that has already exited.
    """
    if world > 1:
        parts: list[Any] = [None] * world
        torch.distributed.all_gather_object(parts, (local, error))
        if error is None:
            failed = [(r, e) for r, (_, e) in enumerate(parts) if e is not None]
            if failed:
                fail(f"stopped: rank {failed[0][0]} failed: {failed[0][1]}")
        local = {k: v for part, _ in parts for k, v in part.items()}
    if error is not None:
        fail(error)
    return [local[i] for i in range(n)]


def _read_own(
    files: list[Path], cfg: Config, name: str, world: int, rank: int
) -> list[Tensor | None]:
    images: list[Tensor | None] = []
    for i, p in enumerate(files):
        x = read_image(p, cfg.normalize) if i % world == rank else None
        if x is not None and cfg.image_size is not None:
            x = _center_crop(x, cfg.image_size, f"{name} image {i} ({p.name})")
        images.append(x)
    return images


def load_data(
    spec: str, cfg: Config, cache: dict[str, Data], world: int = 1, rank: int = 0, task: str = ""
) -> Data:
    """The images (and targets) of a task name or a folder.

    Args:
        spec: a task of :data:`antialias.data.TASKS` or a folder / file of images.
        cfg: the options (``split``, ``max_images``, ``image_size``, ``normalize``).
        cache: spec -> data already loaded.
        world, rank: the process group; a rank reads only its own folder images.
        task: where ``spec`` came from when not from ``--data`` (a checkpoint's metadata).
    """
    from antialias.data import TASKS, load_split

    if spec in cache:
        return cache[spec]
    if spec in TASKS:
        split = load_split(spec, cfg.split)
        n = len(split) if cfg.max_images is None else min(len(split), cfg.max_images)
        name = f"{spec}:{cfg.split}"
        images: list[Tensor | None] = [split.images[i : i + 1] for i in range(n)]
        targets: list[Tensor] | None = [split.targets[i : i + 1] for i in range(n)]
        for i, x in enumerate(images):
            if not bool(torch.isfinite(x).all()):
                fail(f"expected finite pixels in {name} image {i}")
        if cfg.image_size is not None:
            images = [_center_crop(x, cfg.image_size, name) for x in images]
            targets = [_center_crop(t, cfg.image_size, name) for t in targets]
        shapes = [tuple(x.shape[1:]) for x in images]
        if world > 1:  # the split comes in one file; keep only this rank's images
            images = [x if i % world == rank else None for i, x in enumerate(images)]
            targets = [t if i % world == rank else None for i, t in enumerate(targets)]
        data = Data(name, images, targets, split.kind, float(split.data_range), shapes)
    else:
        path = Path(spec)
        if not path.exists():
            if task:
                shown = spec if len(spec) <= 60 else spec[:57] + "..."
                fail(f"{task} names the task {shown!r}, not one of {sorted(TASKS)}: pass --data")
            fail(f"expected --data to be one of {sorted(TASKS)} or a folder, got {spec!r}")
        files = _folder_files(path)[: cfg.max_images]
        error = None
        try:
            images = _read_own(files, cfg, str(path), world, rank)
        except UsageError as err:  # shared with the other ranks before raising
            if world == 1:
                raise
            images, error = [], str(err)
        local = {i: tuple(x.shape[1:]) for i, x in enumerate(images) if x is not None}
        shapes = _gather(local, error, len(files), world)
        data = Data(str(path), images, None, None, 1.0, shapes)
    cache[spec] = data
    return data
