"""The study's configuration and its checkpoints: what is computed, from which files.

What does not live here: the pieces themselves (:mod:`analysis.study.pieces`), the summary
(:mod:`analysis.study.summary`) and the files (:mod:`analysis.study.files`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from antialias.models import VARIANTS

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "results" / "study"
DEFAULT_CHECKPOINTS = REPO / "checkpoints"
SCHEMA = "antialias.study/1"
PIECES: tuple[str, ...] = ("accuracy", "crop", "period", "fractional", "layers", "example", "speed")
TASKS: tuple[str, ...] = ("nuclei", "textures", "denoise")
PROG = "study"


class StudyError(ValueError):
    """Bad input to the study (missing checkpoints, unknown names); the message says which."""


@dataclass
class StudyConfig:
    """What the study computes. Shifts in pixels; ``None`` image counts mean every test image.

    Attributes:
        checkpoints: folder holding ``<task>/<variant>_s<seed>.safetensors``.
        tasks, variants, seeds: which checkpoints to use (``seeds=None``: every seed found).
        pieces: which pieces to compute.
        require_all: fail if any of the expected checkpoints (10 variants; nuclei seeds 0-2,
            textures and denoise seed 0) is missing, instead of skipping it.
        crop_images: test images per task for the crop shifts.
        crop_max_shift: crop shifts ``(0, 0..S)``.
        period_tasks, period_seeds, period_images, period_size: circular period maps on those
            tasks / seeds (``None``: all), first images, centre crop per task (``None``: the
            full image; nuclei needs it, its label changes are rare).
        fractional_tasks, fractional_steps, fractional_images: sub-pixel shifts
            ``(0, k / steps)`` for ``k = 0..steps``.
        layers_task, layers_seeds, layers_images, layers_max_shift, layers_border: per-level
            feature errors for crop shifts ``(0, 1..S)``; the interior excludes ``border`` px
            (wider than elsewhere: the zero padding reaches far into the coarse levels).
        example_task, example_image, example_variants, example_seed, example_shift,
            example_window: the visual example (``example_window`` px square shown).
        speed: keyword arguments of :class:`analysis.speed.SpeedConfig`.
        n_boot: bootstrap resamples; seed: seed of the bootstrap.
        batch_size: shifted copies per forward pass.
        border: border band (px) excluded from the ``interior`` region.
    """

    checkpoints: str = str(DEFAULT_CHECKPOINTS)
    tasks: tuple[str, ...] = TASKS
    variants: tuple[str, ...] = tuple(VARIANTS)
    seeds: tuple[int, ...] | None = None
    pieces: tuple[str, ...] = PIECES
    require_all: bool = False
    crop_images: dict[str, int | None] = field(
        default_factory=lambda: {"nuclei": 1, "textures": 2, "denoise": 2}
    )
    crop_max_shift: int = 16
    period_tasks: tuple[str, ...] = ("nuclei",)
    period_seeds: tuple[int, ...] | None = (0,)
    period_images: int | None = 1
    period_size: dict[str, int | None] = field(
        default_factory=lambda: {"nuclei": None, "textures": 128, "denoise": 128}
    )
    fractional_tasks: tuple[str, ...] = ("denoise",)
    fractional_steps: int = 4
    fractional_images: int | None = 2
    layers_task: str = "nuclei"
    layers_seeds: tuple[int, ...] | None = (0,)
    layers_images: int | None = 1
    layers_max_shift: int = 8
    layers_border: int = 48
    example_task: str = "nuclei"
    example_image: int = 0
    example_variants: tuple[str, str] = ("tconv2", "blurpool_blur")
    example_seed: int = 0
    example_shift: tuple[int, int] = (0, 1)
    example_window: int = 96
    speed: dict[str, Any] = field(default_factory=lambda: {"threads": (1,)})
    n_boot: int = 1000
    seed: int = 0
    batch_size: int = 16
    border: int = 16


def full_config(**overrides: Any) -> StudyConfig:
    """The complete (slow) version: every test image, every seed, full-size period maps."""
    cfg = StudyConfig(
        crop_images={t: None for t in TASKS},
        period_tasks=TASKS,
        period_seeds=None,
        period_images=2,
        period_size={t: None for t in TASKS},
        fractional_tasks=("denoise", "nuclei"),
        fractional_steps=8,
        fractional_images=None,
        layers_seeds=None,
        layers_images=3,
        speed={"threads": (1, 2), "archs": ("shipped", "wide"), "repeats": 11},
    )
    return replace(cfg, **overrides)


EXPECTED_SEEDS: dict[str, tuple[int, ...]] = {
    "nuclei": (0, 1, 2),
    "textures": (0,),
    "denoise": (0,),
}


# ----------------------------------------------------------------------------------------------
# checkpoints


@dataclass(frozen=True)
class Ckpt:
    """One checkpoint file of the study: task, variant, training seed, path."""

    task: str
    variant: str
    seed: int
    path: Path


def find_checkpoints(cfg: StudyConfig) -> tuple[list[Ckpt], list[str]]:
    """The checkpoints the config asks for that exist, and the expected ones that do not.

    Order: task (config order), then variant (:data:`VARIANTS` order), then seed.
    """
    root = Path(cfg.checkpoints)
    if not root.is_dir():
        raise StudyError(f"expected a checkpoint folder, got {str(root)!r} (not a directory)")
    for name, values, valid in (("task", cfg.tasks, TASKS), ("variant", cfg.variants, VARIANTS)):
        bad = [v for v in values if v not in valid]
        if bad:
            raise StudyError(f"expected {name}s among {list(valid)}, got {bad}")
    found, missing = [], []
    for task in cfg.tasks:
        folder = root / task
        for variant in VARIANTS:
            if variant not in cfg.variants:
                continue
            seeds = set()
            if folder.is_dir():
                for p in folder.glob(f"{variant}_s*.safetensors"):
                    tail = p.stem[len(variant) + 2 :]
                    if p.stem.startswith(f"{variant}_s") and tail.isdigit():
                        seeds.add(int(tail))
            expected = set(EXPECTED_SEEDS[task])
            if cfg.seeds is not None:
                seeds &= set(cfg.seeds)
                expected &= set(cfg.seeds)
            missing += [f"{task}/{variant}_s{s}" for s in sorted(expected - seeds)]
            found += [
                Ckpt(task, variant, s, folder / f"{variant}_s{s}.safetensors")
                for s in sorted(seeds)
            ]
    if cfg.require_all and missing:
        raise StudyError(
            f"expected every shipped checkpoint, {len(missing)} missing (first: {missing[0]}); "
            "train them (python -m analysis.train_all) or drop --require-all"
        )
    if not found:
        raise StudyError(
            f"expected checkpoints under {str(root)!r}, found none for {list(cfg.tasks)}"
        )
    return found, missing


def repo_relative(path: Path | str) -> str:
    """``path`` relative to the clone (the files we commit name no machine's folders)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return str(path)


def config_doc(config: StudyConfig) -> dict[str, Any]:
    """The config as stamped into result files (checkpoint folder clone-relative)."""
    doc = asdict(config)
    doc["checkpoints"] = repo_relative(config.checkpoints)
    return doc
