"""Running the models on shifted copies and accumulating per-image float64 sums.

Every number the analysis reports is a ratio of sums (:mod:`antialias.metrics`), so one image's
contribution is a handful of float64 sums per shift and region: confusion matrices for
segmentation, ``[sse, n]`` for regression, ``[sse, reference energy, n]`` per level for the
feature maps. :func:`image_sums` fills them for one image, one batch of shifted copies at a time.

What does not live here: the shift operators (:mod:`~antialias.consistency.geometry`) and the
reduction to reported values (:mod:`~antialias.consistency.summary`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from antialias import metrics as M
from antialias.consistency.config import fail
from antialias.consistency.geometry import Geometry
from antialias.consistency.inputs import Model

__all__ = [
    "Accumulator",
    "confusions",
    "divides",
    "image_sums",
    "seg_labels",
    "strides_of",
    "sums_bytes",
]


def _field_shapes(kind: str, k: int, task: bool, n_levels: int) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    if kind == "segmentation":
        shapes["eq_confusion"] = (k, k)
        if task:
            shapes["task_confusion"] = (k, k)
    else:
        shapes["eq_se"] = (2,)
        if task:
            shapes["task_se"] = (2,)
    if n_levels:
        shapes["layer"] = (n_levels, 3)
    return shapes


def sums_bytes(n_images: int, n_shifts: int, kind: str, k: int, task: bool, n_levels: int) -> int:
    """Bytes an :class:`Accumulator` of these dimensions allocates (to check before it does)."""
    shapes = _field_shapes(kind, k, task, n_levels)
    return sum(8 * n_images * n_shifts * 2 * int(np.prod(s)) for s in shapes.values())


class Accumulator:
    """Per-image float64 sums for every shift: field -> array ``(N, S, 2, ...)``.

    Axis 2 holds the regions ``(all, interior)``; the border band is their difference.
    Segmentation keeps confusion matrices (``eq_confusion``: the moved reference's labels vs
    the shifted input's; ``task_confusion``: the shifted input's labels vs the shifted
    target), regression ``[sse, n]`` pairs; ``layer`` holds ``[sse, reference energy, n]`` per
    level.
    """

    def __init__(
        self,
        n_images: int,
        n_shifts: int,
        kind: str,
        k: int,
        task: bool,
        levels: list[tuple[str, torch.nn.Module, int]] | None,
    ) -> None:
        self.kind, self.k, self.task = kind, k, task
        shapes = _field_shapes(kind, k, task, len(levels or []))
        self.sums = {
            key: np.zeros((n_images, n_shifts, 2, *shape), dtype=np.float64)
            for key, shape in shapes.items()
        }
        self.levels = levels


def _labels(out: Tensor) -> Tensor:
    return (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(1)


def seg_labels(out: Tensor) -> Tensor:
    """Labels of logits ``(B, K, *spatial)``: argmax over channels, a single channel at 0."""
    # argmax over two channels is a comparison (ties -> 0, as argmax): cheaper than argmax
    if out.shape[1] == 2:
        return (out[:, 1] > out[:, 0]).to(torch.int32)
    return _labels(out).to(torch.int32)


def _check_finite_output(out: Tensor, model: Model, where: str) -> None:
    if not bool(torch.isfinite(out).all()):
        bad = int((~torch.isfinite(out)).sum())
        fail(
            f"model {model.name} gave {bad} non-finite outputs of {out.numel()} on {where}: "
            "refusing to score them (NaN labels would agree everywhere)"
        )


def _prepare_target(target: Tensor | None, acc: Accumulator, cfg, dtype) -> Tensor | None:
    if target is None:
        return None
    target = target.to(cfg.device)
    if acc.kind != "segmentation":
        return target.to(dtype)
    if cfg.mode != "fractional":
        return target[:, None]
    # labels are shifted as one-hot maps and read back by argmax
    onehot = torch.nn.functional.one_hot(target.long(), acc.k)
    return onehot.movedim(-1, 1).to(dtype)


def image_sums(
    model: Model,
    canvas: Tensor,
    target: Tensor | None,
    shifts: list[tuple[float, ...]],
    geo: Geometry,
    acc: Accumulator,
    index: int,
    cfg,
    batch_size: int,
    where: str = "",
) -> None:
    """Run the model on the reference and every shifted copy of one image; fill ``acc``.

    Memory is one batch of shifted copies plus the reference output (and features): it does
    not grow with the number of shifts.
    """
    dtype = getattr(torch, cfg.dtype)
    canvas = canvas.to(device=cfg.device, dtype=dtype)
    target = _prepare_target(target, acc, cfg, dtype)
    captured: dict[str, Tensor] = {}
    handles = []
    for name, module, _stride in model.level_modules or []:

        def hook(_m, _inp, out, name=name):
            captured[name] = out[0] if isinstance(out, (tuple, list)) else out

        handles.append(module.register_forward_hook(hook))
    # The reference (shift 0) rides in the first batch; a requested zero shift reuses it.
    items: list[int | None] = [None] + [i for i, s in enumerate(shifts) if any(s)]
    zeros = [i for i, s in enumerate(shifts) if not any(s)]
    ref: dict[str, Tensor] = {}
    try:
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            ss = [(0.0,) * geo.nd if i is None else shifts[i] for i in chunk]
            if cfg.mode == "fractional" and chunk[0] is None:
                inputs = torch.cat([geo.reference(canvas), geo.inputs(canvas, ss[1:])])
            else:
                inputs = geo.inputs(canvas, ss)
            captured.clear()
            out = model.net(inputs)
            _check_finite_output(out, model, where or f"image {index}")
            feats = dict(captured)
            if not ref:
                ref["out"] = out[:1].clone()
                if acc.kind == "segmentation":
                    ref["labels"] = seg_labels(ref["out"])[:, None]
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
def _serial(device: torch.device) -> Iterator[None]:
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


def confusions(a: Tensor, b: Tensor, k: int, compared: Tensor, interior: Tensor) -> np.ndarray:
    """Per-image confusion matrices of two label maps in ``[0, k)``, for both regions at once.

    Returns ``(n, 2, k, k)`` float64: region 0 = ``compared``, region 1 = ``interior`` (a subset
    of it). One ``bincount`` over ``(image, a, b, region)`` codes, where the region code is 0
    (interior), 1 (compared, border band) or 2 (not compared); the same counts as
    :func:`antialias.metrics.confusion_sums` with each mask (tested).
    """
    n = a.shape[0]
    if n * k * k * 3 >= 2**31:
        fail(f"expected fewer than {2**31 // (3 * k * k)} shifts per batch, got {n}")
    # int32 halves the memory traffic of these memory-bound passes
    a, b = a.to(torch.int32), b.to(torch.int32)
    region = 2 - compared[:, 0].to(torch.int32) - interior[:, 0].to(torch.int32)
    image = torch.arange(n, device=a.device, dtype=torch.int32).view(-1, *([1] * (a.ndim - 1)))
    code = ((image * k + a) * k + b) * 3 + region
    counts = torch.bincount(code.flatten(), minlength=n * k * k * 3).view(n, k, k, 3)
    counts = counts.to(torch.float64).cpu().numpy()
    both = counts[..., 0] + counts[..., 1]
    return np.stack([both, counts[..., 0]], axis=1)


def _batch_sums(out, feats, ref, chunk, shifts, target, geo, acc, index, cfg) -> None:
    ss = [shifts[i] for i in chunk]
    masks = geo.masks(ss, 1, out.device)
    regions = [masks["compared"], masks["interior"]]
    task_regions = [masks["task"], masks["task_interior"]]
    rows = np.asarray(chunk)
    sums = acc.sums
    tgt = None if target is None else geo.inputs(target, ss)
    if acc.kind == "segmentation":
        a = seg_labels(out)
        if cfg.mode == "fractional":  # move the logits (band-limited), then take labels
            b = seg_labels(geo.move(ref["out"], ss))
        else:  # integer shifts commute with argmax: move the labels, K times cheaper
            b = geo.move(ref["labels"], ss)[:, 0]
        sums["eq_confusion"][index, rows] = confusions(b, a, acc.k, *regions)
        if tgt is not None:
            t = tgt[:, 0] if cfg.mode != "fractional" else tgt.argmax(1)
            # ground truth may hold labels outside [0, k) (an ignore label): count them nowhere
            known = ((t >= 0) & (t < acc.k))[:, None]
            sums["task_confusion"][index, rows] = confusions(
                a, t.clamp(0, acc.k - 1), acc.k, task_regions[0] & known, task_regions[1] & known
            )
    else:
        moved = geo.move(ref["out"], ss)
        for r, m in enumerate(regions):
            sums["eq_se"][index, rows, r] = _se(moved, out, m)
        if tgt is not None:
            for r, m in enumerate(task_regions):
                sums["task_se"][index, rows, r] = _se(tgt, out, m)
    if acc.levels:
        _layer_sums(feats, ref, ss, rows, geo, acc, index)


def strides_of(stride: int | tuple[int, ...], nd: int) -> tuple[int, ...]:
    """A level's stride per spatial axis (an ``int`` is the same on every axis)."""
    return (stride,) * nd if isinstance(stride, int) else tuple(stride)


def divides(s: tuple[float, ...], strides: tuple[int, ...]) -> bool:
    """Whether shift ``s`` is a multiple of ``strides`` on every axis."""
    return all(v % r == 0 for v, r in zip(s, strides))


def _se(a: Tensor, b: Tensor, mask: Tensor) -> np.ndarray:
    """:func:`antialias.metrics.squared_error_sums` of maps with any number of spatial axes
    (volumes are folded to ``(N, C, D * H, W)``: the same elements, the same sums)."""
    if a.ndim != 4:
        a, b = a.flatten(2, -2), b.flatten(2, -2)
        mask = mask.flatten(2, -2)
    return M.squared_error_sums(a, b, mask).cpu().numpy()


def _layer_sums(feats, ref, ss, rows, geo, acc, index) -> None:
    """Equivariance error sums of each level, for the shifts that are multiples of its stride."""
    for j, (name, _module, stride) in enumerate(acc.levels):
        strides = strides_of(stride, geo.nd)
        take = [b for b, s in enumerate(ss) if divides(s, strides)]
        if not take or name not in feats:
            continue
        f = feats[name][take]
        if tuple(f.shape[2:]) != tuple(n // r for n, r in zip(geo.size, strides)):
            continue  # a level whose resolution is not input / stride cannot be compared
        st = [ss[b] for b in take]
        moved = geo.move(ref[f"feat:{name}"], st, scale=strides)
        masks = geo.masks(st, strides, f.device)
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
