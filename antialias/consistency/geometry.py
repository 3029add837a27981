"""Which shifts are measured, and where: shift sets, the period, frames, crops and masks.

Images have ``nd`` spatial axes (2: ``(H, W)``; 3: volumes ``(D, H, W)``) and a shift is a tuple
of ``nd`` numbers (content moves by ``+s``; 2-D: ``(dy, dx)``, 3-D: ``(dz, dy, dx)``).
:func:`parse_shifts` turns ``--shifts`` into such tuples along the shifted axes (``--axes``; the
others stay 0), refusing sets larger than :data:`~antialias.consistency.config.LIMITS` before
building them, and sampling the period when its whole is over ``--shift-budget`` (said in the
result). :class:`Geometry` holds, per image, the frame the model sees and the shift operators in
and out of the model, batched.

What does not live here: running the models and the sums (:mod:`~antialias.consistency.sums`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from torch import Tensor

from antialias.consistency.config import LIMITS, VOLUME_SHIFT_BUDGET, Config, fail
from antialias.consistency.ndshift import fractional_shift_nd
from antialias.shifts import fractional_shift

__all__ = ["AXIS_KEYS", "Geometry", "ShiftSet", "num", "parse_shifts", "shift_count"]

#: Record keys of a shift's components, per number of spatial axes (2-D keeps ``dy, dx``).
AXIS_KEYS: dict[int, tuple[str, ...]] = {1: ("dx",), 2: ("dy", "dx"), 3: ("dz", "dy", "dx")}


def _help(nd: int) -> str:
    one = ":".join(k.upper() for k in AXIS_KEYS[nd])
    return f"expected --shifts all, line, random:N or a list {one},{one},..."


class ShiftSet(list):
    """The shifts of a run (a list of ``nd``-tuples) and how they were chosen (:attr:`info`)."""

    info: dict


def shift_count(spec: str, mode: str, max_shift: int, periods, axes=None) -> int:
    """How many shifts ``spec`` asks for (without building them); 0 for a list.

    ``periods``: the period per spatial axis (an ``int`` levels ``L`` means ``(2**L, 2**L)``);
    ``axes``: the shifted axes (default all).
    """
    if isinstance(periods, int):
        periods = (2**periods, 2**periods)
    axes = tuple(range(len(periods))) if axes is None else tuple(axes)
    if spec == "all":
        return 4 ** len(axes) if mode == "fractional" else math.prod(periods[a] for a in axes)
    if spec == "line":
        return max_shift + 1
    if spec.startswith("random:"):
        count = spec.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            fail(f"expected --shifts random:N with N >= 1, got {spec!r}")
        return int(count)
    return 0


def _full(nd: int, axes: tuple[int, ...], values) -> tuple[float, ...]:
    out = [0.0] * nd
    for a, v in zip(axes, values):
        out[a] = float(v)
    return tuple(out)


def parse_shifts(
    spec: str, cfg: Config, periods: tuple[int, ...], axes: tuple[int, ...] | None = None
) -> ShiftSet:
    """The shifts of ``--shifts`` for a model of period ``periods`` (per spatial axis).

    ``all`` is every offset of the period along ``axes`` (row-major) when there are at most
    ``cfg.shift_budget`` of them; otherwise a seeded sample of that many distinct offsets
    (the zero shift included), stated in :attr:`ShiftSet.info`.
    """
    nd = len(periods)
    axes = tuple(range(nd)) if axes is None else tuple(axes)
    frac = cfg.mode == "fractional"
    s = cfg.max_shift
    count = shift_count(spec, cfg.mode, s, periods, axes)
    budget = cfg.shift_budget
    if budget is None:  # 2-D: every offset up to the limit, as always; volumes: a budget
        budget = LIMITS["shifts"] if nd == 2 else VOLUME_SHIFT_BUDGET
    # 2-D without a budget keeps its refusal above the limit (no silent sampling)
    sampled = spec == "all" and count > budget and (cfg.shift_budget is not None or nd != 2)
    if (count > LIMITS["shifts"] and not sampled) or len(spec) > 16 * LIMITS["shifts"]:
        asked = f"{count} shifts" if count else "a longer list"
        shown = "x".join(str(p) for p in periods)
        fail(
            f"expected at most {LIMITS['shifts']} shifts per model, --shifts {spec[:40]!r} "
            f"asks for {asked} (period {shown}): ask for fewer (random:N, line, a list)"
        )
    info = {
        "spec": spec,
        "budget": budget,
        "axes": [AXIS_KEYS[nd][a][1:] for a in axes],
        "sampling": "asked",
    }
    out: list[tuple[float, ...]]
    if spec == "all":
        if frac:
            grid = itertools.product(*[[i / 4 for i in range(4)] for _ in axes])
            out = [_full(nd, axes, g) for g in grid]
        else:
            sizes = [periods[a] for a in axes]
            if sampled:
                rng = np.random.default_rng(cfg.seed)
                # distinct non-zero offsets (numpy draws few of many without an arange)
                flat = np.sort(rng.choice(count - 1, size=budget - 1, replace=False) + 1)
                flat = np.concatenate([[0], flat])
                grid = zip(*np.unravel_index(flat, sizes))
            else:
                grid = itertools.product(*[range(p) for p in sizes])
            out = [_full(nd, axes, g) for g in grid]
        info["sampling"] = "sample" if sampled else "full period"
        info["period_offsets"] = count
    elif spec == "line":
        out = [_full(nd, axes[-1:], [d]) for d in range(s + 1)]
    elif spec.startswith("random:"):
        rng = np.random.default_rng(cfg.seed)
        if frac:
            draws = rng.uniform(-s, s, size=(count, len(axes)))
        else:
            draws = rng.integers(-s, s + 1, size=(count, len(axes))).astype(np.float64)
        out = [_full(nd, axes, row) for row in draws]
    else:
        out = [_full(nd, axes, v) for v in _parse_list(spec, cfg, nd, len(axes))]
    result = ShiftSet(out)
    info["n_shifts"] = len(out)
    result.info = info
    return result


def _parse_list(spec: str, cfg: Config, nd: int, n_axes: int) -> list[tuple[float, ...]]:
    frac = cfg.mode == "fractional"
    out = []
    for part in spec.split(","):
        pieces = part.strip().split(":")
        try:
            values = tuple(float(p) for p in pieces)
        except ValueError:
            fail(f"{_help(nd)}; got {spec[:80]!r}")
        if len(values) != n_axes:
            fail(f"{_help(nd)} (one number per shifted axis, {n_axes}); got {part!r}")
        if not all(math.isfinite(v) for v in values):
            fail(f"expected finite shifts, got {part!r}")
        if not frac and any(v != round(v) for v in values):
            fail(f"expected integer shifts in {cfg.mode} mode, got {part!r}")
        if max(abs(v) for v in values) > LIMITS["max_shift"]:
            fail(f"expected shifts of at most {LIMITS['max_shift']} px, got {part!r}")
        out.append(values)
    return out


def num(v: float) -> int | float:
    """A shift component as written to results: ``int`` when integral."""
    return int(v) if float(v).is_integer() else float(v)


def _size(shape) -> str:
    return "x".join(str(int(v)) for v in shape)


class Geometry:
    """Per image: the frame the model sees, and the shift operators in and out of the model.

    For a batch of shifts everything is built along each axis in numpy: a circular or crop shift
    of the input is ``canvas[i0[b, i], i1[b, j], ...]``, and every mask used here is separable,
    ``m0[b, i] & m1[b, j] & ...``. The masks are those of the operators of
    :mod:`antialias.shifts` (a test checks them against the operators); building them per batch
    keeps the work and memory of a batch independent of the number of shifts. Fractional shifts
    run :func:`~antialias.shifts.fractional_shift` (2-D) or the separable N-D Lanczos / Fourier
    shift of :mod:`antialias.consistency.ndshift` per shift.

    Volumes (3-D) must be multiples of the period along every axis in circular and fractional
    mode (2-D images are cropped at the top-left to a multiple, as before).
    """

    def __init__(
        self,
        cfg: Config,
        shape: tuple[int, ...],
        period: int | tuple[int, ...],
        shifts: list[tuple[float, ...]],
        where: str,
    ) -> None:
        self.cfg = cfg
        self.mode = cfg.mode
        self.canvas = tuple(int(v) for v in shape)
        nd = self.nd = len(self.canvas)
        periods = (period,) * nd if isinstance(period, int) else tuple(period)
        self.periods = periods
        shape = self.canvas
        small = [a for a in range(nd) if shape[a] < periods[a]]
        if small:
            unit = "px" if nd == 2 else "voxels"
            fail(
                f"expected images of at least the period {_size(periods)} {unit}, got "
                f"{_size(shape)} ({where})"
            )
        if self.mode == "crop":
            origin, size = [], []
            for a in range(nd):
                d = [0] + [int(s[a]) for s in shifts]
                n = (shape[a] - (max(d) - min(d))) // periods[a] * periods[a]
                if n < periods[a]:
                    span = tuple(max(abs(s[b]) for s in shifts) for b in range(nd))
                    fail(
                        f"image {_size(shape)} ({where}) is too small for crop shifts up to "
                        f"{span} px with period {_size(periods)}: lower --max-shift or use "
                        "larger images"
                    )
                origin.append(max(d))
                size.append(n)
            self.origin, self.size = tuple(origin), tuple(size)
        else:
            self.origin = (0,) * nd
            if nd != 2:
                bad = [a for a in range(nd) if shape[a] % periods[a]]
                if bad:
                    a = bad[0]
                    fail(
                        f"expected volume sizes that are multiples of the period "
                        f"{_size(periods)} on every axis, got {_size(shape)} ({where}; axis "
                        f"{a}: {shape[a]} % {periods[a]} != 0): crop with --image-size"
                    )
            self.size = tuple(shape[a] // periods[a] * periods[a] for a in range(nd))
            big = [s for s in shifts if any(abs(s[a]) >= self.size[a] for a in range(nd))]
            if big:
                fail(
                    f"image frame {_size(self.size)} ({where}) is smaller than the "
                    f"shift {big[0]}: lower --max-shift or use larger images"
                )
            reach = 2 * cfg.lanczos_a
            if self.mode == "fractional" and min(self.size) <= reach:
                fail(
                    f"image frame {_size(self.size)} ({where}) is not larger than "
                    f"the {reach}-tap Lanczos kernel: lower --lanczos-a or use larger images"
                )

    def reference(self, canvas: Tensor) -> Tensor:
        """The unshifted frame of ``canvas``."""
        index = tuple(slice(o, o + n) for o, n in zip(self.origin, self.size))
        return canvas[(..., *index)]

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
        self, ss: list[tuple[float, ...]], scale=1, device: str | torch.device = "cpu"
    ) -> dict[str, Tensor]:
        """``compared``, ``interior``, ``task``, ``task_interior``: bool ``(B, 1, *frame)``.

        ``compared``: real content in both the shifted input's output and the moved reference
        output; ``interior``: compared and at least ``border / scale`` px from the edge of
        both frames; ``task``: real content of the shifted input (compared with the target);
        ``task_interior``: that, at least the border width from the shifted frame's edge.
        ``scale``: the stride of the map (an ``int`` or one per axis).
        """
        nd = self.nd
        scales = (scale,) * nd if isinstance(scale, int) else tuple(scale)
        per_axis = [
            self._axis_masks(
                self.size[a] // scales[a], np.asarray([s[a] / scales[a] for s in ss]), scales[a]
            )
            for a in range(nd)
        ]
        out = {}
        for key in per_axis[0]:
            m = None
            for a, axis in enumerate(per_axis):
                view = [axis[key].shape[0], 1] + [1] * nd
                view[2 + a] = axis[key].shape[1]
                t = torch.from_numpy(axis[key]).to(device).view(view)
                m = t if m is None else m & t
            out[key] = m.contiguous()
        return out

    def _gather(self, t: Tensor, idx: list[np.ndarray]) -> Tensor:
        """``t[0, :, i0[b, i], i1[b, j], ...]``: ``(1, C, *canvas)`` -> ``(B, C, *frame)``."""
        if len(idx) == 2:  # one gather of the whole batch (the 2-D path, as it always was)
            rows, cols = idx
            width = t.shape[-1]
            index = torch.from_numpy((rows[:, :, None] * width + cols[:, None, :]).reshape(-1))
            flat = t.reshape(t.shape[1], -1)
            out = flat.index_select(1, index.to(t.device))
            return out.view(t.shape[1], len(rows), rows.shape[1], cols.shape[1]).transpose(0, 1)
        # volumes: one separable gather per shift (a whole-batch index would be 8 bytes a voxel)
        copies = []
        for b in range(idx[0].shape[0]):
            x = t[0]
            for a, ia in enumerate(idx):
                x = x.index_select(1 + a, torch.from_numpy(ia[b]).to(t.device))
            copies.append(x)
        return torch.stack(copies)

    def inputs(self, canvas: Tensor, ss: list[tuple[float, ...]]) -> Tensor:
        """The model inputs (or targets) for a batch of shifts.

        Shape: ``(1, C, *canvas) -> (B, C, *frame)``.
        """
        if self.mode == "fractional":
            ref = self.reference(canvas)
            return self.move(ref, ss) if ss else ref[:0]
        idx = []
        for a in range(self.nd):
            n = self.size[a]
            d = np.asarray([int(s[a]) for s in ss], dtype=np.int64).reshape(-1, 1)
            if self.mode == "circular":
                idx.append((np.arange(n) - d) % n)
            else:
                idx.append(self.origin[a] - d + np.arange(n))
        return self._gather(canvas, idx)

    def move(self, ref: Tensor, ss: list[tuple[float, ...]], scale=1) -> Tensor:
        """A reference output (or features at stride ``scale``) moved by each ``s / scale``.

        Where the moved map has no content (outside ``masks(...)["compared"]``) the values are
        arbitrary.
        """
        nd = self.nd
        scales = (scale,) * nd if isinstance(scale, int) else tuple(scale)
        if self.mode == "fractional":
            method, a = self.cfg.fractional_method, self.cfg.lanczos_a
            if nd == 2:
                return torch.cat(
                    [
                        fractional_shift(
                            ref, s[0] / scales[0], s[1] / scales[1], method=method, a=a
                        )[0]
                        for s in ss
                    ]
                )
            return torch.cat(
                [
                    fractional_shift_nd(
                        ref, [s[i] / scales[i] for i in range(nd)], method=method, a=a
                    )
                    for s in ss
                ]
            )
        idx = []
        for i in range(nd):
            n = ref.shape[2 + i]
            d = np.asarray([int(s[i]) // scales[i] for s in ss], dtype=np.int64).reshape(-1, 1)
            ia = np.arange(n) - d
            idx.append(ia % n if self.mode == "circular" else np.clip(ia, 0, n - 1))
        return self._gather(ref, idx)
