"""The paper's opening: verdict rows from antialias.stats on constructed seed-level data, the
computed checks, the README block, and the reading targets on the generated paper.

Every expected verdict is recomputed here with antialias.stats; none is typed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from analysis import write_paper as wp  # noqa: E402
from analysis.paper import answer, verdicts  # noqa: E402
from analysis.paper.results import LABEL  # noqa: E402
from antialias import stats  # noqa: E402

VARIANTS = ("tconv2", "tconv3", "tconv4", "nearest", "bilinear")


def _data(shift: dict[str, float], seeds: int = 5, images: int = 8, fast: float = 0.8):
    """Per-image Dice with a per-design shift and seed noise; tconv2 ``fast`` x nearest's time."""
    rng = np.random.default_rng(0)
    base = 0.9 + 0.01 * rng.standard_normal((seeds, images))
    dice = {
        v: base + shift.get(v, 0.0) + 1e-4 * rng.standard_normal((seeds, images)) for v in VARIANTS
    }
    t = 0.1 + 0.001 * rng.standard_normal(11)
    time = {v: t * (fast if v == "tconv2" else 1.0) for v in VARIANTS}
    tutorial = {
        "sweep": {"configs": 10, "max_error": {"zero insertion": 1e-15}},
        "families": {"rows": [{"family": "transposed 2x2", "params": 4, "free": 1}]},
    }
    return verdicts.AnswerData(dice=dice, time=time, time_setting="test", tutorial=tutorial)


def test_rows_take_their_words_from_stats_verdict() -> None:
    data = _data({"tconv2": 0.02, "nearest": 0.0, "tconv4": 0.0, "bilinear": 0.0})
    table = verdicts.rows(data, LABEL)
    # recompute the family as the module should: compare each pair, Holm-adjust together
    fam = stats.adjust_family(
        [stats.compare(a, data.dice[a], b, data.dice[b], "dice") for a, b in verdicts.ACCURACY]
    )
    want = {(c.name, c.reference): stats.verdict(c) for c in fam}
    f1 = next(r for r in table if r.claim.startswith("It won't"))
    assert f1.verdict.startswith(want[("tconv2", "nearest")] + " ")
    assert want[("tconv2", "nearest")] == "better"  # constructed: +0.02 on every seed
    assert "claim not supported" in f1.verdict
    nl = next(r for r in table if r.claim.startswith("Nearest + conv"))
    assert nl.verdict.startswith(want[("nearest", "tconv4")])
    assert want[("nearest", "tconv4")] == "equivalent" and "claim supported" in nl.verdict
    t = stats.adjust_family(
        [stats.compare("tconv2", data.time["tconv2"], "nearest", data.time["nearest"], "time")]
    )[0]
    slow = next(r for r in table if r.claim.startswith("It only makes"))
    assert slow.verdict.startswith(stats.verdict(t)) and stats.verdict(t) == "better"
    assert f"{100 * t.diff:+.1f}%" in slow.number


def test_checks_decide_the_maths_rows() -> None:
    data = _data({})
    table = {r.claim: r for r in verdicts.rows(data, LABEL)}
    assert table["A transposed conv is a regular conv with zeros inserted"].verdict.startswith(
        "true"
    )
    assert table["The original U-Net used nearest-neighbour up-sampling"].verdict == "false"
    assert "up-convolution" in table["The original U-Net used nearest-neighbour up-sampling"].caveat
    # a real error is not "exact"; a family without extra freedom would make the claim true
    bad = {
        "sweep": {"configs": 10, "max_error": {"zero insertion": 1e-3}},
        "families": {"rows": [{"family": "transposed 2x2", "params": 1, "free": 1}]},
    }
    assert verdicts.zeros_check(bad)[0] == "false"
    assert verdicts.original_unet_check(bad)[0] == "true"
    assert verdicts.zeros_check(None)[0] == "not checked"


def test_aliasing_check_needs_every_design_and_seed() -> None:
    def crop(off, on):
        return {
            "off_period_interior": {"per_seed": off, "mean": float(np.mean(off)), "lo": 0, "hi": 1},
            "on_period_interior": {"per_seed": on, "mean": float(np.mean(on))},
        }

    study = {"tasks": {"t": {"crop": {"variants": {"a": crop([0.99, 0.98], [1.0, 1.0])}}}}}
    assert verdicts.aliasing_check(study, "t", ("a",))[0] == "true"
    study["tasks"]["t"]["crop"]["variants"]["b"] = crop([1.0, 0.99], [1.0, 1.0])  # seed 0: none
    assert verdicts.aliasing_check(study, "t", ("a", "b"))[0] == "false"
    assert verdicts.aliasing_check({}, "t", ("a",))[0] == "not checked"


def test_too_few_seeds_is_not_measured() -> None:
    data = _data({}, seeds=1)
    f1 = next(r for r in verdicts.rows(data, LABEL) if r.claim.startswith("It won't"))
    assert f1.verdict == "not measured"


def test_readme_block_is_replaced_between_markers() -> None:
    table = verdicts.rows(_data({"tconv2": 0.02}), LABEL)
    fresh = answer.readme_with_verdicts("# T\n\nintro.\n\n## More\n", table, n_rows=2)
    assert fresh.index("intro.") < fresh.index(answer.README_START) < fresh.index("## More")
    body = fresh.split(answer.README_START)[1].split(answer.README_END)[0]
    assert sum(x.startswith("|") for x in body.splitlines()) == 2 + 2  # header, rule, 2 rows
    assert table[0].claim in body and table[2].claim not in body
    again = answer.readme_with_verdicts(fresh, table, n_rows=2)
    assert again == fresh  # idempotent: the block is replaced, not added twice


def test_split_long_paragraphs_keeps_words_and_limits() -> None:
    sentence = "This sentence has exactly eight words in it. "
    line = "- " + sentence * 40
    out = answer.split_long_paragraphs([line, "| " + "x " * 200 + "|"], limit=120)
    prose = [x for x in out if x and not x.startswith("|")]
    assert all(len(x.split()) <= 120 for x in prose)
    assert " ".join(prose).split() == line.split()  # nothing lost, order kept
    assert out[-1].startswith("| ")  # tables untouched


# ----------------------------------------------------------------------------- the real paper


def _paragraphs(text: str) -> list[str]:
    """Prose paragraphs: blank-line blocks, list items apart; tables, quotes, code excluded."""
    out, in_code = [], False
    for block in re.split(r"\n\s*\n", text):
        if block.lstrip().startswith("```"):
            in_code = not in_code if block.count("```") % 2 else in_code
            continue
        if in_code or block.lstrip().startswith(("|", ">", "#", "![")):
            continue
        items = re.split(r"\n(?=\s*(?:[-*]|\d+\.)\s)", block)
        out += [i for i in items if i.strip()]
    return out


@pytest.fixture(scope="module")
def paper() -> str:
    results = REPO / "results" / "study"
    tut = REPO / "results" / "transposed_tutorial" / "tutorial.json"
    if not (results / "study.json").is_file() or not tut.is_file():
        pytest.fail("the shipped results are missing")
    study = wp.read_json(results / "study.json", "python -m analysis.study")
    speed = wp.read_json(results / "speed.json", "python -m analysis.speed", False)
    data = verdicts.load_answer_data(results, study, tut)
    return wp.render(study, speed, "Q?\n\n1 Answer\n\nA.\n", data=data)


def test_paper_opens_with_the_verdict_table_and_the_direct_answer(paper: str) -> None:
    first = paper.splitlines()[:100]
    head = "\n".join(first)
    assert "## The answer first" in head
    assert "| claim (from the answer) | verdict |" in head
    assert "### Why choose a fixed interpolation" in head
    assert head.index("## The answer first") < paper.index("## 1. The question")
    rows = [x for x in first if x.startswith("| ") and "**" in x]
    study = wp.read_json(REPO / "results" / "study" / "study.json", "python -m analysis.study")
    tut = REPO / "results" / "transposed_tutorial" / "tutorial.json"
    data = verdicts.load_answer_data(REPO / "results" / "study", study, tut)
    assert len(rows) == len(wp.verdict_table(data))  # the whole table is on the first screen
    words = (
        *stats.VERDICTS,
        "true",
        "false",
        "not measured",
        "not checked",
        "not decided",
        "choose",
        "keep",
    )
    for row in rows:  # every verdict cell names one of the stats' words, a check's or the rule's
        cell = row.split("**")[1]
        assert any(re.search(rf"\b{w}\b", cell) for w in words), row


def test_paper_reading_targets(paper: str) -> None:
    concl = paper.split("## 4. Conclusion")[1].split("\n## ")[0]
    assert len(concl.split()) < 600
    long = [p for p in _paragraphs(paper) if len(p.split()) > 120]
    assert not long, [p[:80] for p in long]


def test_readme_carries_the_generated_rows() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert answer.README_START in readme and answer.README_END in readme
    block = readme.split(answer.README_START)[1].split(answer.README_END)[0]
    doc = (REPO / "docs" / "paper.md").read_text(encoding="utf-8")
    rows = [x for x in block.splitlines() if x.startswith("| ") and "**" in x]
    assert rows and all(r in doc for r in rows)  # the same rows as the paper's table


def test_tutorial_json_has_what_the_checks_read() -> None:
    doc = json.loads((REPO / "results/transposed_tutorial/tutorial.json").read_text())
    assert "zero insertion" in doc["sweep"]["max_error"]
    assert any(r["family"] == "transposed 2x2" for r in doc["families"]["rows"])


def test_landing_lines_state_where_the_equality_holds() -> None:
    spectra = {
        "landing_power": {
            "phases": 16,
            "probes": [
                {"fraction": "3/16", "dyadic": True, "ratio_min": 1.0, "ratio_max": 1.0},
                {"fraction": "1/3", "dyadic": False, "ratio_min": 0.0, "ratio_max": 4.0},
            ],
        }
    }
    text = verdicts.landing_lines(spectra)[0]
    assert "3/16: 0.0e+00" in text and "1/3: 0.00-4.00x" in text and "16 phases" in text
    assert verdicts.landing_lines(None) == []


def test_subpixel_line_words_follow_the_numbers() -> None:
    def e(mean, lo, hi):
        return {"pooled_all": {"mean": mean, "lo": lo, "hi": hi}}

    fr = {"blurpool_bilinear": e(0.99, 0.98, 0.995), "bilinear": e(0.995, 0.99, 0.999)}
    study = {"tasks": {"t": {"fractional": {"variants": fr}}}}
    text = verdicts.subpixel_line(study, "t", LABEL)
    assert "did not reduce" in text and "changes more labels" in text
    assert "intervals overlap" in text
    fr["blurpool_bilinear"] = e(0.9995, 0.9993, 0.9998)  # fewer changes, separate interval
    text = verdicts.subpixel_line(study, "t", LABEL)
    assert "blur-pooling reduced" in text and "some intervals separate" in text
    assert verdicts.subpixel_line({}, "t", LABEL) is None


def test_speed_words_come_from_the_stats_with_the_margin() -> None:
    rng = np.random.default_rng(1)
    ref = 0.1 + 0.0005 * rng.standard_normal(11)
    run = {"bilinear": ref, "fast": ref * 0.8, "same": ref * 1.01}
    data = verdicts.AnswerData(time_runs={("shipped", 1, "train_step"): run})
    words = verdicts.speed_words(data)[("shipped", 1, "train_step")]
    cs = stats.adjust_family(
        [stats.compare(v, run[v], "bilinear", ref, "time") for v in ("fast", "same")]
    )
    assert words == {c.name: verdicts.SPEED_WORDS[stats.verdict(c)] for c in cs}
    assert words == {"fast": "faster", "same": "as fast, within the margin"}


def test_write_paper_touches_the_readme_only_when_asked(tmp_path: Path) -> None:
    readme = tmp_path / "R.md"
    readme.write_text("# R\n\nintro.\n\nrest\n", encoding="utf-8")
    args = ["--out", str(tmp_path / "p.md"), "--seeds", str(tmp_path)]
    assert wp.main([*args, "--no-readme", "--readme", str(readme)]) == 0
    assert answer.README_START not in readme.read_text(encoding="utf-8")
    assert wp.main([*args, "--readme", str(readme)]) == 0
    assert answer.README_START in readme.read_text(encoding="utf-8")
