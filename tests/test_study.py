"""analysis/study.py, analysis/speed.py and analysis/write_paper.py on a tiny study.

Cross-checks: the study's accuracy against the training code's ``evaluate``; its pooled and
per-shift values, period maps and per-level errors against the records that
``analysis/shift_consistency.py`` writes itself; the seeds x images bootstrap against
``antialias.metrics.bootstrap_ci`` (one seed) and a naive loop (several seeds).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from _study_fixture import build

from analysis import speed as sp
from analysis import study as st
from analysis import write_paper as wp
from antialias import metrics as M
from antialias.files import read_result_set

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    return build(tmp_path_factory.getbasetemp() / "tiny_study")


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _agreement(c: np.ndarray) -> np.ndarray:
    return M.agreement(M.agreement_from_confusion(c))


# ----------------------------------------------------------------------------------------------
# the bootstrap


def test_seed_image_stats_one_seed_equals_bootstrap_ci() -> None:
    rng = np.random.default_rng(1)
    sums = rng.integers(0, 50, size=(1, 7, 4, 2, 2)).astype(np.float64)  # (S, N, shifts, K, K)
    got = st.seed_image_stats(sums, _agreement, n_boot=300, seed=5)
    lo, hi = M.bootstrap_ci(sums[0], _agreement, n_boot=300, seed=5)
    np.testing.assert_array_equal(got["lo"], lo)
    np.testing.assert_array_equal(got["hi"], hi)
    np.testing.assert_allclose(got["mean"], _agreement(sums[0].sum(0)), rtol=0, atol=1e-15)
    assert np.all(np.isnan(got["std"]))


def test_seed_image_stats_matches_a_naive_two_level_loop() -> None:
    rng = np.random.default_rng(2)
    sums = rng.integers(1, 30, size=(3, 5, 2)).astype(np.float64)  # (S, N, [num, den])
    n_boot = 200
    got = st.seed_image_stats(sums, M.agreement, n_boot=n_boot, seed=3)
    per_seed = [float(M.agreement(sums[s].sum(0))) for s in range(3)]
    np.testing.assert_allclose(got["per_seed"], per_seed, rtol=0, atol=1e-15)
    assert got["std"] == pytest.approx(np.std(per_seed, ddof=1), abs=1e-15)
    img = M.bootstrap_counts(5, n_boot, 3)
    seeds = M.bootstrap_counts(3, n_boot, 4)
    means = []
    for b in range(n_boot):
        vals = []
        for s in range(3):
            for _ in range(int(seeds[b, s])):  # seed s drawn this many times
                vals.append(float(M.agreement((img[b][:, None] * sums[s]).sum(0))))
        means.append(np.mean(vals))
    means = np.sort(means)
    lo, hi = means[int(np.floor(0.025 * n_boot))], means[int(np.ceil(0.975 * n_boot)) - 1]
    assert abs(got["lo"] - lo) < 1e-12 and abs(got["hi"] - hi) < 1e-12, (got, lo, hi)
    assert got["lo"] <= got["mean"] <= got["hi"]


def test_paired_diff_matches_a_naive_loop() -> None:
    rng = np.random.default_rng(4)
    a = rng.integers(1, 40, size=(2, 6, 2)).astype(np.float64)  # (S, N, [num, den])
    b = rng.integers(1, 40, size=(3, 6, 2)).astype(np.float64)
    b[..., 1] += a[0, :, 1]  # different images sizes, shared across variants
    n_boot = 150
    got = st.paired_diff_stats(a, b, M.agreement, n_boot=n_boot, seed=7)
    img = M.bootstrap_counts(6, n_boot, 7)
    wa, wb = M.bootstrap_counts(2, n_boot, 8), M.bootstrap_counts(3, n_boot, 9)
    diffs = []
    for k in range(n_boot):
        ma = sum(wa[k, s] * float(M.agreement((img[k][:, None] * a[s]).sum(0))) for s in range(2))
        mb = sum(wb[k, s] * float(M.agreement((img[k][:, None] * b[s]).sum(0))) for s in range(3))
        diffs.append(ma / 2 - mb / 3)
    diffs = np.sort(diffs)
    want = np.mean([M.agreement(a[s].sum(0)) for s in range(2)]) - np.mean(
        [M.agreement(b[s].sum(0)) for s in range(3)]
    )
    assert got["diff"] == pytest.approx(want, abs=1e-15)
    assert got["lo"] == pytest.approx(diffs[int(np.floor(0.025 * n_boot))], abs=1e-12)
    assert got["hi"] == pytest.approx(diffs[int(np.ceil(0.975 * n_boot)) - 1], abs=1e-12)


def test_paired_diff_of_a_variant_with_itself_is_zero() -> None:
    a = np.random.default_rng(5).integers(1, 9, size=(1, 4, 2)).astype(np.float64)
    got = st.paired_diff_stats(a, a.copy(), M.agreement, n_boot=50)
    assert got == {"diff": 0.0, "lo": 0.0, "hi": 0.0}
    with pytest.raises(ValueError, match="expected the same images"):
        st.paired_diff_stats(a, a[:, :3], M.agreement)


def test_seed_image_stats_rejects_bad_shape() -> None:
    with pytest.raises(ValueError, match="expected sums of shape"):
        st.seed_image_stats(np.zeros(3), M.agreement)


# ----------------------------------------------------------------------------------------------
# the tiny study


def test_pieces_and_files(tiny) -> None:
    out, _cfg, results = tiny
    assert set(results) == {
        "accuracy_nuclei",
        "crop_nuclei",
        "period_nuclei",
        "fractional_nuclei",
        "layers_nuclei",
        "example",
        "speed",
    }
    for stem in results:
        assert (out / f"{stem}.json").is_file() and (out / f"{stem}.npz").is_file()
    for name in ("study.json", "study.npz", "study.csv"):
        assert (out / name).is_file()
    assert not list(out.glob(".*")), "temporary files left behind"
    doc = json.loads((out / "study.json").read_text())
    assert doc["schema"] == st.SCHEMA
    # one result set each: the JSON names its siblings' digests, and they match
    for stem in (*results, "study"):
        _, siblings = read_result_set(out / f"{stem}.json")
        assert ".npz" in siblings, stem
    assert set(doc["timings"]) == set(results) and all(v > 0 for v in doc["timings"].values())
    assert doc["provenance"]["versions"]["torch"] == torch.__version__
    assert sorted(doc["missing_checkpoints"]) == [
        "nuclei/blurpool_blur_s1",
        "nuclei/blurpool_blur_s2",
        "nuclei/tconv2_s2",
    ]


def test_accuracy_equals_training_code(tiny) -> None:
    out, _cfg, _ = tiny
    doc = json.loads((out / "study.json").read_text())
    acc = doc["tasks"]["nuclei"]["accuracy"]
    for v, e in acc["variants"].items():
        assert e["max_abs_diff_vs_metadata"] < 1e-9, (v, e)
        assert len(e["per_seed"]) == len(e["metadata_per_seed"])
    pair = acc["paired"]["tconv2"]["blurpool_blur"]
    want = acc["variants"]["tconv2"]["mean"] - acc["variants"]["blurpool_blur"]["mean"]
    assert pair["diff"] == pytest.approx(want, abs=1e-12) and pair["lo"] <= pair["hi"]
    crop = doc["tasks"]["nuclei"]["crop"]
    pair = crop["paired_all"]["blurpool_blur"]["tconv2"]
    want = (
        crop["variants"]["blurpool_blur"]["pooled_all"]["mean"]
        - crop["variants"]["tconv2"]["pooled_all"]["mean"]
    )
    assert pair["diff"] == pytest.approx(want, abs=1e-12)


def test_crop_summary_matches_shift_consistency_records(tiny) -> None:
    out, _cfg, results = tiny
    doc = json.loads((out / "study.json").read_text())
    arrays = np.load(out / "study.npz")
    recs = results["crop_nuclei"][0]["results"]
    crop = doc["tasks"]["nuclei"]["crop"]
    assert crop["variants"]["tconv2"]["seeds"] == [0, 1]
    for rec in recs:
        e = crop["variants"][rec["variant"]]
        i = e["seeds"].index(rec["seed"])
        for region, key in (("all", "agreement"), ("interior", "agreement_interior")):
            got = e[f"pooled_{region}"]["per_seed"][i]
            assert got == pytest.approx(rec["summary"][key], abs=1e-12)
            curve = arrays[f"crop_nuclei__{rec['variant']}__{region}__per_seed"][i]
            want = [s[key] for s in rec["shifts"]]
            np.testing.assert_allclose(curve, want, rtol=0, atol=1e-12)
        one = next(s for s in rec["shifts"] if (s["dy"], s["dx"]) == (0, 1))
        assert e["shift1_all"]["per_seed"][i] == pytest.approx(one["agreement"], abs=1e-12)
    solo = crop["variants"]["blurpool_blur"]["pooled_all"]  # one seed: image bootstrap only
    assert math.isnan(solo["std"]) and solo["lo"] <= solo["mean"] <= solo["hi"]


def test_period_maps_match_shift_consistency(tiny) -> None:
    out, _cfg, results = tiny
    arrays = np.load(out / "study.npz")
    recs = [r for r in results["period_nuclei"][0]["results"] if r["variant"] == "tconv2"]
    want = np.mean([np.asarray(r["period_map"]["agreement_interior"], float) for r in recs], 0)
    got = arrays["period_nuclei__tconv2__map_interior"]
    assert got.shape == (8, 8)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_layer_grid_matches_shift_consistency(tiny) -> None:
    out, _cfg, results = tiny
    doc = json.loads((out / "study.json").read_text())
    arrays = np.load(out / "study.npz")
    layers = doc["layers"]
    assert layers["shift_classes"] == [1, 2, 4, 8] and layers["border"] == 8
    assert layers["dtype"] == "float32"  # what "exact to rounding" in the paper is relative to
    # with one seed and one image, class 4 holds the single shift (0, 4)
    rec = next(r for r in results["layers_nuclei"][0]["results"] if r["variant"] == "blurpool_blur")
    grid = arrays["layers_nuclei__blurpool_blur__interior"]
    for j, level in enumerate(layers["levels"]):
        want = [
            e["rel_error_interior"]
            for e in rec["per_layer"]
            if e["level"] == level and (e["dy"], e["dx"]) == (0, 4)
        ]
        if want:
            assert grid[j, 2] == pytest.approx(want[0], abs=1e-12, nan_ok=True)
        else:
            assert np.isnan(grid[j, 2])
    assert np.all(np.isnan(grid[layers["strides"].index(8), :3]))  # bottleneck: shifts < 8


def test_example_arrays(tiny) -> None:
    out, cfg, _ = tiny
    doc = json.loads((out / "study.json").read_text())
    arrays = np.load(out / "study.npz")
    ex = doc["example"]
    assert [r["variant"] for r in ex["results"]] == list(cfg.example_variants)
    valid = arrays["example__valid"]
    assert arrays["example__image"].shape == valid.shape == tuple(ex["size"])
    for r in ex["results"]:
        changed = arrays[f"example__{r['variant']}__changed"]
        assert not np.any(changed & ~valid)
        assert int(changed.sum()) == r["n_changed"] and int(valid.sum()) == r["n_compared"]
        p_ref = arrays[f"example__{r['variant']}__prob_ref"]
        p_back = arrays[f"example__{r['variant']}__prob_shift_back"]
        flips = ((p_ref > 0.5) != (p_back > 0.5)) & valid
        np.testing.assert_array_equal(flips, changed)
    y0, x0, h, w = ex["window"]
    assert h == w == cfg.example_window and y0 + h <= ex["size"][0] and x0 + w <= ex["size"][1]


def test_summarise_only_reproduces_the_summary(tiny, tmp_path: Path) -> None:
    out, _cfg, _ = tiny
    first = json.loads((out / "study.json").read_text())
    doc, arrays = st.summarise(out, n_boot=50, seed=0)
    assert json.dumps(doc["tasks"]) == json.dumps(first["tasks"])  # NaN-safe comparison
    old = np.load(out / "study.npz")
    for k in old.files:
        np.testing.assert_array_equal(arrays[k], old[k])


# ----------------------------------------------------------------------------------------------
# command line and errors


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert st.main(["--checkpoints", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expected a checkpoint folder" in err[0]
    ck = str(tmp_path / "ck")
    (tmp_path / "ck" / "nuclei").mkdir(parents=True)
    assert st.main(["--checkpoints", ck, "--out", str(tmp_path / "o")]) == 2
    assert "expected checkpoints under" in capsys.readouterr().err
    assert st.main(["--checkpoints", ck, "--pieces", "bogus", "--out", str(tmp_path / "o")]) == 2
    assert "expected pieces among" in capsys.readouterr().err
    assert st.main(["--checkpoints", ck, "--variants", "nope", "--out", str(tmp_path / "o")]) == 2
    assert "expected variants among" in capsys.readouterr().err
    assert st.main(["--bogus"]) == 2
    assert not (tmp_path / "o").exists()


def test_require_all_fails_on_missing(
    tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _out, cfg, _ = tiny
    argv = ["--checkpoints", cfg.checkpoints, "--tasks", "nuclei", "--require-all"]
    argv += ["--variants", "tconv2,blurpool_blur", "--out", str(tmp_path / "o")]
    assert st.main([*argv, "--pieces", "example"]) == 2
    assert "3 missing" in capsys.readouterr().err


def test_unknown_piece(tiny) -> None:
    _out, cfg, _ = tiny
    from dataclasses import replace

    with pytest.raises(st.StudyError, match="expected pieces among"):
        st.run(replace(cfg, pieces=("crop", "nope")))


# ----------------------------------------------------------------------------------------------
# speed


def test_speed_records(tiny) -> None:
    _out, _cfg, results = tiny
    res = results["speed"][0]
    recs = {r["variant"]: r for r in res["results"]}
    assert recs["bilinear"]["train_step_ratio"] == 1.0
    assert recs["bilinear"]["forward_ratio"] == 1.0
    for r in recs.values():
        assert r["threads"] == 1 and r["forward_ms"] > 0 and r["train_step_ms"] > 0
        assert len(res["arrays"][f"shipped__t1__{r['variant']}__forward_s"]) == 2


def test_forward_macs_closed_form() -> None:
    # one 3x3 conv, 1 -> 2 channels, on 8x8: 8*8*2*9 multiply-adds
    net = torch.nn.Conv2d(1, 2, 3, padding=1)
    assert sp.forward_macs(net, 8) == 8 * 8 * 2 * 9


def test_speed_config_errors() -> None:
    with pytest.raises(ValueError, match="expected the reference"):
        sp.run({"variants": ("tconv2",), "repeats": 1})
    with pytest.raises(ValueError, match="expected archs among"):
        sp.run({"archs": ("huge",)})
    with pytest.raises(ValueError, match="expected threads"):
        sp.run({"threads": (0,)})
    assert sp.main(["--threads", "x"]) == 2


# ----------------------------------------------------------------------------------------------
# the paper


def test_paper_from_results(tiny, tmp_path: Path) -> None:
    out, _cfg, _ = tiny
    target = tmp_path / "paper.md"
    assert wp.main(["--results", str(out), "--out", str(target)]) == 0
    text = target.read_text()
    for heading in (
        "## 1. The question",
        "## 2. Setup",
        "## 3. Results",
        "## 4. Conclusion",
        "## 5. Limitations",
    ):
        assert heading in text
    for n in (4, 5, 6, 7, 8, 9):
        assert f"](../figures/fig{n}_" in text
    assert "transposed_convolution.md" in text
    doc = json.loads((out / "study.json").read_text())
    acc = doc["tasks"]["nuclei"]["accuracy"]["variants"]["tconv2"]
    assert f"{acc['mean']:.4f} ± {acc['std']:.4f}" in text  # the table is the file's numbers


def test_paper_missing_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert wp.main(["--results", str(tmp_path), "--out", str(tmp_path / "p.md")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "python -m analysis.study" in err[0]
    assert not (tmp_path / "p.md").exists()


# ----------------------------------------------------------------------------------------------
# structure: no cycle between speed and study, no private names across rooms

_ROOMS = ("analysis/study", "analysis/paper", "analysis/tutorial", "antialias/tools")
_SCRIPTS = ("speed", "write_paper", "transposed_tutorial", "learned_kernels", "spectra")


def test_speed_does_not_import_the_study() -> None:
    import subprocess
    import sys

    code = "import sys, analysis.speed; sys.exit('analysis.study' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_no_private_names_imported_across_modules() -> None:
    import ast

    files = [p for room in _ROOMS for p in (REPO / room).glob("*.py")]
    files += [REPO / "analysis" / f"{name}.py" for name in _SCRIPTS]
    bad = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            # the shared foundation's modules are private by name, public by design
            shared = ("_cli", "_checks") if node.module == "antialias" else ()
            names = [a.name for a in node.names if a.name[0] == "_" and a.name not in shared]
            bad += [f"{path.name}: {node.module}.{name}" for name in names]
    assert len(files) > 20 and not bad, bad
