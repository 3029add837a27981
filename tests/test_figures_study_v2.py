"""Figure 10 draws what analysis.json holds: differences, intervals and verdict words."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from figures import fig10_study_v2 as fig10  # noqa: E402


def _cell(name: str, diff: float, word: str) -> dict:
    return {"name": name, "reference": "tconv2", "diff": diff, "ci95": [diff - 0.002, diff + 0.001],
            "verdict": word, "n_seeds": 5, "n_images": 24}  # fmt: skip


def _doc() -> dict:
    return {
        "families": {
            "headline/nuclei_sim/w8/dice": [
                _cell("bilinear_1x1", 0.0011, "equivalent"),
                _cell("bilinear", -0.0042, "worse"),
            ]
        },
        "speed": [],
        "margins": {"dice": {"value": 0.005}},
    }


def test_points_and_words_come_from_the_file(tmp_path: Path) -> None:
    fig = fig10.draw(_doc())
    ax = fig.axes[0]
    points = [line for line in ax.lines if line.get_marker() not in ("_", "|", "None", "")]
    ys = sorted(float(np.ravel(line.get_ydata())[0]) for line in points)
    assert np.allclose(ys, [-0.0042, 0.0011])
    words = {t.get_text() for t in ax.texts}
    assert {"equivalent", "worse"} <= words
    texts = " ".join(t.get_text() for t in fig.axes[2].texts)
    assert "not" in texts and "benchmarked" in texts  # no speed data: said, not drawn
    plt.close(fig)


def test_no_headline_family_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "analysis.json").write_text(json.dumps({"families": {}}))
    assert fig10.main(["--results", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no headline comparison" in err
    assert not (tmp_path / "o").exists()
