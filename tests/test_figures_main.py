"""figures/_main.py: the one command line and results reader every figure script uses."""

from __future__ import annotations

import importlib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from antialias.files import npz_bytes, write_result_set
from figures import _main
from figures._main import ResultsError, figure_main, read_results

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def _pair(folder: Path, value: float = 1.0) -> Path:
    write_result_set(folder, "thing", {"value": value}, {".npz": npz_bytes({"x": np.arange(3.0)})})
    return folder


def _draw(loaded: tuple[dict, dict]) -> plt.Figure:
    doc, arrays = loaded
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(arrays["x"] * doc["value"])
    return fig


def _main_of(argv: list[str]) -> int:
    return figure_main(
        argv,
        name="fig_test",
        description="a test figure",
        folder="things",
        load=lambda d: read_results(d, "thing", "python -m make_things"),
        draw=_draw,
    )


def test_read_results_checks_the_pair(tmp_path: Path) -> None:
    doc, arrays = read_results(_pair(tmp_path), "thing", "cmd")
    assert doc == {"value": 1.0} and arrays["x"].tolist() == [0.0, 1.0, 2.0]
    # a new NPZ beside the old JSON (an interrupted write) is not read as a result
    (tmp_path / "thing.npz").write_bytes(npz_bytes({"x": np.zeros(3)}))
    with pytest.raises(ResultsError, match=r"does not belong.*rerun `cmd`"):
        read_results(tmp_path, "thing", "cmd")
    with pytest.raises(ResultsError, match=r"missing results file .*run `cmd` first"):
        read_results(tmp_path / "none", "thing", "cmd")
    (tmp_path / "thing.json").write_text("[1]")
    with pytest.raises(ResultsError, match="rerun `cmd`"):
        read_results(tmp_path, "thing", "cmd")


def test_results_and_results_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _pair(tmp_path / "tree" / "things")
    out = tmp_path / "out"
    assert _main_of(["--results-root", str(tmp_path / "tree"), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fig_test.pdf", "fig_test.png"]
    assert _main_of(["--results", str(tmp_path / "tree" / "things"), "--out", str(out)]) == 0
    assert f"wrote {out / 'fig_test.png'}" in capsys.readouterr().out
    # the default is results/<folder> of the repository
    assert _main.RESULTS_DIR == FIGURES.parent / "results"


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--results", "a", "--results-root", "b"], "not allowed with argument"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_argument_errors_are_one_line(argv, needle, capsys) -> None:
    assert _main_of(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and err.startswith("python figures/"), err


def test_help_exits_0(capsys) -> None:
    assert _main_of(["--help"]) == 0
    assert "--results-root" in capsys.readouterr().out


def test_a_failing_draw_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    def broken(_: object) -> plt.Figure:
        plt.figure()
        raise ResultsError("expected the key 'y'; run `cmd`")

    out = tmp_path / "out"
    code = figure_main(
        ["--results", str(_pair(tmp_path / "r")), "--out", str(out)],
        name="fig_test",
        description="d",
        folder="things",
        load=lambda d: read_results(d, "thing", "cmd"),
        draw=broken,
    )
    assert code == 2 and not out.exists()
    assert capsys.readouterr().err == "fig_test: error: expected the key 'y'; run `cmd`\n"
    assert plt.get_fignums() == []  # nothing left open


@pytest.mark.parametrize("name", sorted(p.stem for p in FIGURES.glob("fig*.py")))
def test_every_figure_script_uses_figure_main(name: str, tmp_path: Path, capsys) -> None:
    module = importlib.import_module(f"figures.{name}")
    assert module.figure_main is figure_main, name
    assert module.main(["--results", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing results file" in err, err
    assert not (tmp_path / "o").exists()


def test_saved_figures_follow_the_umask(tmp_path: Path) -> None:
    import os

    from figures.style import save_figure

    old = os.umask(0o022)
    try:
        fig, _ = plt.subplots(figsize=(1, 1))
        written = save_figure(fig, "f", tmp_path)
    finally:
        os.umask(old)
    assert [p.name for p in written] == ["f.png", "f.pdf"]
    assert all((p.stat().st_mode & 0o777) == 0o644 for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png"]  # no temporaries
