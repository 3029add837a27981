"""The verdict table's study-v2 rows: speed from per-round benchmark times, accuracy from the
analysis file's verdict words, the declared "what to choose" rule.

Expected speed verdicts are recomputed here with antialias.stats; accuracy words are the
constructed analysis's own (the rows must copy them, never re-decide them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from analysis import study_v2_analysis as v2a  # noqa: E402
from analysis.paper import answer, verdicts, verdicts_v2  # noqa: E402
from analysis.paper.results import LABEL  # noqa: E402
from antialias import stats  # noqa: E402

CONFIG = {**v2a.SPEED_DECLARED, "device": "cpu", "rounds": 6}


def _speed_doc(factor: dict[str, float], rounds: int = 6) -> dict:
    """Per-round seconds: ``design = reference x factor`` with 0.5% round noise."""
    rng = np.random.default_rng(1)
    base = 1.0 + 0.05 * rng.standard_normal(rounds)  # load drifts alike for all (paired)
    designs = {}
    for d in ("tconv2", *v2a.SPEED_REFERENCES):
        t = base * factor.get(d, 1.0) * (1 + 0.005 * rng.standard_normal(rounds))
        designs[d] = {"train_step_s": t.tolist(), "gmacs_forward": 1.0}
    return {"rows": [{**CONFIG, "rounds": rounds, "designs": designs}]}


def _with_speed(analysis: dict, bench: dict | None) -> dict:
    return {**analysis, "speed": v2a.speed_comparisons([bench] if bench else [])}


def _cell(design: str, width: int, word: str, task: str = "nuclei_sim") -> dict:
    return {
        "name": design,
        "reference": "tconv2",
        "metric": "dice" if task == "nuclei_sim" else "psnr",
        "verdict": word,
        "diff": 0.001,
        "ci95": [-0.002, 0.004],
        "p_diff_holm": 0.5,
        "p_tost_holm": 0.2,
        "margin": 0.005,
        "n_seeds": 5,
        "n_images": 24,
    }


def _analysis(words: dict[tuple[str, int], str]) -> dict:
    fams: dict[str, list] = {}
    for (design, width), word in words.items():
        fams.setdefault(f"headline/nuclei_sim/w{width}/dice", []).append(_cell(design, width, word))
    return {"families": fams, "vs_baseline": [], "plan": {}}


def test_speed_rows_are_stats_verdicts_of_paired_rounds() -> None:
    doc = _speed_doc({"tconv2": 0.8, "bilinear_only": 0.8})  # tconv2 20% faster than nearest
    (cfg,) = v2a.speed_comparisons([doc])
    assert cfg["declared"]
    comps = {c["reference"]: c for c in cfg["comparisons"]}
    des = doc["rows"][0]["designs"]
    want = stats.adjust_family(
        [
            stats.compare(
                "tconv2", des["tconv2"]["train_step_s"], r, des[r]["train_step_s"], "time"
            )
            for r in v2a.SPEED_REFERENCES
        ]
    )
    for c in want:
        assert comps[c.reference]["verdict"] == stats.verdict(c)
    assert comps["nearest"]["verdict"] == "better"  # constructed: faster
    assert comps["bilinear_only"]["verdict"] == "equivalent"  # constructed: same time
    rows = {r.design: r for r in verdicts_v2.speed_rows(_with_speed({}, doc))}
    assert rows["nearest"].verdict.startswith("better")
    assert "claim not supported" in rows["nearest"].verdict
    assert rows["bilinear_only"].verdict.startswith("equivalent")
    assert "claim not supported" in rows["bilinear_only"].verdict


def test_speed_needs_the_declared_configuration_and_rounds() -> None:
    doc = _speed_doc({})
    doc["rows"][0]["width"] = 32  # not the declared configuration
    (cfg,) = v2a.speed_comparisons([doc])
    assert not cfg["declared"]
    rows = verdicts_v2.speed_rows(_with_speed({}, doc))
    assert all(r.verdict == "not measured" for r in rows)
    doc = _speed_doc({})
    for d in doc["rows"][0]["designs"].values():
        del d["train_step_s"]  # an old file with medians only
    assert v2a.speed_comparisons([doc]) == []


@pytest.mark.parametrize(
    ("words", "reading"),
    [
        ({8: "equivalent", 16: "equivalent"}, "claim supported"),
        ({8: "equivalent", 16: "inconclusive"}, "not decided"),
        ({8: "inconclusive", 16: "worse"}, "claim not supported"),
        ({8: "better", 16: "equivalent"}, "claim supported"),
    ],
)
def test_accuracy_rows_copy_words_and_read_every_cell(words: dict, reading: str) -> None:
    analysis = _analysis({("bilinear_1x1", w): word for w, word in words.items()})
    row = verdicts_v2.accuracy_rows(analysis)[0]
    assert "MONAI" in row.caveat or "1x1" in row.claim
    for w, word in words.items():
        assert f"nuclei w{w} {word}" in row.verdict
    assert row.verdict.endswith(reading)
    others = verdicts_v2.accuracy_rows(analysis)[1:]
    assert all(r.verdict == "not measured" for r in others)


def test_choose_rule_needs_accuracy_and_speed() -> None:
    eq = {(d, w): "equivalent" for d in verdicts_v2.FIXED for w in (8, 16)}
    fast = _speed_doc({"tconv2": 1.25})  # every fixed path faster than tconv2
    slow = _speed_doc({"tconv2": 0.8})  # every fixed path slower
    assert verdicts_v2.choose_row(_with_speed(_analysis(eq), fast)).verdict.startswith("choose ")
    assert verdicts_v2.choose_row(_with_speed(_analysis(eq), slow)).verdict.startswith("keep ")
    unsure = {k: "inconclusive" for k in eq}
    same = _speed_doc({})  # equal times: "as fast" within the margin
    row = verdicts_v2.choose_row(_with_speed(_analysis(unsure), same))
    assert row.verdict.startswith("not decided")
    # a design measured slower is out whatever its accuracy: no "may still qualify"
    assert verdicts_v2.choose_row(_with_speed(_analysis(unsure), slow)).verdict.startswith("keep")
    assert "rule declared before the results" in row.caveat


def test_rows_switch_to_v2_with_its_analysis() -> None:
    analysis = _analysis({("bilinear", 8): "inconclusive"})
    tutorial = {
        "sweep": {"configs": 10, "max_error": {"zero insertion": 1e-15}},
        "families": {"rows": [{"family": "transposed 2x2", "params": 4, "free": 1}]},
    }
    v1 = verdicts.rows(verdicts.AnswerData(tutorial=tutorial), LABEL)
    assert not any(r.claim.startswith("It only makes the CNN slower (vs") for r in v1)
    full = _with_speed(analysis, _speed_doc({"tconv2": 0.8}))
    data = verdicts.AnswerData(study_v2=full, tutorial=tutorial)
    v2 = verdicts.rows(data, LABEL)
    claims = [r.claim for r in v2]
    assert sum(c.startswith("It only makes the CNN slower (vs") for c in claims) == 3
    assert sum(c.startswith("It won't really increase") for c in claims) == 3
    assert claims[-1].startswith("What to choose")
    text = "\n".join(answer.answer_first(v2, data))
    assert "study v2" in text and "was faster than" in text
    assert '"slower" is the opposite of what was measured' in text
    rows, figure = answer.readme_rows(v2)
    assert rows[0].claim.startswith("What to choose") and figure.endswith("fig10_study_v2.png")
    assert [r.claim for r in rows[1:]] == [r.claim for r in v2 if r.design]
    assert answer.readme_rows(v1)[1].endswith("fig7_tradeoff.png")


def test_other_speed_configurations_are_counted_and_the_differing_named() -> None:
    def cfg(declared: bool, width: int, verdict: str) -> dict:
        comp = {"reference": "nearest", "verdict": verdict}
        return {"declared": declared, "what": "train_step", "width": width, "batch": 1,
                "size": 256, "threads": 1, "comparisons": [comp]}  # fmt: skip

    doc = {"speed": [cfg(True, 64, "better"), cfg(False, 32, "better"), cfg(False, 16, "worse")]}
    text = verdicts_v2.other_speed(doc, "nearest", "better")
    assert text == "; other configurations: better at 1 of 2 (worse at w16 1x256^2 1 thr)"
    assert verdicts_v2.other_speed({"speed": [cfg(True, 64, "better")]}, "nearest", "x") == ""


def test_pooled_caveat_names_only_the_changed_verdicts_of_the_design() -> None:
    def row(name: str, width: int, declared: str, pooled: str) -> dict:
        verdicts = {"declared_verdict": declared, "pooled_verdict": pooled}
        return {"name": name, "width": width, **verdicts}

    rows = [
        row("bilinear", 16, "worse", "inconclusive"),
        row("bilinear", 8, "inconclusive", "inconclusive"),
        row("bilinear_1x1", 16, "equivalent", "inconclusive"),
    ]
    doc = {"sensitivity_pooled_widths": {"nuclei_sim/dice": rows}}
    text = verdicts_v2.pooled_caveat(doc, "bilinear")
    assert text == "; all widths as one Holm family (sensitivity): w16 worse -> inconclusive"
    assert verdicts_v2.pooled_caveat(doc, "bilinear_only") == ""
    assert verdicts_v2.pooled_caveat(None, "bilinear") == ""
