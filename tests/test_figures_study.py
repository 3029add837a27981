"""figures/fig4-9 and figures/make_all.py: files from a tiny study, clear errors without one."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from _study_fixture import build

from figures import (
    fig4_shift_vs_offset,
    fig5_period_maps,
    fig6_fractional,
    fig7_tradeoff,
    fig8_example,
    fig9_per_layer,
    make_all,
)

FIGURES = (
    fig4_shift_vs_offset,
    fig5_period_maps,
    fig6_fractional,
    fig7_tradeoff,
    fig8_example,
    fig9_per_layer,
)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    before = torch.get_num_threads()
    try:
        return build(tmp_path_factory.getbasetemp() / "tiny_study")[0]
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("module", FIGURES, ids=lambda m: m.NAME)
def test_figure_files(module, results: Path, tmp_path: Path) -> None:
    assert module.main(["--results", str(results), "--out", str(tmp_path)]) == 0
    for ext in ("png", "pdf"):
        path = tmp_path / f"{module.NAME}.{ext}"
        assert path.is_file() and path.stat().st_size > 5000, path
    assert not list(tmp_path.glob(".*")), "temporary files left behind"


@pytest.mark.parametrize("module", FIGURES, ids=lambda m: m.NAME)
def test_missing_results(module, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert module.main(["--results", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "python -m analysis.study" in err[0], err
    assert not list(tmp_path.glob("*.png"))


def test_incomplete_results(results: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(results, broken)
    doc = json.loads((broken / "study.json").read_text())
    del doc["tasks"]["nuclei"]["crop"]
    del doc["example"]
    (broken / "study.json").write_text(json.dumps(doc))
    for module, needle in (
        (fig4_shift_vs_offset, "'crop'"),
        (fig8_example, "'example'"),
        (fig7_tradeoff, "'crop'"),
    ):
        assert module.main(["--results", str(broken), "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err


def test_missing_speed(results: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(results, broken)
    (broken / "speed.json").unlink()
    assert fig7_tradeoff.main(["--results", str(broken), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "python -m analysis.speed" in err[0], err


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fig4_shift_vs_offset.main(["--bogus"]) == 2
    (tmp_path / "file").write_text("x")
    assert fig4_shift_vs_offset.main(["--out", str(tmp_path / "file")]) == 2
    assert "expected --out to be a folder" in capsys.readouterr().err


def _script(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(f"import sys\n{body}\n")


def test_make_all_reports_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _script(tmp_path, "fig_a", "print('wrote a')")
    _script(
        tmp_path, "fig_b", "print('fig_b: error: missing results x', file=sys.stderr)\nsys.exit(2)"
    )
    _script(tmp_path, "not_a_figure", "sys.exit(3)")
    assert make_all.main(["--dir", str(tmp_path), "--jobs", "2"]) == 1
    captured = capsys.readouterr()
    assert "fig_a.py" in captured.out and "ok" in captured.out
    assert "FAILED (exit 2)" in captured.out and "missing results x" in captured.out
    assert "not_a_figure" not in captured.out
    assert "1 figure script(s) failed: fig_b.py" in captured.err
    assert make_all.main(["--dir", str(tmp_path), "--only", "fig_a"]) == 0
    assert "1/1 figures" in capsys.readouterr().out


def test_make_all_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert make_all.main(["--jobs", "0"]) == 2
    assert make_all.main(["--dir", str(tmp_path / "none")]) == 2
    assert make_all.main(["--dir", str(tmp_path)]) == 2  # no scripts
    assert "no figure scripts" in capsys.readouterr().err


def test_make_all_finds_every_figure_script() -> None:
    todo, skipped = make_all.scripts()
    names = {p.stem for p in todo} | {s.split(" ")[0][:-3] for s in skipped}
    for n in range(4, 10):
        assert any(name.startswith(f"fig{n}_") for name in names), n
    assert all(p.parent == make_all.FIGURES_DIR for p in todo)
    assert sys.executable  # the scripts run with this interpreter


def test_fig5_marks_cells_exact_to_rounding_not_equal_to_zero() -> None:
    cells = fig5_period_maps.exact_cells
    # agreement: a float64 ratio of counts; one changed pixel in a million is a real change
    agreement = np.array([[1.0, 1.0 - 2e-16], [1.0 - 1e-6, np.nan]])
    assert cells(agreement, "segmentation").tolist() == [[True, True], [False, False]]
    # PSNR: 342-352 dB is what float64 rounding gives on AVX-512 (was "not inf", now exact)
    psnr = np.array([np.inf, 342.0, 200.0, 60.0, np.nan])
    assert cells(psnr, "regression", "float64").tolist() == [True, True, False, False, False]
    # float32's rounding level is 90.3 dB: 200 dB is exact there, 60 dB is not
    assert cells(psnr, "regression", "float32").tolist() == [True, True, True, False, False]


def test_fig5_reads_the_dtype_the_study_recorded(results: Path) -> None:
    study = fig5_period_maps.load_study(results)
    assert fig5_period_maps.recorded_dtype(study, "nuclei") in ("float32", "float64")
    study.doc["tasks"]["nuclei"]["period"]["dtype"] = "torch.float64"
    assert fig5_period_maps.recorded_dtype(study, "nuclei") == "float64"
    del study.doc["tasks"]["nuclei"]["period"]["dtype"]
    study.doc["config"] = {}
    assert fig5_period_maps.recorded_dtype(study, "nuclei") == "float32"  # unknown: float32


def test_make_all_points_every_script_at_the_results_and_out_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts, results, out = tmp_path / "s", tmp_path / "res", tmp_path / "figs"
    scripts.mkdir()
    results.mkdir()
    _script(scripts, "fig_a", "print('argv', sys.argv[1:], file=sys.stderr)")
    assert make_all.main(["--dir", str(scripts), "--results", str(results), "--out", str(out)]) == 0
    # make_all prints the last stderr line only of failures: run one that fails to see argv
    _script(scripts, "fig_b", "print('argv', sys.argv[1:], file=sys.stderr)\nsys.exit(2)")
    assert make_all.main(["--dir", str(scripts), "--results", str(results), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert f"['--results-root', '{results}', '--out', '{out}']" in text, text
    # the tutorial diagrams need the tutorial's results in *that* tree
    _script(scripts, "fig_transposed_x", "sys.exit(0)")
    todo, skipped = make_all.scripts(scripts, "fig_transposed_", results)
    assert todo == [] and "transposed_tutorial" in skipped[0]
    assert make_all.main(["--results", str(tmp_path / "none")]) == 2
    assert "expected --results to be a folder" in capsys.readouterr().err


def test_fig4_paired_differences_are_the_studys_own(results: Path) -> None:
    """Over every non-zero shift, the figure's paired difference is study.json's paired_all."""
    from figures._study_common import (
        load_piece_sums,
        load_study,
        paired_to_reference,
        shift_groups,
    )

    study = load_study(results)
    ps = load_piece_sums(study, "crop", "nuclei")
    groups = shift_groups(ps.shifts, ps.period)
    assert groups["all"] and 0 not in groups["all"]  # the zero shift is never compared
    assert sorted(groups["on"] + groups["off"]) == groups["all"]
    mine = paired_to_reference(study, ps, "tconv2", groups["all"])
    table = study.get("tasks", "nuclei", "crop", "paired_all")
    for v, d in mine.items():
        ref = table[v]["tconv2"]  # agreement, design minus tconv2
        # label changes in % points = -100 x agreement difference; the interval flips
        assert d["diff"] == pytest.approx(-100 * ref["diff"], abs=1e-12)
        assert d["lo"] == pytest.approx(-100 * ref["hi"], abs=1e-12)
        assert d["hi"] == pytest.approx(-100 * ref["lo"], abs=1e-12)


def test_fig9_marks_exact_cells_apart_from_small_errors(results: Path) -> None:
    """An error at float32 rounding reads "exact"; 1e-4 (above the bound) is printed."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    grid = np.array([[0.0, 1e-6, 1e-4, np.nan]])
    fig, ax = plt.subplots()
    fig9_per_layer._heatmap(
        ax,
        grid,
        ["tconv2"],
        ["a", "b", "c", "d"],
        [1, 1, 1, 1],
        "float32",
        LogNorm(1e-5, 1),
        True,
    )
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert texts == ["exact", "exact", "1e-04", "-"]


def test_fig9_cell_intervals_collapse_without_spread() -> None:
    """One seed and identical images: the interval is the value, sqrt(err^2 / ref^2), by hand."""
    from figures._study_common import PieceSums

    shifts = np.array([[0, 0], [0, 1], [0, 2], [0, 8]], dtype=float)
    sums = np.zeros((1, 3, 4, 2, 2, 3))  # (seeds, images, shifts, regions, levels, 3)
    sums[..., 0], sums[..., 1], sums[..., 2] = 0.04, 4.0, 1.0  # error 0.1 everywhere
    sums[:, :, 0] = 0.0  # the zero shift: nothing to compare
    ps = PieceSums("segmentation", shifts, 8, {"tconv2": sums}, {"tconv2": ["x"]})
    value, lo, hi = fig9_per_layer._grid(ps, ["tconv2"], [1, 2], 8, "off", n_boot=50)
    # the level of stride 2 compares only the shift 2 (off) and 8 (on); stride 1 both 1 and 2
    expected = np.sqrt(0.04 / 4.0)
    for a in (value, lo, hi):
        assert np.abs(a - expected).max() < 1e-12, a
    on = fig9_per_layer._grid(ps, ["tconv2"], [1, 2], 8, "on", n_boot=50)[0]
    assert np.abs(on - expected).max() < 1e-12
    sums[0, 0, 1:, 1, :, 0] = 0.16  # one image with error 0.2 on its own: the interval opens
    value, lo, hi = fig9_per_layer._grid(ps, ["tconv2"], [1, 2], 8, "off", n_boot=200)
    assert (lo < value).all() and (value < hi).all(), (lo, value, hi)


def test_fig9_draws_on_period_rows_only_for_adaptive_designs(results: Path) -> None:
    """The tiny study has no APS design: (b) draws no row and states the largest residue."""
    import matplotlib.pyplot as plt

    from figures._study_common import load_study

    fig = fig9_per_layer.draw(load_study(results))
    titles = [ax.get_title() for ax in fig.axes]
    b = next(t for t in titles if t.startswith("(b)"))
    assert "the other 2 designs: every stride divides the shift" in b, b
    assert "largest residue" in b, b
    cells = [t.get_text() for t in fig.axes[0].texts]
    measured = [c for c in cells if c not in ("exact", "-")]
    assert measured and all("[" in c and "]" in c for c in measured), cells
    plt.close(fig)


def test_fig8_names_its_data_and_every_checkpoint_path(results: Path) -> None:
    import matplotlib.pyplot as plt

    from figures._study_common import load_study

    study = load_study(results)
    fig = fig8_example.draw(study)
    text = "\n".join(t.get_text() for t in fig.findobj(plt.Text))
    plt.close(fig)
    ex = study.get("example")
    for rec in ex["results"]:
        assert rec["source"] and rec["source"] in text, (rec["source"], text)
    assert ex["image_source"] in text
    if ex["image_source"].startswith("dsb2018"):
        assert "stardist 0.9.2 data/images/img2d.tif" in text


def test_fig7_tags_of_coinciding_points_do_not_overlap() -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 3))
    ax.plot([0, 0, 0, 1], [0, 0, 0, 1], "o")
    tags = [(0.0, 0.0, "1", "k"), (0.0, 0.0, "2", "k"), (0.0, 0.0, "3", "k"), (1.0, 1.0, "4", "k")]
    fig.canvas.draw()
    fig7_tradeoff.place_tags(ax, tags)
    offsets = [a.xyann for a in ax.texts]
    plt.close(fig)
    assert len(offsets) == 4
    assert len(set(offsets[:3])) == 3, offsets  # one point, three different places
    assert offsets[3] == fig7_tradeoff.TAG_OFFSETS[0]  # a lone point keeps the first place
