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

__all__ = [
    "IMAGE_SUFFIXES",
    "Data",
    "Model",
    "data_spatial_dims",
    "load_data",
    "load_models",
    "model_spatial_dims",
    "read_image",
]

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".tif", ".tiff", ".npy", ".nii", ".nii.gz")
_NIFTI = (".nii", ".nii.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def model_spatial_dims(net: nn.Module) -> int | None:
    """2 or 3 if every convolution of ``net`` is 2-D or 3-D (TorchScript included), else ``None``.

    >>> model_spatial_dims(nn.Sequential(nn.Conv3d(1, 2, 3), nn.ReLU()))
    3
    """
    import re

    dims = set()
    for m in net.modules():
        kind = getattr(m, "original_name", None) or type(m).__name__
        match = re.fullmatch(r"(?:Lazy)?Conv(?:Transpose)?([123])d", kind)
        if match:
            dims.add(int(match.group(1)))
    return dims.pop() if len(dims) == 1 else None


@dataclass
class Model:
    """A loaded model: ``levels`` factor-2 down-samplings (period ``2**levels``)."""

    name: str
    source: str
    net: nn.Module
    meta: dict[str, Any]
    # one per spatial axis when anisotropic (``--levels 1,2,2``); None until inferred
    levels: int | tuple[int, ...] | None
    level_modules: list[tuple[str, nn.Module, int]] | None
    in_channels: int | None
    spatial_dims: int | None = None  # from its convolutions; None: not known


@dataclass
class Data:
    """Images of one data spec; ``images[i]`` is ``None`` where another rank reads image ``i``.

    ``shapes[i]`` is ``(C, H, W)`` (volumes: ``(C, D, H, W)``) of image ``i`` for every image.
    """

    name: str
    images: list[Tensor | None]  # each (1, C, *spatial), float32 CPU
    targets: list[Tensor | None] | None  # each (1, H, W) int64 or (1, C, H, W) float32
    kind: str | None
    data_range: float
    shapes: list[tuple[int, ...]]


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


def _levels_of(net: nn.Module, override, name: str) -> int | tuple[int, ...] | None:
    declared = getattr(net, "num_downsamplings", None)
    if isinstance(declared, bool) or not isinstance(declared, int):
        declared = None
    if isinstance(override, (list, tuple)):
        if len(set(override)) == 1:
            override = override[0]
        else:  # anisotropic: a model's one number cannot say it; trust the user's per axis
            return tuple(int(v) for v in override)
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
    if isinstance(net, torch.jit.ScriptModule):  # no hooks: the module graph cannot say
        fail(
            f"cannot tell the period of model {name!r}: pass --levels L (its number of "
            "factor-2 down-samplings; the period is 2**L)"
        )
    return None  # found from the strides of its modules' outputs (engine.infer_levels)


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
    dims = model_spatial_dims(net)
    return Model(name, source, net, meta, levels, level_modules, in_channels, dims)


def build_factory_model(
    model: str | Callable[..., nn.Module],
    model_kwargs: dict[str, Any] | None = None,
    weights: str | Path | None = None,
) -> tuple[nn.Module, str, str]:
    """A user's model from ``pkg.module:factory`` (or a callable) plus optional ``weights``.

    The factory *runs its module's code* by design; the weights are read without unpickling
    (safetensors, or ``torch.load(weights_only=True)``) and must match the model's keys and
    shapes. Used by the shift-consistency and learned-kernel commands.

    Returns:
        ``(net, name, source)``: the model, a short name and where it came from.

    Raises:
        UsageError: the factory cannot be imported or fails, or the weights do not fit.
    """
    from antialias.checkpoint import check_state_dict, load_state_dict_safely

    if callable(model):  # library use: run(Config(model=factory, ...))
        factory, spec = model, getattr(model, "__name__", "model")
    else:
        factory, spec = _import_factory(str(model)), str(model)
    try:
        net = factory(**(model_kwargs or {}))
    except Exception as err:
        fail(f"--model {spec}: the factory failed: {err}")
    if not isinstance(net, nn.Module):
        fail(f"expected --model {spec} to return an nn.Module, got {type(net)}")
    if weights is not None:
        state = load_state_dict_safely(weights)
        check_state_dict(net, state, weights)
        net.load_state_dict(state, strict=True)
    source = spec if weights is None else f"{spec} + {weights}"
    name = spec.split(":")[-1] if weights is None else Path(weights).stem
    return net, name, source


def load_torchscript(path: str | Path) -> nn.Module:
    """A TorchScript archive (``torch.jit.save``); it *runs its own code* by design.

    Raises:
        UsageError: ``path`` is not a loadable TorchScript file.
    """
    path = Path(path)
    if not path.is_file() or not _is_torchscript(path):
        fail(f"expected a TorchScript file, got {str(path)!r}")
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as err:
        fail(f"{path}: not a loadable TorchScript file: {err}")


def _factory_model(cfg: Config) -> Model:
    net, name, source = build_factory_model(cfg.model, cfg.model_kwargs, cfg.weights)
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
            net, meta = load_torchscript(path), {}
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
    suffix = _suffix(path)
    try:
        if suffix in _NIFTI:
            import nibabel

            # the stored values with the header's scaling applied (never a pickle: plain arrays)
            return np.asanyarray(nibabel.load(str(path)).dataobj), False
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


def _volume_array(path: Path, arr: np.ndarray, spatial_dims: int) -> np.ndarray:
    """``(C, D, H, W)`` of a volume file, or a one-line refusal of what is not a volume."""
    where, nifti = str(path), _suffix(path) in _NIFTI
    if spatial_dims == 2:
        if nifti or arr.ndim == 4:
            fail(
                f"expected 2-D images for a 2-D model (spatial_dims 2), got a volume of shape "
                f"{arr.shape} in {where!r}: pass a 3-D model (or --spatial-dims 3)"
            )
        return arr
    if nifti:
        if arr.ndim == 4 and arr.shape[-1] == 1:  # (X, Y, Z, 1): one time point / channel
            arr = arr[..., 0]
        if arr.ndim != 3 or min(arr.shape) < 2:
            fail(
                f"expected a NIfTI volume (X, Y, Z) or (X, Y, Z, 1) in {where!r}, got shape "
                f"{arr.shape}: not a volume"
            )
        return arr[None]
    if _suffix(path) == ".png" or arr.ndim == 2:
        fail(
            f"expected volumes (D, H, W) or (C, D, H, W) for a 3-D model (spatial_dims 3), got "
            f"a 2-D image of shape {arr.shape} in {where!r}"
        )
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or min(arr.shape) < 1:
        fail(f"expected a (D, H, W) or (C, D, H, W) volume in {where!r}, got shape {arr.shape}")
    return arr


def read_image(path: Path, normalize: str, spatial_dims: int = 2) -> Tensor:
    """One image as a float32 ``(1, C, H, W)`` tensor (volumes: ``(1, C, D, H, W)``).

    2-D images get one channel; channels-last colour (``H, W, 2..4``: grey+alpha, RGB, RGBA) is
    moved first. Volumes (``spatial_dims=3``): TIFF/NPY ``(D, H, W)`` or ``(C, D, H, W)``,
    NIfTI ``(X, Y, Z)`` or ``(X, Y, Z, 1)`` (axes kept in file order, as MONAI's loaders).
    Integers are scaled by their dtype's maximum (``dtype``), by their 1st/99.8th percentiles
    (``percentile``) or not at all (``none``); 1-bit images are 0/1.
    """
    where = str(path)
    arr, channels_last = _read_array(path)
    if np.iscomplexobj(arr):
        fail(f"expected a real image in {where!r}, got dtype {arr.dtype} (complex)")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        fail(f"expected a numeric image in {where!r}, got dtype {arr.dtype}")
    arr = _volume_array(path, arr, spatial_dims)
    if spatial_dims == 3:
        pass
    elif arr.ndim == 3 and arr.shape[-1] in (2, 3, 4):
        if channels_last or arr.shape[0] not in (1, 2, 3, 4):
            arr = np.moveaxis(arr, -1, 0)  # HWC -> CHW
    if arr.ndim == 2:
        arr = arr[None]
    if spatial_dims == 2 and (arr.ndim != 3 or min(arr.shape) < 1):
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
        unit = "voxels" if spatial_dims == 3 else "pixels"
        fail(f"expected finite {unit} in {where!r}, got {bad} non-finite of {tensor.numel()}")
    return tensor


def _folder_files(path: Path) -> list[Path]:
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.iterdir() if _suffix(p) in IMAGE_SUFFIXES)
    if not files:
        fail(f"expected PNG/TIFF/NPY/NIfTI images in {str(path)!r}, found none")
    return files


def data_spatial_dims(spec: str) -> int:
    """3 if a data folder (or file) holds volumes (NIfTI, or a 4-D first array), else 2."""
    path = Path(spec)
    if not path.exists():
        return 2
    files = _folder_files(path)
    if any(_suffix(p) in _NIFTI for p in files):
        return 3
    arr, _ = _read_array(files[0])
    return 3 if arr.ndim == 4 else 2


def _center_crop(x: Tensor, size, where: str, nd: int = 2) -> Tensor:
    """The centre ``size`` (one number, or one per axis) of the last ``nd`` axes of ``x``."""
    sizes = [size] * nd if isinstance(size, int) else list(size)
    if len(sizes) != nd:
        fail(f"expected --image-size with 1 or {nd} numbers for {where}, got {size}")
    have = tuple(x.shape[x.ndim - nd :])
    if any(h < s for h, s in zip(have, sizes)):
        shown = "x".join(map(str, have))
        fail(f"expected images of at least --image-size {size} px in {where}, got {shown}")
    index = tuple(slice((h - s) // 2, (h - s) // 2 + s) for h, s in zip(have, sizes))
    return x[(..., *index)].contiguous()


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
    files: list[Path], cfg: Config, name: str, world: int, rank: int, nd: int = 2
) -> list[Tensor | None]:
    images: list[Tensor | None] = []
    for i, p in enumerate(files):
        x = read_image(p, cfg.normalize, nd) if i % world == rank else None
        if x is not None and cfg.image_size is not None:
            x = _center_crop(x, cfg.image_size, f"{name} image {i} ({p.name})", nd)
        images.append(x)
    return images


def load_data(
    spec: str,
    cfg: Config,
    cache: dict[str, Data],
    world: int = 1,
    rank: int = 0,
    task: str = "",
    spatial_dims: int = 2,
) -> Data:
    """The images (and targets) of a task name or a folder.

    Args:
        spec: a task of :data:`antialias.data.TASKS` or a folder / file of images.
        cfg: the options (``split``, ``max_images``, ``image_size``, ``normalize``).
        cache: spec -> data already loaded.
        world, rank: the process group; a rank reads only its own folder images.
        task: where ``spec`` came from when not from ``--data`` (a checkpoint's metadata).
        spatial_dims: 2 (images) or 3 (volumes: the model's).
    """
    from antialias.data import TASKS, load_split

    key = spec if spatial_dims == 2 else f"{spec}\0{spatial_dims}"
    if key in cache:
        return cache[key]
    if spec in TASKS and spatial_dims != 2:
        fail(f"expected volumes for a {spatial_dims}-D model, the task {spec!r} has 2-D images")
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
            images = _read_own(files, cfg, str(path), world, rank, spatial_dims)
        except UsageError as err:  # shared with the other ranks before raising
            if world == 1:
                raise
            images, error = [], str(err)
        local = {i: tuple(x.shape[1:]) for i, x in enumerate(images) if x is not None}
        shapes = _gather(local, error, len(files), world)
        data = Data(str(path), images, None, None, 1.0, shapes)
    cache[key] = data
    return data
