"""Tests of antialias.train: quick runs, determinism, exact resume, refusals, CLI exit codes."""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
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
    evaluate,
    learning_rate,
    loss_fn,
    main,
    read_state_info,
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
        (
            ["--task", "nuclei", "--variant", "aps", "--epochs", "0"],
            "expected epochs to be an integer in [1, ",
        ),
        (["--task", "nuclei", "--variant", "aps", "--crop", "x"], "invalid int value: 'x'"),
        # numbers that parse but mean nothing (each used to train, crash or hang)
        (["--task", "nuclei", "--variant", "aps", "--lr", "inf"], "expected lr to be a finite"),
        (["--task", "nuclei", "--variant", "aps", "--lr", "nan"], "expected lr to be a finite"),
        (["--task", "nuclei", "--variant", "aps", "--lr", "0"], "finite real number > 0"),
        (["--task", "nuclei", "--variant", "aps", "--lr=-1e-3"], "finite real number > 0"),
        (["--task", "nuclei", "--variant", "aps", "--weight-decay", "nan"], "weight_decay"),
        (["--task", "nuclei", "--variant", "aps", "--min-delta=-1"], "expected min_delta"),
        (["--task", "nuclei", "--variant", "aps", "--min-delta", "inf"], "expected min_delta"),
        (["--task", "nuclei", "--variant", "aps", "--patience", "0"], "expected patience"),
        (["--task", "nuclei", "--variant", "aps", "--patience", "x"], "invalid int_or_none value"),
        (["--task", "nuclei", "--variant", "aps", "--threads", "0"], "expected threads"),
        (["--task", "nuclei", "--variant", "aps", "--threads", "100000"], "expected threads"),
        (["--task", "nuclei", "--variant", "aps", "--epochs", "1e3"], "invalid int value"),
        (["--task", "nuclei", "--variant", "aps", "--max-epochs", "0"], "expected epochs"),
        (["--task", "nuclei", "--variant", "aps", "--seed=-1"], "expected seed"),
        (["--task", "nuclei", "--variant", "aps", "--seed", str(2**64)], "expected seed"),
        (
            ["--task", "nuclei", "--variant", "aps", "--batch-size", "4096", "--crop", "256"],
            "expected batch_size * crop**2",
        ),
        # sizes that contradict the data (256 px images) or the network (period 8)
        (["--task", "nuclei", "--variant", "aps", "--crop", "300"], "expected crop to be an"),
        (["--task", "nuclei", "--variant", "aps", "--crop", "4"], "expected crop to be an"),
        (["--task", "denoise", "--variant", "aps", "--eval-size", "512"], "expected eval_size"),
        (["--task", "nuclei", "--variant", "aps", "--eval-size", "4"], "expected eval_size"),
        (["--task", "nuclei", "--variant", "aps", "--resume", "--overwrite"], "at most one of"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    rc = main([*argv, "--out", str(tmp_path / "run"), "--quick", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], "nothing may be written on bad input"


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


# --- the run directory: unusable --out, corrupt state, crashes at any point ------------------


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main([*argv, "--quick", "--no-progress"])
    return rc, capsys.readouterr().err


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _unwritable(folder: str | Path) -> bool:
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return Path(folder).is_dir()
    return False


@pytest.mark.parametrize("where", ["file", "under_file", "empty", "unwritable"])
def test_unusable_out_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    (tmp_path / "f").write_text("mine")
    out = {
        "file": str(tmp_path / "f"),
        "under_file": str(tmp_path / "f" / "run"),
        "empty": "",
        "unwritable": "/sys/antialias-train-test",  # not writable even by root
    }[where]
    if where == "unwritable" and not _unwritable("/sys"):
        unwritable = tmp_path / "ro"
        unwritable.mkdir(mode=0o500)
        if not _unwritable(unwritable):  # root ignores modes; /sys is the case for root
            pytest.skip("no unwritable directory on this machine")
        out = str(unwritable / "run")
    rc, err = _cli(["--task", "nuclei", "--variant", "aps", "--out", out], capsys)
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "--out" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) in (["f"], ["f", "ro"])
    assert (tmp_path / "f").read_text() == "mine"


def _rewrite_state(path: Path, edit) -> None:
    """Rewrite state.safetensors after ``edit(tensors, record)`` (a corrupt-but-readable file)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from antialias.rundir import STATE_KEY

    with safe_open(str(path), framework="pt") as handle:
        record = json.loads(handle.metadata()[STATE_KEY])
    tensors = load_file(str(path))
    text = edit(tensors, record)
    save_file(
        tensors, str(path), {STATE_KEY: text if isinstance(text, str) else json.dumps(record)}
    )


_CORRUPTIONS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "garbage": lambda p: p.write_bytes(b"\x00" * 64),
    "record_not_json": lambda p: _rewrite_state(p, lambda t, r: "{not json"),
    "record_inconsistent": lambda p: _rewrite_state(p, lambda t, r: r.update(epoch=2)),
    "no_rng": lambda p: _rewrite_state(p, lambda t, r: t.pop("rng.data")),
    "nan_weights": lambda p: _rewrite_state(
        p, lambda t, r: t["model.head.weight"].fill_(float("nan"))
    ),
    "wrong_shape": lambda p: _rewrite_state(
        p, lambda t, r: t.update({"best.head.bias": torch.zeros(7)})
    ),
    "history_missing_keys": lambda p: _rewrite_state(
        p, lambda t, r: r["history"][0].pop("val_score")
    ),
    "best_score_text": lambda p: _rewrite_state(p, lambda t, r: r.update(best_score="high")),
    "wait_too_long": lambda p: _rewrite_state(p, lambda t, r: r.update(wait=9)),
    "old_format": lambda p: (p.unlink(), p.with_name("state.json").write_text("{}")),
}


@pytest.fixture(scope="module")
def _one_epoch_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("interrupted") / "run"
    train("nuclei", "tconv2", 0, out, QUICK, progress=False, stop_after_epochs=1)
    return out


@pytest.mark.parametrize("how", list(_CORRUPTIONS))
def test_corrupt_resume_state_is_one_line_exit_2_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str, _one_epoch_run: Path
) -> None:
    out = tmp_path / "run"
    shutil.copytree(_one_epoch_run, out)
    _CORRUPTIONS[how](out / "state.safetensors")
    before = _tree(out)
    rc, err = _cli(
        ["--task", "nuclei", "--variant", "tconv2", "--out", str(out), "--resume"], capsys
    )
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "cannot resume" in err, err
    assert _tree(out) == before, "a refused resume must leave the run directory as it was"


def _fingerprint(out: Path) -> tuple:
    meta = json.loads((out / "model.json").read_text())
    weights = _weights(out)
    log = [json.loads(s)["val"] for s in (out / "log.jsonl").read_text().splitlines()]
    return meta["metrics"], meta["training"]["curve"], log, weights


def test_a_crash_at_any_rename_resumes_to_the_uninterrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kill the run at every file rename in turn (the commit points); --resume must then give
    exactly the uninterrupted run: no epoch lost twice, none trained twice."""
    import antialias.train as T

    settings = QUICK
    import antialias.provenance as P

    # load the data and ask git for the commit once, not 30 times
    monkeypatch.setattr(T, "load_split", functools.cache(T.load_split))
    monkeypatch.setattr(P, "provenance", functools.cache(P.provenance))
    ref = tmp_path / "ref"
    calls = []
    real_replace = os.replace

    def counting(src, dst):  # noqa: ANN001
        calls.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counting)
    train("denoise", "tconv2", 0, ref, settings, progress=False)
    monkeypatch.setattr(os, "replace", real_replace)
    m_ref, curve_ref, log_ref, w_ref = _fingerprint(ref)
    assert len(calls) >= 8 and calls.count("state.safetensors") == settings.epochs + 1, calls

    for k in range(len(calls)):
        run = tmp_path / f"crash{k}"
        seen = []

        def crashing(src, dst, k=k, seen=seen):  # noqa: ANN001
            if len(seen) == k:
                raise KeyboardInterrupt(f"killed before renaming {Path(dst).name}")
            seen.append(dst)
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", crashing)
        with pytest.raises(KeyboardInterrupt):
            train("denoise", "tconv2", 0, run, settings, progress=False)
        monkeypatch.setattr(os, "replace", real_replace)
        (run / ".state.safetensors.killed.tmp").write_bytes(b"as if SIGKILLed mid-write")
        meta = train("denoise", "tconv2", 0, run, settings, progress=False, resume=True)
        m, curve, log, w = _fingerprint(run)
        where = f"crash before rename {k} ({calls[k]})"
        assert meta["training"]["complete"] and meta["training"]["epochs_done"] == 2, where
        assert m == m_ref and log == log_ref, where
        assert [r["epoch"] for r in curve] == [1, 2], where
        assert [r["val_score"] for r in curve] == [r["val_score"] for r in curve_ref], where
        for key in w_ref:
            assert torch.equal(w[key], w_ref[key]), f"{where}: {key}"
        assert not [p for p in run.iterdir() if p.name.endswith(".tmp")], where


# --- convergence: plateau, budget, learning curves -------------------------------------------


def _naive_plateau(scores: list[float], patience: int | None, min_delta: float, budget: int):
    """Keras' EarlyStopping rule written out: (epochs run, best epoch, reason)."""
    best, best_epoch, wait = -math.inf, 0, 0
    for epoch, score in enumerate(scores[:budget], start=1):
        if score - min_delta > best:
            best, best_epoch, wait = score, epoch, 0
        else:
            wait += 1
        if patience is not None and wait >= patience:
            return epoch, best_epoch, "plateau"
    return min(budget, len(scores)), best_epoch, "budget"


@pytest.mark.parametrize("patience", [None, 1, 2, 3])
@pytest.mark.parametrize("min_delta", [0.0, 0.02])
def test_plateau_rule_matches_a_naive_reference(patience: int | None, min_delta: float) -> None:
    from antialias.train import plateau_update, stop_reason

    g = torch.Generator().manual_seed(3)
    for _ in range(50):
        scores = (
            torch.rand(12, generator=g).cumsum(0).div(12).add(torch.randn(12, generator=g) * 0.03)
        )
        scores = [float(x) for x in scores]
        settings = replace(QUICK, epochs=10, patience=patience, min_delta=min_delta)
        best, wait, best_epoch, epoch, reason = -math.inf, 0, 0, 0, None
        while reason is None:
            epoch += 1
            improved, best, wait = plateau_update(best, wait, scores[epoch - 1], min_delta)
            best_epoch = epoch if improved else best_epoch
            reason = stop_reason(epoch, wait, settings)
        assert (epoch, best_epoch, reason) == _naive_plateau(scores, patience, min_delta, 10)


def test_plateau_stops_early_keeps_the_best_epoch_and_saves_curves(tmp_path: Path) -> None:
    from antialias.data import load_split
    from antialias.train import _eval_view

    # min_delta far above any Dice change: epoch 1 is the best, epochs 2-3 wait, stop at 3
    settings = replace(QUICK, epochs=8, patience=2, min_delta=10.0)
    out = tmp_path / "run"
    meta = train("nuclei", "bilinear", 0, out, settings, progress=False)
    t = meta["training"]
    assert (t["stop_reason"], t["epochs_done"], t["best_epoch"]) == ("plateau", 3, 1)
    assert [r["epoch"] for r in t["curve"]] == [1, 2, 3]
    assert {"train_loss", "val_score", "lr", "seconds"} <= set(t["curve"][0])
    # the saved model is epoch 1's, not the last epoch's: re-evaluate it on val
    model, _ = load_checkpoint(out / "model.safetensors")
    val = _eval_view(load_split("nuclei", "val"), settings)
    assert evaluate(model, val)["dice"] == pytest.approx(t["curve"][0]["val_score"], abs=1e-12)
    state = load_state_dict_safely(out / "state.safetensors")
    assert not torch.equal(state["model.head.weight"], state["best.head.weight"])
    assert torch.equal(state["best.head.weight"], _weights(out)["head.weight"])
    rows = (out / "curves.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 4 and header[:3] == ["epoch", "train_loss", "val_score"]
    assert {"val_dice", "lr", "seconds", "total_seconds", "best"} <= set(header)
    assert [r.split(",")[header.index("best")] for r in rows[1:]] == ["1", "0", "0"]
    # the same run interrupted after 2 epochs resumes its plateau count and stops alike
    cut = tmp_path / "cut"
    train("nuclei", "bilinear", 0, cut, settings, progress=False, stop_after_epochs=2)
    again = train("nuclei", "bilinear", 0, cut, settings, progress=False, resume=True)
    assert again["training"]["curve"] == t["curve"] or [
        {k: v for k, v in r.items() if k != "seconds"} for r in again["training"]["curve"]
    ] == [{k: v for k, v in r.items() if k != "seconds"} for r in t["curve"]]
    assert again["metrics"] == meta["metrics"]


def test_fixed_epochs_record_budget_and_old_checkpoints_read_as_fixed(tmp_path: Path) -> None:
    from antialias.train import settings_for, settings_from

    meta = train("textures", "tconv2", 0, tmp_path / "r", QUICK, progress=False)
    assert meta["training"]["stop_reason"] == "budget"
    assert meta["training"]["epochs_done"] == QUICK.epochs == len(meta["training"]["curve"])
    assert settings_from(meta["training"]) == QUICK
    # the shipped checkpoints predate patience/min_delta: they read as the fixed-epoch default
    shipped = sorted((REPO / "checkpoints").glob("nuclei/*_s0.json"))
    if shipped:
        training = json.loads(shipped[0].read_text())["training"]
        assert "patience" not in training
        assert settings_from(training) == replace(settings_for("nuclei"), threads=1)


def test_nan_weights_behind_a_finite_loss_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_step = torch.optim.Adam.step

    def poisoned(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        out = real_step(self, *args, **kwargs)
        with torch.no_grad():
            self.param_groups[0]["params"][0].fill_(float("inf"))
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoned)
    argv = ["--task", "nuclei", "--variant", "aps", "--out", str(tmp_path / "r")]
    rc, err = _cli([*argv, "--epochs", "1", "--steps-per-epoch", "1"], capsys)
    assert rc == 2 and err.count("\n") == 1 and "training diverged" in err, err
    assert "expected finite weights" in err, err
    assert not (tmp_path / "r" / "model.safetensors").exists(), "no model from a diverged run"


def test_divergence_stops_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import antialias.train as T

    monkeypatch.setattr(T, "loss_fn", lambda out, target, kind: out.sum() * float("nan"))
    rc, err = _cli(["--task", "nuclei", "--variant", "aps", "--out", str(tmp_path / "r")], capsys)
    assert rc == 2 and err.count("\n") == 1 and "training diverged" in err, err
    assert not (tmp_path / "r" / "model.safetensors").exists(), "no model from a diverged run"
