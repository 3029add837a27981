"""Figure 11 draws what analysis.json holds: one row per comparison, grouped by family."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from figures import fig11_study_v2_designs as fig11  # noqa: E402


def _cell(name: str, ref: str, diff: float, word: str, **extra: object) -> dict:
    return {"name": name, "reference": ref, "diff": diff, "ci95": [diff - 0.003, diff + 0.002],
            "verdict": word, "n_seeds": 3, "n_images": 24, "metric": "dice", **extra}  # fmt: skip


def _doc() -> dict:
    return {
        "families": {
            "headline/nuclei_sim/w8/dice": [_cell("bilinear", "tconv2", 0.5, "worse")],
            "twins/nuclei_sim/w8/dice": [
                _cell("tconv4", "tconv2", -0.004, "inconclusive", width=7, twin=True)
            ],  # fmt: skip
            "designs/nuclei_sim/w8/dice": [
                _cell("aps_zeros", "aps", -0.012, "worse"),
                _cell("blurpool_tconv2", "tconv2", 0.001, "equivalent"),
            ],
        },
        "margins": {"dice": {"value": 0.005}},
    }


def test_rows_points_and_words_come_from_the_file() -> None:
    fig = fig11.draw(_doc())
    ax = fig.axes[0]
    points = [line for line in ax.lines if line.get_marker() not in ("_", "|", "None", "")]
    xs = sorted(float(np.ravel(line.get_xdata())[0]) for line in points)
    assert np.allclose(xs, [-0.012, -0.004, 0.001])  # the headline family is figure 10's
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("APS") and "(w7)" in labels[2]  # designs first, twins last
    words = " ".join(t.get_text() for t in ax.texts)
    assert "worse (3 seeds)" in words and "equivalent (3 seeds)" in words
    plt.close(fig)


def test_no_designs_family_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    doc = {"families": {"headline/nuclei_sim/w8/dice": [_cell("bilinear", "tconv2", 0, "x")]}}
    (tmp_path / "analysis.json").write_text(json.dumps(doc))
    assert fig11.main(["--results", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no designs, crossed or twins comparison" in err
    assert not (tmp_path / "o").exists()
