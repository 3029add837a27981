"""Which shifts are measured, and where: shift sets, the period, frames, crops and masks.

:func:`parse_shifts` turns ``--shifts`` into a list of ``(dy, dx)`` (content moves by
``+(dy, dx)``), refusing sets larger than :data:`~antialias.consistency.config.LIMITS` before
building them. :class:`Geometry` holds, per image, the frame the model sees and the shift
operators in and out of the model, batched.

What does not live here: running the models and the sums (:mod:`~antialias.consistency.sums`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from antialias.consistency.config import LIMITS, Config, fail
from antialias.shifts import crop_window, fractional_shift, period_shifts

__all__ = ["Geometry", "num", "parse_shifts", "shift_count"]

_SHIFTS_HELP = "expected --shifts all, line, random:N or a list DY:DX,DY:DX,..."


def shift_count(spec: str, mode: str, max_shift: int, levels: int) -> int:
    """How many shifts ``spec`` asks for (without building them); 0 for a list."""
    if spec == "all":
        return 16 if mode == "fractional" else 4**levels
    if spec == "line":
        return max_shift + 1
    if spec.startswith("random:"):
        count = spec.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            fail(f"expected --shifts random:N with N >= 1, got {spec!r}")
        return int(count)
    return 0


def parse_shifts(spec: str, cfg: Config, levels: int) -> list[tuple[float, float]]:
    """The shifts of ``--shifts`` for a model with ``levels`` down-samplings."""
    frac = cfg.mode == "fractional"
    s = cfg.max_shift
    count = shift_count(spec, cfg.mode, s, levels)
    if count > LIMITS["shifts"] or len(spec) > 16 * LIMITS["shifts"]:
        asked = f"{count} shifts" if count else "a longer list"
        fail(
            f"expected at most {LIMITS['shifts']} shifts per model, --shifts {spec[:40]!r} "
            f"asks for {asked} (period {2**levels}): ask for fewer (random:N, line, a list)"
        )
    if spec == "all":
        if frac:
            return [(i / 4, j / 4) for i in range(4) for j in range(4)]
        return [(float(a), float(b)) for a, b in period_shifts(levels)]
    if spec == "line":
        return [(0.0, float(d)) for d in range(s + 1)]
    if spec.startswith("random:"):
        rng = np.random.default_rng(cfg.seed)
        if frac:
            draws = rng.uniform(-s, s, size=(count, 2))
        else:
            draws = rng.integers(-s, s + 1, size=(count, 2)).astype(np.float64)
        return [(float(a), float(b)) for a, b in draws]
    out = []
    for part in spec.split(","):
        pieces = part.strip().split(":")
        try:
            dy, dx = (float(p) for p in pieces)
        except ValueError:
            fail(f"{_SHIFTS_HELP}; got {spec[:80]!r}")
        if not (math.isfinite(dy) and math.isfinite(dx)):
            fail(f"expected finite shifts, got {part!r}")
        if not frac and (dy != round(dy) or dx != round(dx)):
            fail(f"expected integer shifts in {cfg.mode} mode, got {part!r}")
        if max(abs(dy), abs(dx)) > LIMITS["max_shift"]:
            fail(f"expected shifts of at most {LIMITS['max_shift']} px, got {part!r}")
        out.append((dy, dx))
    return out


def num(v: float) -> int | float:
    """A shift component as written to results: ``int`` when integral."""
    return int(v) if float(v).is_integer() else float(v)


class Geometry:
    """Per image: the frame the model sees, and the shift operators in and out of the model.

    For a batch of shifts everything is built along each axis in numpy and applied in one
    gather: a circular or crop shift of the input is ``canvas[rows[b, i], cols[b, j]]``, and
    every mask used here is separable, ``row_mask[b, i] & col_mask[b, j]``. The masks are those
    of the operators of :mod:`antialias.shifts` (a test checks them against the operators);
    building them per batch keeps the work and memory of a batch independent of the number of
    shifts. Fractional shifts run :func:`~antialias.shifts.fractional_shift` per shift.
    """

    def __init__(
        self,
        cfg: Config,
        shape: tuple[int, int],
        period: int,
        shifts: list[tuple[float, float]],
        where: str,
    ) -> None:
        self.cfg = cfg
        self.mode = cfg.mode
        self.canvas = shape
        h, w = shape
        if h < period or w < period:
            fail(f"expected images of at least the period {period} px, got {h}x{w} ({where})")
        if self.mode == "crop":
            try:
                self.origin, self.size = crop_window(
                    (h, w), [(int(a), int(b)) for a, b in shifts], multiple=period
                )
            except ValueError:
                span = max(abs(a) for a, _ in shifts), max(abs(b) for _, b in shifts)
                fail(
                    f"image {h}x{w} ({where}) is too small for crop shifts up to {span} px with "
                    f"period {period}: lower --max-shift or use larger images"
                )
        else:
            self.origin = (0, 0)
            self.size = (h // period * period, w // period * period)
            big = [s for s in shifts if abs(s[0]) >= self.size[0] or abs(s[1]) >= self.size[1]]
            if big:
                fail(
                    f"image frame {self.size[0]}x{self.size[1]} ({where}) is smaller than the "
                    f"shift {big[0]}: lower --max-shift or use larger images"
                )
            reach = 2 * cfg.lanczos_a
            if self.mode == "fractional" and min(self.size) <= reach:
                fail(
                    f"image frame {self.size[0]}x{self.size[1]} ({where}) is not larger than "
                    f"the {reach}-tap Lanczos kernel: lower --lanczos-a or use larger images"
                )

    def reference(self, canvas: Tensor) -> Tensor:
        """The unshifted frame of ``canvas``."""
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
