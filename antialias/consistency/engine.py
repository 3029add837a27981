"""The analysis: :func:`plan` (load and check everything), :func:`execute` (compute), :func:`run`.

:func:`plan` loads the models and images, builds the shifts and frames, and runs one forward
pass per model (the probe) to learn the output kind, the number of classes, the levels of a
third-party model and the memory of one shifted copy; everything a run could refuse is refused
there, before any analysis starts. :func:`execute` fills the sums and summarises them. Neither
prints nor writes files.

What does not live here: the command line (:mod:`~antialias.consistency.cli`) and the files
(:mod:`~antialias.consistency.output`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from antialias.consistency import parallel
from antialias.consistency.config import (
    AXIS_NAMES,
    NEW_OPTIONS,
    SCHEMA,
    Config,
    check_config,
    fail,
)
from antialias.consistency.geometry import Geometry, parse_shifts
from antialias.consistency.inputs import Data, Model, data_spatial_dims, load_data, load_models
from antialias.consistency.summary import summarise
from antialias.consistency.sums import Accumulator, image_sums, sums_bytes

__all__ = ["Job", "Plan", "execute", "memory_budget", "plan", "run"]


@dataclass
class Job:
    """One model's part of a run: its data, shifts, frames, and what the probe found."""

    index: int
    model: Model
    data: Data
    shifts: list[tuple[float, float]]
    geos: list[Geometry]
    kind: str
    k: int
    batch_size: int
    copy_bytes: int | None  # estimated memory of one shifted copy (None: not measurable)
    mine: list[int]  # the images this rank computes
    spatial_dims: int = 2
    periods: tuple[int, ...] = ()

    @property
    def passes_per_image(self) -> int:
        """Forward passes per image: the reference rides in the first batch."""
        copies = 1 + sum(1 for s in self.shifts if any(s))
        return math.ceil(copies / self.batch_size)


@dataclass
class Plan:
    """Everything :func:`execute` needs, checked; ``notes`` are facts a user should see."""

    cfg: Config
    jobs: list[Job]
    world: int = 1
    rank: int = 0
    notes: list[str] = field(default_factory=list)


def memory_budget(device: str) -> int:
    """Bytes a run may plan for: half a GPU's memory, a quarter of the machine's RAM on CPU.

    A fixed share of the *total* (not of what is free now) keeps the batch size, and so the
    result, the same from run to run and from rank to rank.
    """
    if device.startswith("cuda"):
        return torch.cuda.get_device_properties(torch.device(device)).total_memory // 2
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 4 * 2**30


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def _level_candidates(net: nn.Module, names: list[str] | None) -> list[tuple[str, nn.Module]]:
    """Modules whose outputs may be levels: named ones, or the children of the first module
    (from the root down) that has more than one child."""
    modules = dict(net.named_modules())
    if names is not None:
        unknown = [n for n in names if n not in modules or n == ""]
        if unknown:
            some = ", ".join(n for n in list(modules)[1:9])
            fail(f"expected --layers among the model's modules ({some}, ...), got {unknown}")
        return [(n, modules[n]) for n in names]
    prefix, node = "", net
    while len(list(node.children())) == 1:
        name, node = next(iter(node.named_children()))
        prefix = f"{prefix}{name}."
    return [(prefix + n, m) for n, m in node.named_children()]


def _stride(shape: tuple[int, ...], frame: tuple[int, ...]) -> int | tuple[int, ...] | None:
    """The stride if an output ``(N, C, *spatial)`` is the frame at a power-of-two stride per
    axis (an ``int`` when the same on every axis), else ``None``."""
    nd = len(frame)
    if len(shape) != nd + 2 or min(shape[2:]) < 1:
        return None
    strides = []
    for n, m in zip(frame, shape[2:]):
        r = n // m
        if r < 1 or r & (r - 1) or m * r != n:
            return None
        strides.append(r)
    return strides[0] if len(set(strides)) == 1 else tuple(strides)


def _max_stride(r: int | tuple[int, ...]) -> int:
    return r if isinstance(r, int) else max(r)


def _top_period(levels: int | tuple[int, ...]) -> int:
    return 2 ** (levels if isinstance(levels, int) else max(levels))


def _probe_forward(model: Model, frame: Tensor, cfg: Config):
    """One forward pass with hooks: the output, level outputs and bytes of every leaf output."""
    watch = []
    if cfg.per_layer and model.level_modules is None:
        watch = _level_candidates(model.net, cfg.layers)
    shapes: dict[str, tuple[int, ...]] = {}
    leaf_bytes = [0]
    handles = []
    scripted = isinstance(model.net, torch.jit.ScriptModule)

    def measure(_m, _i, out):
        if isinstance(out, Tensor):
            leaf_bytes[0] += out.numel() * out.element_size()

    def record(name):
        def hook(_m, _i, out):
            out = out[0] if isinstance(out, (tuple, list)) and out else out
            if isinstance(out, Tensor):
                shapes[name] = tuple(out.shape)

        return hook

    if not scripted:
        for m in model.net.modules():
            if not list(m.children()):
                handles.append(m.register_forward_hook(measure))
        handles += [m.register_forward_hook(record(n)) for n, m in watch]
    try:
        with torch.inference_mode():
            y = model.net(frame)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        fail(
            f"model {model.name} failed on an input of shape {tuple(frame.shape)} "
            f"(channel mismatch?): {first}"
        )
    finally:
        for h in handles:
            h.remove()
    if watch:
        model.level_modules = _levels_from_probe(model, watch, shapes, frame, cfg)
    return y, (None if scripted else leaf_bytes[0])


def _levels_from_probe(model, watch, shapes, frame, cfg) -> list[tuple[str, nn.Module, int]]:
    size = tuple(frame.shape[2:])
    found = []
    for name, module in watch:
        r = _stride(shapes[name], size) if name in shapes else None
        if r is not None and _max_stride(r) <= _top_period(model.levels):
            found.append((name, module, r))
        elif cfg.layers is not None:
            got = shapes.get(name, "no tensor output")
            fail(
                f"expected --layers module {name!r} to output the frame {size} at a stride 2**l "
                f"(l <= {model.levels}), got {got}"
            )
    if not found:
        fail(
            f"found no levels in model {model.name} for --per-layer (children of its module "
            "graph at strides 2**l): name them with --layers name,name"
        )
    return found


def _probe(model: Model, data: Data, geo: Geometry, cfg: Config, rank_image: int | None):
    """One forward pass: check channels and output; return (kind, classes, bytes per copy)."""
    c = data.shapes[0][0]
    for i, shape in enumerate(data.shapes):
        if shape[0] != c:
            fail(
                f"expected every image of {data.name} to have {c} channels, image {i} has "
                f"{shape[0]}"
            )
    if model.in_channels is not None and c != model.in_channels:
        fail(
            f"model {model.name} expects {model.in_channels} input channels, the images "
            f"of {data.name} have {c}"
        )
    dtype = getattr(torch, cfg.dtype)
    if rank_image is None:  # this rank computes no image: probe on zeros of the right shape
        canvas = torch.zeros(1, *data.shapes[0])
    else:
        canvas = data.images[rank_image]
    frame = geo.reference(canvas).to(device=cfg.device, dtype=dtype)
    y, leaf_bytes = _probe_forward(model, frame, cfg)
    if (
        not isinstance(y, Tensor)
        or y.ndim != frame.ndim
        or y.shape[0] != 1
        or y.shape[2:] != frame.shape[2:]
    ):
        shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
        want = ", ".join(str(n) for n in frame.shape[2:])
        fail(
            f"expected model {model.name} to map {tuple(frame.shape)} to (1, K, {want}), "
            f"got {shape}"
        )
    if not bool(torch.isfinite(y).all()):
        fail(f"model {model.name} gave non-finite outputs on {data.name}: refusing to score them")
    k = int(y.shape[1])
    if cfg.kind is not None and data.kind is not None and cfg.kind != data.kind:
        fail(f"expected --kind {data.kind} for data {data.name}, got {cfg.kind}")
    kind = data.kind or cfg.kind or ("regression" if k == 1 else "segmentation")
    own = [t for t in data.targets or [] if t is not None]
    if own:
        t = own[0]
        if kind == "segmentation" and torch.is_floating_point(t):
            fail(f"expected integer targets for segmentation, {data.name} has {t.dtype}")
        if kind == "regression" and (t.ndim != 4 or t.shape[1] != k):
            fail(f"expected regression targets with {k} channels, got {tuple(t.shape)}")
    copy = None
    if leaf_bytes is not None:
        pixels = math.prod(frame.shape[2:])
        # leaf outputs bound the activations (they are freed as the forward goes); plus the
        # input, the moved reference, masks and label codes of the bookkeeping
        copy = leaf_bytes + (frame.numel() + 3 * y.numel()) * frame.element_size() + 24 * pixels
    return kind, (max(k, 2) if kind == "segmentation" else k), copy


def _batch_size(cfg: Config, copy: int | None, model: Model, geo: Geometry, notes) -> int:
    if copy is None:
        return cfg.batch_size
    budget = memory_budget(cfg.device)
    fit = max(1, min(cfg.batch_size, budget // max(copy, 1)))
    hw = "x".join(str(n) for n in geo.size)
    if fit < cfg.batch_size:
        notes.append(
            f"batch size {cfg.batch_size} -> {fit} for model {model.name}: about {_gib(copy)} "
            f"per shifted copy of a {hw} frame (estimate), memory budget {_gib(budget)}"
        )
    if copy > budget:
        notes.append(
            f"model {model.name} may need {_gib(copy)} for one {hw} copy, more than the "
            f"budget {_gib(budget)}: lower --image-size if it runs out of memory"
        )
    return fit


def _job(ci: int, model: Model, cfg: Config, cache, world: int, rank: int, notes) -> Job:
    spec = cfg.data or model.meta.get("task")
    if not spec:
        fail(f"model {model.name} has no task in its metadata: pass --data")
    origin = "" if cfg.data else f"the metadata of {model.source}"
    if origin and not isinstance(spec, str):  # name the problem, not the whole value
        fail(f"{origin} has a task of type {type(spec).__name__}, not a task name: pass --data")
    nd = _spatial_dims(model, cfg, str(spec))
    data = load_data(str(spec), cfg, cache, world, rank, task=origin, spatial_dims=nd)
    if not data.shapes:
        fail(f"expected at least one image in {data.name}")
    if model.levels is None:
        model.levels = infer_levels(model, data, cfg, notes)
    levels = model.levels
    if not isinstance(levels, int) and len(levels) != nd:
        fail(f"expected --levels with one number or {nd} (one per spatial axis), got {levels}")
    periods = (2**levels,) * nd if isinstance(levels, int) else tuple(2**v for v in levels)
    for i, shape in enumerate(data.shapes):  # before building the period's shifts
        if any(n < p for n, p in zip(shape[1:], periods)):
            unit = "px" if nd == 2 else "voxels"
            fail(
                f"expected images of at least the period {'x'.join(map(str, periods))} {unit}, "
                f"got {'x'.join(map(str, shape[1:]))} ({data.name} image {i})"
            )
    default = "line" if cfg.mode == "crop" else "all"
    shifts = parse_shifts(cfg.shifts or default, cfg, periods, _axes(cfg, nd))
    if shifts.info["sampling"] == "sample":
        notes.append(
            f"model {model.name}: --shifts all is {shifts.info['period_offsets']} offsets of the "
            f"period, over --shift-budget {shifts.info['budget']}: measured a seeded sample of "
            f"{len(shifts)} of them"
        )
    geos = [
        Geometry(cfg, shape[1:], periods, shifts, f"{data.name} image {i}")
        for i, shape in enumerate(data.shapes)
    ]
    mine = [i for i in range(len(data.shapes)) if i % world == rank]
    kind, k, copy = _probe(model, data, geos[0], cfg, mine[0] if mine else None)
    levels = len(model.level_modules or [])
    need = sums_bytes(len(data.shapes), len(shifts), kind, k, data.targets is not None, levels)
    budget = memory_budget("cpu")  # the sums live in host memory
    if need > budget:
        fail(
            f"the per-image sums of model {model.name} would take {_gib(need)} "
            f"({len(data.shapes)} images x {len(shifts)} shifts), more than the memory budget "
            f"{_gib(budget)}: use fewer shifts (random:N) or --max-images"
        )
    batch = _batch_size(cfg, copy, model, geos[0], notes)
    return Job(ci, model, data, shifts, geos, kind, k, batch, copy, mine, nd, periods)


def infer_levels(model: Model, data: Data, cfg: Config, notes: list[str]) -> int | tuple[int, ...]:
    """Factor-2 down-samplings of a model that does not declare them, from its module graph.

    One forward pass on zeros of the first image's shape (each axis cropped to a power of two,
    at most 128 px / 64 voxels) with a hook on every module: ``L`` per axis is ``log2`` of the
    largest power-of-two stride (input size / output size) of any module's output. Said in a
    note; ``--levels`` overrides it.
    """
    shape = data.shapes[0]
    cap = 128 if len(shape) == 3 else 64
    sizes = [min(cap, 2 ** int(math.log2(n))) for n in shape[1:]]
    frame = torch.zeros(1, shape[0], *sizes, dtype=getattr(torch, cfg.dtype), device=cfg.device)
    best = [1] * len(sizes)

    def hook(_m, _i, out):
        out = out[0] if isinstance(out, (tuple, list)) and out else out
        if not isinstance(out, Tensor) or out.ndim != frame.ndim:
            return
        for a, (n, m) in enumerate(zip(sizes, out.shape[2:])):
            r = n // m if m else 0
            if m and r * m == n and r & (r - 1) == 0:
                best[a] = max(best[a], r)

    handles = [m.register_forward_hook(hook) for m in model.net.modules()]
    try:
        with torch.inference_mode():
            model.net(frame)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        fail(
            f"cannot tell the period of model {model.name}: it failed on zeros of shape "
            f"{tuple(frame.shape)} ({first}); pass --levels L (its factor-2 down-samplings)"
        )
    finally:
        for h in handles:
            h.remove()
    levels = [int(math.log2(r)) for r in best]
    if max(levels) < 1:
        fail(
            f"cannot tell the period of model {model.name}: no module output is down-sampled; "
            "pass --levels L (its number of factor-2 down-samplings; the period is 2**L)"
        )
    found = levels[0] if len(set(levels)) == 1 else tuple(levels)
    shown = str(found) if isinstance(found, int) else ",".join(map(str, levels))
    notes.append(
        f"model {model.name}: --levels {shown} found from its module graph "
        f"(largest stride of a module's output on {'x'.join(map(str, sizes))} zeros); pass "
        "--levels to override"
    )
    return found


def _spatial_dims(model: Model, cfg: Config, spec: str) -> int:
    """2 or 3: ``--spatial-dims``, else the model's convolutions, else the data."""
    asked, own = cfg.spatial_dims, model.spatial_dims
    if asked is not None and own is not None and asked != own:
        fail(
            f"mismatched spatial_dims: --spatial-dims {asked}, but model {model.name} has "
            f"{own}-D convolutions"
        )
    nd = asked or own or data_spatial_dims(spec)
    if nd not in (2, 3):
        fail(f"expected a 2-D or 3-D model, model {model.name} has {nd}-D convolutions")
    for name in ("image_size", "levels"):
        value = getattr(cfg, name)
        if isinstance(value, (list, tuple)) and len(value) != nd:
            fail(
                f"mismatched spatial_dims: --{name.replace('_', '-')} has {len(value)} numbers, "
                f"the model/data are {nd}-D"
            )
    return nd


def _axes(cfg: Config, nd: int) -> tuple[int, ...] | None:
    """The shifted axes (indices of the spatial axes) of ``--axes``; ``None``: all."""
    if cfg.axes is None:
        return None
    names = AXIS_NAMES[nd]
    unknown = [a for a in cfg.axes if a not in names]
    if unknown:
        fail(f"expected --axes among {list(names)} for {nd}-D data, got {cfg.axes}")
    return tuple(sorted(names.index(a) for a in cfg.axes))


def plan(config: Config | dict[str, Any]) -> Plan:
    """Load and check every model and image; no analysis, no printing, no files."""
    cfg = check_config(config)
    world, rank = parallel.dist_info()
    models = load_models(cfg)
    cache: dict[str, Data] = {}
    notes: list[str] = []
    jobs = [_job(ci, m, cfg, cache, world, rank, notes) for ci, m in enumerate(models)]
    return Plan(cfg, jobs, world, rank, notes)


def _info(job: Job, cfg: Config) -> dict[str, Any]:
    meta, model, data = job.model.meta, job.model, job.data
    return {
        "id": f"c{job.index}",
        "name": model.name,
        "source": model.source,
        "task": meta.get("task"),
        "variant": meta.get("variant"),
        "seed": meta.get("seed"),
        "kind": job.kind,
        "levels": model.levels if isinstance(model.levels, int) else list(model.levels),
        "period": 2**model.levels
        if isinstance(model.levels, int)
        else [2**v for v in model.levels],
        "spatial_dims": job.spatial_dims,
        "shift_set": job.shifts.info,
        "mode": cfg.mode,
        "data": data.name,
        "n_images": len(data.shapes),
        "image_sizes": [list(s) for s in sorted({tuple(s[1:]) for s in data.shapes})],
        "frame_sizes": [list(s) for s in sorted({tuple(g.size) for g in job.geos})],
        "border": cfg.border,
        "data_range": cfg.data_range or data.data_range,
        "num_classes": job.k if job.kind == "segmentation" else None,
        "n_boot": cfg.n_boot,
    }


def execute(
    the_plan: Plan, progress: Callable[[str, int, int], None] | None = None
) -> dict[str, Any]:
    """Compute a checked plan; no printing, no file writes.

    Args:
        the_plan: from :func:`plan`.
        progress: optional callback ``(model name, images done, images of this rank)``.

    Returns:
        ``{"schema", "config", "results": [record per model], "arrays": {npz key: array}}``.
    """
    cfg = the_plan.cfg
    results, arrays = [], {}
    for job in the_plan.jobs:
        model, data = job.model, job.data
        n = len(data.shapes)
        acc = Accumulator(
            n, len(job.shifts), job.kind, job.k, data.targets is not None, model.level_modules
        )
        with torch.inference_mode():
            for done, i in enumerate(job.mine, 1):
                target = None if data.targets is None else data.targets[i]
                image_sums(
                    model,
                    data.images[i],
                    target,
                    job.shifts,
                    job.geos[i],
                    acc,
                    i,
                    cfg,
                    job.batch_size,
                    where=f"{data.name} image {i}",
                )
                if progress is not None:
                    progress(model.name, done, len(job.mine))
        if the_plan.world > 1:
            parallel.gather_sums(acc.sums, cfg.device)
        record, arr = summarise(model.levels, job.shifts, acc, _info(job, cfg), cfg)
        results.append(record)
        arrays.update(arr)
    config_out = asdict(cfg)
    if config_out["layers"] is None:  # the option is newer than the schema: only when used
        del config_out["layers"]
    for name, default in NEW_OPTIONS.items():  # likewise: 2-D results keep their config
        if config_out[name] == default:
            del config_out[name]
    if callable(cfg.model):
        config_out["model"] = getattr(cfg.model, "__qualname__", repr(cfg.model))
    return {"schema": SCHEMA, "config": config_out, "results": results, "arrays": arrays}


def run(
    config: Config | dict[str, Any],
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Analyse every model (:func:`plan`, then :func:`execute`); no printing, no file writes.

    Args:
        config: a :class:`~antialias.consistency.config.Config` or a dict of its fields.
        progress: optional callback ``(model name, images done, images of this rank)``.

    Returns:
        ``{"schema", "config", "results": [record per model], "arrays": {npz key: array}}``
        with the records described in the package docstring.
    """
    return execute(plan(config), progress)
