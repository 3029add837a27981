"""The paper's study-v2 section: words and numbers come from the analysis document only."""

from __future__ import annotations

from analysis.paper.study_v2 import study_v2_lines


def _comparison(name: str, verdict: str, diff: float) -> dict:
    return {
        "name": name,
        "reference": "tconv2",
        "metric": "dice",
        "verdict": verdict,
        "diff": diff,
        "ci95": [diff - 0.004, diff + 0.004],
        "p_diff_holm": 0.5,
        "p_tost_holm": 0.15,
        "margin": 0.005,
        "n_seeds": 5,
        "n_images": 24,
    }


def test_no_analysis_gives_no_section() -> None:
    assert study_v2_lines(None) == []
    assert study_v2_lines({"families": {}}) == []


def test_each_comparison_carries_its_verdict_interval_and_units() -> None:
    doc = {
        "families": {"headline/nuclei_sim/w8/dice": [_comparison("bilinear_1x1", "worse", -0.01)]},
        "convergence": {"runs": 20, "stopped_by_rule": 19, "hit_budget": 1},
        "vs_baseline": [
            {
                "name": "tconv2_w8",
                "reference": "gaussian_otsu",
                "verdict": "better",
                "diff": 0.03,
                "ci95": [0.02, 0.04],
            }
        ],
    }
    text = "\n".join(study_v2_lines(doc))
    assert "1x1 conv (coarse) + bilinear (as MONAI UpSample" in text  # label and what it mirrors
    assert "**worse** (dice -0.0100 [-0.0140, -0.0060]" in text
    assert "5 seeds x 24 independent images" in text
    assert "19 stopped by the plateau rule, 1 hit the epoch budget" in text
    assert "tconv2_w8 **better**" in text and "+0.0300 [+0.0200, +0.0400]" in text


def test_the_heading_says_so_far_until_every_piece_is_done(tmp_path) -> None:
    fams = {"headline/nuclei_sim/w8/dice": [_comparison("bilinear", "worse", -0.01)]}
    partial = {"families": fams, "plan": {"a": {"planned": 2, "done": 1}}}
    done = {"families": fams, "plan": {"a": {"planned": 2, "done": 2}}}
    assert "Study v2 so far:" in study_v2_lines(partial)[0]
    assert study_v2_lines(done)[0].startswith("### Study v2: ")
    assert "every piece is complete" in "\n".join(study_v2_lines(done))
    (tmp_path / "fig11_study_v2_designs.png").write_bytes(b"")
    figs = [x for x in study_v2_lines(done, tmp_path) if x.startswith("![")]
    assert figs == [x for x in figs if "fig11_study_v2_designs.png" in x] and len(figs) == 1
