"""A tiny study for the tests: two small untrained nuclei checkpoints, every piece, seconds.

Shared by ``tests/test_study.py`` and ``tests/test_figures_study.py``; built once per session
(cached by folder) because the pieces run real models on real test images.
"""

from __future__ import annotations

from pathlib import Path

import torch

from analysis import study as st
from antialias.checkpoint import save_checkpoint
from antialias.data import load_split
from antialias.models import build_variant
from antialias.provenance import provenance
from antialias.train import evaluate

VARIANTS = ("tconv2", "blurpool_blur")
SEEDS = {"tconv2": (0, 1), "blurpool_blur": (0,)}
_BUILT: dict[str, tuple[Path, st.StudyConfig, dict]] = {}


def tiny_config(checkpoints: Path) -> st.StudyConfig:
    """Every piece on the smallest inputs that still exercise it."""
    return st.StudyConfig(
        checkpoints=str(checkpoints),
        tasks=("nuclei",),
        variants=VARIANTS,
        crop_images={"nuclei": 2},
        crop_max_shift=3,
        period_tasks=("nuclei",),
        period_seeds=None,
        period_images=1,
        period_size={"nuclei": 48},
        fractional_tasks=("nuclei",),
        fractional_steps=2,
        fractional_images=1,
        layers_seeds=None,
        layers_images=1,
        layers_max_shift=4,
        layers_border=8,
        example_window=32,
        speed={
            "variants": ("tconv2", "bilinear"),
            "batch": 1,
            "size": 32,
            "repeats": 2,
            "warmup": 0,
            "threads": (1,),
        },
        n_boot=50,
        border=8,
        batch_size=8,
    )


def write_checkpoints(folder: Path) -> None:
    """Width-4 untrained U-Nets with the training code's own test metrics in the metadata."""
    split = load_split("nuclei", "test")
    for v in VARIANTS:
        for seed in SEEDS[v]:
            torch.manual_seed(seed)
            model = build_variant(v, 1, 2, width=4).eval()
            meta = {
                "task": "nuclei",
                "variant": v,
                "seed": seed,
                "kind": "segmentation",
                "metrics": {"test": evaluate(model, split)},
                "num_parameters": sum(p.numel() for p in model.parameters()),
                "training": {"train_seconds": 1.0, "epochs": 1, "steps_per_epoch": 1},
                "data": {"train": ["a", "b"], "test": list(split.sources)},
            }
            save_checkpoint(folder / "nuclei" / f"{v}_s{seed}.safetensors", model, meta)


def build(root: Path) -> tuple[Path, st.StudyConfig, dict]:
    """``(results folder, config, {stem: (result, seconds)})`` of the tiny study under ``root``."""
    key = str(root)
    if key not in _BUILT:
        ckpts, out = root / "ckpts", root / "results"
        write_checkpoints(ckpts)
        cfg = tiny_config(ckpts)
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            results, missing = st.run(cfg)
        finally:
            torch.set_num_threads(before)
        st.write_pieces(out, results, cfg, provenance())
        st.write_summary(out, cfg, missing)
        _BUILT[key] = (out, cfg, results)
    return _BUILT[key]
