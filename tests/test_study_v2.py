"""Tests of analysis/study_v2.py: the declared plan (seeds, widths, twins), the cost model, and
one tiny run end to end (result file, learning curve, per-image test metrics, skip when done)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace

import numpy as np
import pytest

from analysis import study_v2
from antialias import stats, variants
from antialias.data import UNITS
from antialias.files import read_json


def test_plan_declares_the_headline_and_the_rest() -> None:
    runs = study_v2.plan()
    head = [r for r in runs if r.piece.startswith("headline_w")]
    assert {r.design for r in head} == set(study_v2.HEADLINE)
    assert {r.width for r in head} == {8, 16, 32} and {r.depth for r in head} == {4}
    for w in (8, 16, 32):
        for d in study_v2.HEADLINE:
            seeds = {r.seed for r in head if r.width == w and r.design == d}
            assert len(seeds) >= (5 if w < 32 else 3), (w, d)
    den = [r for r in runs if r.piece == "headline_denoise"]
    assert {r.task for r in den} == {"denoise_photos"} and len(den) == 4 * 5
    others = {r.design for r in runs if r.piece == "designs"}
    assert others == set(variants.DESIGNS) - set(study_v2.HEADLINE)
    assert len({r.path for r in runs}) == len(runs), "one result file per run"
    assert set(study_v2.REFERENCE) == set(variants.DESIGNS)


def test_twins_match_their_reference_within_10_percent() -> None:
    twins = dict(study_v2._twins())
    assert "pixelshuffle" in twins and "bilinear_only" in twins
    assert twins["pixelshuffle"] < study_v2.OTHER_WIDTH < twins["bilinear_only"]
    for name, w in twins.items():
        ref = study_v2._parameters(study_v2.REFERENCE[name], study_v2.OTHER_WIDTH)
        assert abs(study_v2._parameters(name, w) / ref - 1) < 0.1, name
    # same-size ablation pairs need no twin
    assert "aps_zeros" not in twins and "blurpool_bilinear" not in twins


def test_estimate_scales_the_measured_run_by_macs() -> None:
    runs = [r for r in study_v2.plan() if r.piece == "headline_w8"][:4]
    steps = {
        f"{d}_w{w}": 0.1 * (1 + i) for i, d in enumerate(study_v2.HEADLINE) for w in (8, 16, 32)
    }
    timing = {"seconds": 100.0, "run": {"design": "tconv2", "width": 8}, "step_seconds": steps}
    est = study_v2.estimate(runs, timing)
    expected = sum(100.0 * steps[f"{r.design}_w8"] / 0.1 for r in runs)
    assert est["total_core_seconds"] == pytest.approx(expected)
    assert est["wall_hours_on_2_cores"] == pytest.approx(expected / 2 / 3600)
    half = study_v2.estimate(runs, {**timing, "epochs_done": study_v2._settings().epochs // 2})
    assert half["wall_hours_upper_bound"] == pytest.approx(2 * half["wall_hours_on_2_cores"])
    assert study_v2.estimate(runs, None) == {"measured": None}
    # a design without a measured step: tconv2's step at that width times the MAC ratio
    other = study_v2.Run("designs", "nuclei_sim", "pixelshuffle", 16, 4, 0)
    ref = study_v2.Run("designs", "nuclei_sim", "tconv2", 16, 4, 0)
    got = study_v2.estimate([other], timing)["total_core_seconds"]
    assert got == pytest.approx(100.0 * study_v2._macs(other) / study_v2._macs(ref))


@pytest.mark.parametrize(
    "task, design, metric, units",
    [("nuclei_sim", "bilinear_only", "dice", 20), ("denoise_photos", "bilinear_1x1", "psnr", 20)],
)
def test_one_tiny_run_writes_its_result_and_is_skipped_after(
    tmp_path, monkeypatch, task: str, design: str, metric: str, units: int
) -> None:
    from antialias.train import QUICK

    monkeypatch.setattr(study_v2, "OUT", tmp_path)
    quick = replace(QUICK, eval_size=0, eval_images=0)
    monkeypatch.setattr(study_v2, "_settings", lambda task="nuclei_sim": quick)
    run = study_v2.Run("designs", task, design, 2, 2, 0)
    doc = study_v2.run_one(run)
    saved = read_json(run.path)
    assert saved["run"]["design"] == design and len(saved["curve"]) == QUICK.epochs
    assert len(saved["test"][metric]) == len(saved["test"]["sources"]) >= units
    assert saved["test"]["unit"] == UNITS[task]
    if metric == "psnr":  # a residual denoiser: test PSNR near the noisy input's (20 dB) or above
        assert min(saved["test"]["psnr"]) > 15 and saved["config"]["residual"] is True
    assert 1 <= saved["best_epoch"] <= saved["epochs_done"] == QUICK.epochs
    assert saved["stop_reason"] == "budget" and saved["converged"] is False
    assert saved["design"]["mirrors"] == variants.design(design).mirrors
    assert doc["parameters"] == saved["parameters"] > 0
    assert (tmp_path / saved["checkpoint"]).is_file()  # seed 0 ships its checkpoint
    monkeypatch.setattr(study_v2, "plan", lambda: [run])
    assert study_v2.run_piece("designs", progress=False) == []  # done: skipped
    with pytest.raises(study_v2.UsageError, match="expected PIECE"):
        study_v2.run_piece("nothing")


def test_cli_errors_are_one_line(capsys) -> None:
    assert study_v2.main(["--run", "everything"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected PIECE to be one of" in err


def _fake(design: str, seed: int, dice: list[float], best: int = 3, width: int = 8) -> dict:
    return {
        "run": {"task": "nuclei_sim", "design": design, "width": width, "depth": 4, "seed": seed},
        "test": {"sources": [f"img{i}" for i in range(len(dice))], "dice": dice},
        "best_epoch": best,
        "epochs_done": 5,
        "stop_reason": "budget" if best == 5 else "plateau",
    }


def test_analyse_names_verdicts_from_result_documents() -> None:
    import numpy as np

    from analysis.study_v2_analysis import report

    rng = np.random.default_rng(0)
    base = 0.9 + rng.normal(0, 0.01, 24)
    docs = []
    for s in range(5):
        jitter = rng.normal(0, 0.001)
        docs.append(_fake("tconv2", s, list(base + jitter), best=5 if s == 0 else 3))
        docs.append(_fake("bilinear_1x1", s, list(base + 0.03 + jitter + rng.normal(0, 0.002))))
        docs.append(_fake("bilinear", s, list(base + jitter + rng.normal(0, 0.0005))))
        docs.append(_fake("bilinear_only", s, list(base + rng.normal(0, 0.03))))
    baselines = {
        "nuclei_sim": {
            "kind": "segmentation",
            "methods": {
                "gaussian_otsu": {
                    "test": {"sources": [f"img{i}" for i in range(24)], "dice": list(base - 0.05)},
                    "test_mean": {"dice": float((base - 0.05).mean())},
                }
            },
        }
    }
    res = study_v2.analyse(docs, baselines)
    fam = {c["name"]: c for c in res["families"]["headline/nuclei_sim/w8/dice"]}
    assert set(fam) == {"bilinear_1x1", "bilinear", "bilinear_only"}
    assert fam["bilinear_1x1"]["verdict"] == "better"
    assert fam["bilinear"]["verdict"] == "equivalent"
    assert fam["bilinear_only"]["verdict"] == "inconclusive"
    assert all(not math.isnan(c["p_diff_holm"]) for c in fam.values())
    assert {c["verdict"] for c in res["vs_baseline"] if c["name"] != "bilinear_only_w8"} == {
        "better"
    }
    # per image, paired: the U-Net side is the seed mean of each image; 24 images, 5 seeds
    vs = {c["name"]: c for c in res["vs_baseline"]}
    assert set(vs) == {f"{d}_w8" for d in study_v2.HEADLINE}
    assert all(c["n_images"] == 24 and c["n_seeds"] == 5 for c in vs.values())
    assert vs["tconv2_w8"]["images_unet_better"] == 24
    unet = np.mean([d["test"]["dice"] for d in docs if d["run"]["design"] == "tconv2"], axis=0)
    assert vs["tconv2_w8"]["diff"] == pytest.approx(float((unet - (base - 0.05)).mean()))
    assert fam["bilinear"]["n_seeds"] == 5 and fam["bilinear"]["n_images"] == 24
    assert fam["bilinear"]["seeds"] == [0, 1, 2, 3, 4]
    assert res["convergence"]["runs"] == 20
    assert res["convergence"]["stopped_by_rule"] == 19
    assert res["convergence"]["budget_and_best_is_last"] == 1
    assert res["convergence"]["share_budget_and_best_is_last"] == 0.05
    text = report(res)
    assert "bilinear_1x1 vs tconv2: better" in text and "n 5 seeds x 24 images" in text
    assert "better on 24/24 images" in text and "1 of those with best epoch == last (5%" in text
    # a cell with one seed: reported with the baselines, absent from the design families
    partial = study_v2.analyse([d for d in docs if d["run"]["seed"] == 0], baselines)
    assert partial["families"] == {} and len(partial["vs_baseline"]) == 4
    assert "no design comparison yet" in report(partial)
    docs[1]["test"]["sources"] = ["other"] * 24
    with pytest.raises(ValueError, match="same test images"):
        study_v2.analyse(docs)


def test_shipped_checkpoints_fit_in_100_mb() -> None:
    mb = study_v2.shipped_megabytes()
    assert 10 < mb < 100, mb
    shipped = {(r.task, r.design) for r in study_v2.plan() if study_v2.ships(r)}
    assert {d for t, d in shipped if t == "nuclei_sim"} == set(variants.DESIGNS)


def test_step_seconds_measures_every_cell() -> None:
    steps = study_v2.step_seconds([("tconv2", 2), ("bilinear_only", 2)], rounds=2, warmup=1)
    assert set(steps) == {"tconv2_w2", "bilinear_only_w2"} and all(v > 0 for v in steps.values())


def test_runs_go_through_the_public_train_with_the_declared_rule(tmp_path, monkeypatch) -> None:
    from antialias import train

    calls = []
    monkeypatch.setattr(train, "train", lambda *a, **k: calls.append((a, k)) or {})
    run = study_v2.Run("designs", "denoise_photos", "tconv2", 2, 2, 3)
    study_v2._train(run, tmp_path / "work")
    (task, design, seed, work, settings), kwargs = calls[0]
    assert (task, design, seed, work) == ("denoise_photos", "tconv2", 3, tmp_path / "work")
    assert kwargs["model_overrides"] == {"depth": 2, "width": 2} and kwargs["resume"] is True
    assert settings.schedule == "plateau" and settings.patience is not None
    assert settings.min_delta == study_v2.MIN_DELTA["regression"] == 0.01
    assert study_v2._settings("nuclei_sim").min_delta == 0.0005


def test_two_workers_never_take_the_same_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(study_v2, "OUT", tmp_path)
    run = study_v2.Run("designs", "nuclei_sim", "tconv2", 2, 2, 0)
    with study_v2._claim(run) as first:
        with study_v2._claim(run) as second:
            assert first is True and second is False
    with study_v2._claim(run) as again:
        assert again is True, "released after use"


def test_bench_designs_measures_every_design_in_interleaved_rounds() -> None:
    import importlib.util

    import torch

    path = study_v2.ROOT / "benchmarks" / "bench_designs.py"
    spec = importlib.util.spec_from_file_location("bench_designs", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    designs = ("tconv2", "bilinear_only")
    cpu = torch.device("cpu")
    small = bench.measure(designs, 2, 32, 1, rounds=2, device=cpu, warmup=0)
    big = bench.measure(designs, 2, 32, 2, rounds=1, device=cpu, warmup=0)
    assert set(small) == set(designs)
    assert small["tconv2"]["train_step_ratio_to_tconv2"] == 1.0  # itself, in every round
    for d in designs:
        assert small[d]["forward_median_s"] > 0 and small[d]["train_step_median_s"] > 0
        lo, hi = small[d]["forward_ratio_range"]
        assert lo <= small[d]["forward_ratio_to_tconv2"] <= hi
        # saved activations about double with the batch (BN statistics do not); weights,
        # grads and Adam moments (16 bytes per parameter) do not change
        fixed = 16 * small[d]["parameters"]
        ratio = (big[d]["peak_bytes"] - fixed) / (small[d]["peak_bytes"] - fixed)
        assert 1.8 < ratio <= 2.0, (d, ratio)


def test_a_width_matched_twin_is_paired_with_its_reference_at_the_matched_width() -> None:
    from analysis.study_v2_analysis import design_families

    rng = np.random.default_rng(0)

    def doc(design: str, width: int, seed: int, shift: float) -> dict:
        dice = (0.9 + shift + 0.01 * rng.standard_normal(6)).tolist()
        run = {"task": "nuclei_sim", "design": design, "width": width, "seed": seed}
        return {"run": run, "test": {"dice": dice, "sources": [f"i{k}" for k in range(6)]}}

    docs = [doc("tconv2", 8, s, 0.0) for s in range(3)]
    docs += [doc("tconv4", 7, s, 0.0) for s in range(3)]  # the twin, matched to width 8
    ref = {"tconv4": "tconv2"}
    assert design_families(docs, ("tconv2",), ref) == {}  # no tconv2 at width 7: no pair
    fams = design_families(docs, ("tconv2",), ref, {("tconv4", 7): 8})
    (row,) = fams["twins/nuclei_sim/w8/dice"]
    assert (row["name"], row["reference"], row["width"], row["twin"]) == (
        "tconv4",
        "tconv2",
        7,
        True,
    )
    assert row["seeds"] == [0, 1, 2] and row["verdict"] in stats.VERDICTS


def test_a_crossed_pair_is_a_second_family_beside_the_reference_pair() -> None:
    from analysis.study_v2_analysis import design_families

    rng = np.random.default_rng(1)

    def doc(design: str, seed: int, shift: float) -> dict:
        dice = (0.9 + shift + 0.001 * rng.standard_normal(6)).tolist()
        run = {"task": "nuclei_sim", "design": design, "width": 8, "seed": seed}
        return {"run": run, "test": {"dice": dice, "sources": [f"i{k}" for k in range(6)]}}

    docs = [doc("bilinear_1x1", s, 0.0) for s in range(3)]
    docs += [doc("blurpool_bilinear_1x1", s, 0.0) for s in range(3)]
    docs += [doc("blurpool_tconv2", s, 0.02) for s in range(3)]  # clearly better: "worse" rows
    ref = {"blurpool_bilinear_1x1": "bilinear_1x1", "blurpool_tconv2": "tconv2"}
    crossed = {"blurpool_bilinear_1x1": "blurpool_tconv2"}
    assert set(design_families(docs, ("tconv2",), ref)) == {"designs/nuclei_sim/w8/dice"}
    fams = design_families(docs, ("tconv2",), ref, crossed=crossed)
    (row,) = fams["crossed/nuclei_sim/w8/dice"]
    assert (row["name"], row["reference"]) == ("blurpool_bilinear_1x1", "blurpool_tconv2")
    assert row["diff"] < -0.015 and row["verdict"] == "worse"
    (same,) = fams["designs/nuclei_sim/w8/dice"]  # the encoder pair is still made
    assert (same["name"], same["reference"]) == ("blurpool_bilinear_1x1", "bilinear_1x1")


def test_the_crossed_pairs_are_designs_of_the_plan() -> None:
    from antialias import variants

    for design, ref in study_v2.CROSSED.items():
        assert design in variants.DESIGNS and ref in variants.DESIGNS
        assert variants.DESIGNS[design].encoder == variants.DESIGNS[ref].encoder
        assert study_v2.REFERENCE[design] != ref


def test_compute_sums_the_measured_seconds_per_piece() -> None:
    from analysis.study_v2_analysis import compute

    docs = [
        {"run": {"piece": "a"}, "wall_seconds": 1800.0},
        {"run": {"piece": "a"}, "wall_seconds": 1800.0},
        {"run": {"piece": "b"}, "wall_seconds": 7200.0},
    ]
    cost = compute(docs, workers=2)
    assert cost["core_hours_per_piece"] == {"a": 1.0, "b": 2.0}
    assert cost["core_hours"] == pytest.approx(3.0) and cost["wall_hours"] == pytest.approx(1.5)


def test_pooled_widths_is_one_holm_family_across_widths_beside_the_declared_verdicts() -> None:
    from analysis.study_v2_analysis import pooled_widths

    def row(name: str, p_diff: float) -> dict:
        c = stats.Comparison(name, "tconv2", "dice", 5, 24, -0.006, (-0.009, -0.003),
                             (-0.008, -0.004), -2.0, p_diff, 0.6, 0.005, True)  # fmt: skip
        (c,) = stats.adjust_family([c])  # the declared family: one width
        return {**dataclasses.asdict(c), "verdict": stats.verdict(c), "width": 0}

    fams = {
        "headline/nuclei_sim/w8/dice": [row("bilinear", 0.02), row("bilinear_only", 0.9)],
        "headline/nuclei_sim/w16/dice": [row("bilinear", 0.5)],
        "designs/nuclei_sim/w8/dice": [row("aps", 0.001)],  # not a headline family: left out
    }
    assert fams["headline/nuclei_sim/w8/dice"][0]["verdict"] == "worse"  # 0.02 alone
    (rows,) = pooled_widths(fams).values()
    assert [(r["name"], r["width"]) for r in rows] == [
        ("bilinear", 8),
        ("bilinear_only", 8),
        ("bilinear", 16),
    ]
    first = rows[0]
    assert first["p_diff_holm_pooled"] == pytest.approx(0.06)  # 3 x 0.02 (Holm, smallest)
    assert (first["declared_verdict"], first["pooled_verdict"]) == ("worse", "inconclusive")
    assert all(r["family_size"] == 3 for r in rows)
