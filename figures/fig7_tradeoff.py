"""Figure 7: the trade-off, accuracy vs shift consistency vs speed, one point per variant.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``: pieces ``accuracy`` and
``crop``) and ``results/study/speed.json`` (``python -m analysis.speed``). One row per task:

- (a) test accuracy (Dice of the foreground pooled over the test split; denoising: mean PSNR)
  against shift consistency pooled over the crop shifts 1..16 px (every compared pixel);
- (b) test accuracy against the time of one training step (forward + backward) of the shipped
  architecture, divided by that of ``bilinear`` in the same run (median of per-round ratios;
  bars: quartiles over rounds);
- (c) consistency against the same time ratio.

Large markers: mean over seeds, bars: 95% bootstrap interval over seeds and test images; small
markers: the individual seeds.

Usage: ``python figures/fig7_tradeoff.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._study_common import (  # noqa: E402
    TASK_LABEL,
    Study,
    can_log,
    consistency_axis,
    load_study,
    log_axis,
    look,
)

NAME = "fig7_tradeoff"
ACC_LABEL = {"dice": "test Dice (foreground)", "psnr": "test PSNR (dB)"}


def _err(center: float, lo: float, hi: float) -> list[list[float]]:
    return [[max(center - min(lo, hi), 0.0)], [max(max(lo, hi) - center, 0.0)]]


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = [t for t in study.tasks_with("accuracy") if "crop" in study.get("tasks", t)]
    if not tasks:
        raise study.fail("expected a task with both 'accuracy' and 'crop' results")
    speed = study.speed_records("shipped")
    fig, axes = plt.subplots(len(tasks), 3, figsize=(7.6, 2.5 * len(tasks) + 0.7), squeeze=False)
    handles: dict[str, object] = {}
    for i, task in enumerate(tasks):
        acc = study.get("tasks", task, "accuracy")
        crop = study.get("tasks", task, "crop")
        c_label, tf, log = consistency_axis(crop["kind"])
        names = [v for v in study.variants(task, "accuracy") if v in crop["variants"]]
        if log:  # a log axis needs a positive value (untrained nets can be exactly consistent)
            log = can_log(
                [tf(np.asarray(crop["variants"][v]["pooled_all"]["per_seed"])) for v in names]
            )
        for v in names:
            a = acc["variants"][v]
            c = crop["variants"][v]["pooled_all"]
            style = look(v)
            color, marker = style["color"], style["marker"]
            face = style.get("markerfacecolor", color)
            cy = tf(np.asarray([c["mean"], c["lo"], c["hi"]]))
            cseeds = tf(np.asarray(c["per_seed"]))
            big = {
                "color": color,
                "marker": marker,
                "markersize": 6.5,
                "linestyle": "none",
                "markerfacecolor": face,
                "markeredgewidth": 1.2,
            }
            small = {"color": color, "marker": marker, "s": 9, "alpha": 0.45, "linewidths": 0}
            # (a) accuracy vs consistency
            ax = axes[i, 0]
            ax.scatter(cseeds, a["per_seed"], **small)
            h = ax.errorbar(
                cy[0],
                a["mean"],
                xerr=_err(*cy),
                yerr=_err(a["mean"], a["lo"], a["hi"]),
                label=style["label"],
                elinewidth=0.8,
                capsize=1.5,
                **big,
            )
            handles.setdefault(v, h)
            if v in speed:
                s = speed[v]
                t, tq = s["train_step_ratio"], (s["train_step_ratio_q1"], s["train_step_ratio_q3"])
                ax = axes[i, 1]
                ax.scatter([t] * len(a["per_seed"]), a["per_seed"], **small)
                ax.errorbar(
                    t,
                    a["mean"],
                    xerr=_err(t, *tq),
                    yerr=_err(a["mean"], a["lo"], a["hi"]),
                    elinewidth=0.8,
                    capsize=1.5,
                    **big,
                )
                ax = axes[i, 2]
                ax.scatter([t] * len(cseeds), cseeds, **small)
                ax.errorbar(
                    t, cy[0], xerr=_err(t, *tq), yerr=_err(*cy), elinewidth=0.8, capsize=1.5, **big
                )
        a_label = ACC_LABEL.get(acc["metric"], acc["metric"])
        short = c_label.replace(" (% of compared pixels)", " (%)")
        ref = study.speed.get("config", {}).get("reference", "bilinear") if study.speed else ""
        t_label = f"train-step time / {ref}"
        for k, (xl, yl) in enumerate(((short, a_label), (t_label, a_label), (t_label, short))):
            ax = axes[i, k]
            ax.set_xlabel(xl, fontsize=8)
            ax.set_ylabel(yl, fontsize=8)
            if log and k == 0:
                log_axis(ax, "x")
            if log and k == 2:
                log_axis(ax, "y")
            ax.tick_params(labelsize=7)
        axes[i, 0].set_title(f"({chr(97 + 3 * i)}) {TASK_LABEL.get(task, task)}", fontsize=8)
        axes[i, 1].set_title(f"({chr(98 + 3 * i)}) accuracy vs speed", fontsize=8)
        axes[i, 2].set_title(f"({chr(99 + 3 * i)}) consistency vs speed", fontsize=8)
    fig.legend(
        list(handles.values()),
        [h.get_label() for h in handles.values()],
        loc="lower center",
        ncol=5,
        fontsize=7.5,
        bbox_to_anchor=(0.5, -0.005),
    )
    sp = study.speed or {}
    fig.suptitle(
        "Accuracy, shift consistency (crop shifts 1-16 px) and training-step time "
        f"(input {tuple(sp.get('input_shape', []))}, {study.speed_threads()} CPU thread(s))",
        fontsize=8.5,
    )
    fig.tight_layout(rect=(0, 0.075 if len(tasks) > 1 else 0.12, 1, 0.97))
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns 0, or 2 with one line on stderr for missing/malformed results."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="study",
        load=load_study,
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
