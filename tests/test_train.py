"""Tests of antialias.train: quick runs, determinism, exact resume, refusals, CLI exit codes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from antialias.checkpoint import load_checkpoint, load_state_dict_safely
from antialias.data import TaskSplit
from antialias.train import (
    QUICK,
    RunError,
    TrainSettings,
    read_state_info,
    evaluate,
    learning_rate,
    loss_fn,
    main,
    train,
)

REPO = Path(__file__).resolve().parents[1]


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_state_dict_safely(run / "model.safetensors")


def test_quick_run_writes_a_loadable_checkpoint_and_log(tmp_path: Path) -> None:
    out = tmp_path / "run"
    meta = train("nuclei", "tconv2", 0, out, QUICK, progress=False)
    assert sorted(p.name for p in out.iterdir()) == [
        "curves.csv",
        "log.jsonl",
        "model.json",
        "model.safetensors",
        "state.safetensors",
    ], "only the run files, nothing temporary"
    model, loaded = load_checkpoint(out / "model.safetensors")
    assert loaded == meta and meta["task"] == "nuclei" and meta["variant"] == "tconv2"
    assert meta["training"]["complete"] and meta["training"]["epochs"] == QUICK.epochs
    assert {"dice", "iou", "accuracy"} <= set(meta["metrics"]["test"])
    assert model.config["out_channels"] == 2 and meta["provenance"]["versions"]["torch"]
    lines = [json.loads(s) for s in (out / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2] and all("dice" in r["val"] for r in lines)


def test_deterministic_and_resume_is_exact(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    train("denoise", "bilinear", 1, a, QUICK, progress=False)
    partial = train("denoise", "bilinear", 1, b, QUICK, progress=False, stop_after_epochs=1)
    assert partial["interrupted"] and partial["epoch"] == 1
    assert not read_state_info(b)["complete"]
    with pytest.raises(RunError, match="already holds a run"):
        train("denoise", "bilinear", 1, b, QUICK, progress=False)
    with open(b / "log.jsonl", "a") as log:  # as if killed after logging an epoch, before state
        log.write('{"epoch": 2, "val": "lost"}\n')
    meta_b = train("denoise", "bilinear", 1, b, QUICK, progress=False, resume=True)
    wa, wb = _weights(a), _weights(b)
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"{k}: max abs error {(wa[k] - wb[k]).abs().max()}"
    assert (a / "log.jsonl").read_text().count("\n") == 2
    val_a = [json.loads(s)["val"] for s in (a / "log.jsonl").read_text().splitlines()]
    val_b = [json.loads(s)["val"] for s in (b / "log.jsonl").read_text().splitlines()]
    assert val_a == val_b
    meta_a = json.loads((a / "model.json").read_text())
    assert meta_a["metrics"] == meta_b["metrics"]
    assert {"psnr", "psnr_input", "psnr_gain"} <= set(meta_b["metrics"]["test"])
    # a complete run resumes to a no-op; another seed gives other weights
    assert train("denoise", "bilinear", 1, b, QUICK, progress=False, resume=True) == meta_b
    train("denoise", "bilinear", 2, tmp_path / "c", QUICK, progress=False)
    wc = _weights(tmp_path / "c")
    assert not torch.equal(wa["head.weight"], wc["head.weight"])


def test_resume_refuses_a_run_with_other_settings_and_overwrite_restarts(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train("nuclei", "nearest", 0, out, QUICK, progress=False, stop_after_epochs=1)
    other = replace(QUICK, lr=1e-4)
    with pytest.raises(RunError, match=r"different \['training'\]"):
        train("nuclei", "nearest", 0, out, other, progress=False, resume=True)
    with pytest.raises(RunError, match="at most one of --resume and --overwrite"):
        train("nuclei", "nearest", 0, out, QUICK, resume=True, overwrite=True)
    meta = train("nuclei", "nearest", 0, out, other, progress=False, overwrite=True)
    assert meta["training"]["lr"] == 1e-4 and meta["training"]["complete"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="is not empty"):
        train("nuclei", "nearest", 0, tmp_path / "other", QUICK, progress=False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "cells", "--variant", "aps"], "expected task to be one of ['nuclei'"),
        (["--task", "nuclei", "--variant", "unet"], "expected variant to be one of ['tconv2'"),
        (["--task", "nuclei", "--variant", "aps", "--epochs", "0"], "expected epochs to be an integer in [1, "),
        (["--task", "nuclei", "--variant", "aps", "--crop", "x"], "invalid int value: 'x'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    rc = main([*argv, "--out", str(tmp_path / "run"), "--quick", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists(), "nothing may be written on bad input"


def test_cli_quick_run_then_refuses_the_existing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--task", "textures", "--variant", "blurpool_blur", "--out", str(tmp_path / "r")]
    assert main([*argv, "--quick", "--no-progress"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "dice" in printed["test"]
    assert main([*argv, "--quick", "--no-progress"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_module_entry_point_exits_2_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "antialias.train", "--task", "nuclei", "--variant", "nope"]
        + ["--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "expected variant" in proc.stderr


def test_learning_rate_schedule() -> None:
    s = TrainSettings(epochs=2, steps_per_epoch=50, lr=1e-2, warmup_steps=10)
    lrs = [learning_rate(i, 100, s) for i in range(100)]
    assert lrs[9] == pytest.approx(1e-2)
    assert all(a < b for a, b in zip(lrs[:9], lrs[1:10])), "warm-up increases"
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])), "cosine decays"
    assert learning_rate(100, 100, s) == pytest.approx(1e-2 / 50)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match=r"expected batch_size to be an integer in \[1, "):
        TrainSettings(batch_size=0)
    with pytest.raises(ValueError, match="expected lr to be a finite real number > 0"):
        TrainSettings(lr=0.0)
    with pytest.raises(ValueError, match="expected seed"):
        train("nuclei", "aps", -1, "unused", QUICK)


def test_loss_is_small_for_perfect_predictions() -> None:
    target = torch.randint(0, 2, (2, 8, 8))
    logits = torch.stack([(target == 0).float(), (target == 1).float()], 1) * 30
    assert float(loss_fn(logits, target, "segmentation")) < 1e-3
    assert float(loss_fn(logits, 1 - target, "segmentation")) > 1.0
    x = torch.randn(2, 1, 8, 8)
    assert float(loss_fn(x, x, "regression")) == 0.0


class _Fixed(nn.Module):
    def __init__(self, out: torch.Tensor) -> None:
        super().__init__()
        self.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the images hold their own index, so batching cannot reorder outputs unnoticed
        return self.out[x[:, 0, 0, 0].long()]


def test_evaluate_matches_a_naive_reference() -> None:
    g = torch.Generator().manual_seed(0)
    n = 5
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 8, 8).clone()
    targets = torch.randint(0, 2, (n, 8, 8), generator=g)
    logits = torch.randn(n, 2, 8, 8, generator=g)
    sources = ("a[0]", "a[1]", "b[0]", "b[1]", "b[2]")
    split = TaskSplit("toy", "test", "segmentation", images, targets, 1.0, sources)
    m = evaluate(_Fixed(logits), split, batch_size=2)
    pred = logits.argmax(1).numpy() == 1
    true = targets.numpy() == 1
    dice = 2 * (pred & true).sum() / (pred.sum() + true.sum())
    assert m["dice"] == pytest.approx(dice, abs=1e-12)
    assert m["iou"] == pytest.approx((pred & true).sum() / (pred | true).sum(), abs=1e-12)
    assert m["accuracy"] == pytest.approx((pred == true).mean(), abs=1e-12)
    pb, tb = pred[2:], true[2:]
    assert m["dice/b"] == pytest.approx(2 * (pb & tb).sum() / (pb.sum() + tb.sum()), abs=1e-12)

    clean = torch.rand(n, 1, 8, 8, generator=g)
    noisy = clean + 0.1 * torch.randn(n, 1, 8, 8, generator=g)
    out = clean + 0.05 * torch.randn(n, 1, 8, 8, generator=g)
    reg = TaskSplit("toy", "test", "regression", noisy, clean, 1.0, sources, 0.1)

    class _Out(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            idx = [int(torch.nonzero((noisy == xi).all(dim=(1, 2, 3)))[0]) for xi in x]
            return out[idx]

    r = evaluate(_Out(), reg, batch_size=3)
    mse = ((out.double() - clean.double()) ** 2).mean(dim=(1, 2, 3)).numpy()
    mse_in = ((noisy.double() - clean.double()) ** 2).mean(dim=(1, 2, 3)).numpy()
    psnr = np.mean([10 * math.log10(1 / v) for v in mse])
    assert r["psnr"] == pytest.approx(psnr, abs=1e-9)
    assert r["psnr_gain"] == pytest.approx(psnr - np.mean(10 * np.log10(1 / mse_in)), abs=1e-9)
