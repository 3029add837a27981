"""Speed of the anti-aliased layers against the references they replace (issue 3, section 5).

Targets, each a ratio of medians measured in the same run, 2 threads, float32:

- ``BlurPool2d(pad_mode="reflect")`` at least 1.5x faster than ``antialiased_cnns.BlurPool``
  (identical output: the max abs difference is printed), and within 1.15x of kornia's
  zero-padded ``BlurPool2D``;
- ``Upsample2d(method="blur")`` with taps ``[1, 3, 3, 1]`` within 1.2x of
  ``F.interpolate(mode="bilinear")``: with ``pad_mode="replicate"`` (identical output;
  resample hands the forward to torch's bilinear kernel), with the layer's default
  ``pad_mode="reflect"`` (the same plus recomputed border rows/cols) and, for the record, the
  general polyphase path (``impl="generic"``: the zero-stuff-free transposed conv plus border
  strips, as any other taps take);

for inputs (8, 64, 128, 128) and (8, 32, 256, 256) (the up-samplers get the half-size input,
so that their output has that size), blur lengths 3 and 5, forward and forward + backward
(backward of a dense random upstream gradient, as in training). Implementations are timed
interleaved (one call of each per round), so load from other processes falls on all of them
alike; the load average before and after says how quiet the machine was.

Usage::

    python benchmarks/bench_layers.py [--repeats 15] [--json results/bench/layers.json]
        [--txt benchmarks/results/bench_layers.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from _timing import Fn, time_interleaved  # benchmarks/ is on sys.path (run as a script)
from torch.nn import functional as F

from antialias.layers import BlurPool2d, Upsample2d
from antialias.resample import prepare_upfirdn2d

SHAPES = [(8, 64, 128, 128), (8, 32, 256, 256)]
TAPS = [3, 5]


def _generic(layer: Upsample2d) -> Fn:
    """The blur layer's up-sampling (no conv: C_in == C_out) by resample's generic path:
    its own taps, prepared with ``impl="generic"`` (no hand-over to torch's kernel)."""
    plan = prepare_upfirdn2d(layer.taps, layer.up, pad_mode=layer.pad_mode, impl="generic")
    return lambda z: plan(z, layer.taps)


def _bilinear(z: torch.Tensor) -> torch.Tensor:
    return F.interpolate(z, scale_factor=2.0, mode="bilinear", align_corners=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--txt", type=Path, default=None, help="also write the printed report")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1:
        print("bench_layers: --repeats and --threads must be >= 1", file=sys.stderr)
        return 2
    try:
        import antialiased_cnns
        import kornia.filters
    except ImportError as err:
        print(f"bench_layers: needs kornia and antialiased-cnns installed ({err})", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    rows = []
    load = os.getloadavg()
    say(
        f"torch {torch.__version__}, threads={args.threads}, repeats={args.repeats}, "
        f"cores={os.cpu_count()}, float32, medians; load average (1/5/15 min) before: "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )
    header = f"{'case':<50} {'pass':<7} {'ours ms':>8} {'ref ms':>8} {'ratio':>6}  target"
    say(header)
    say("-" * len(header))
    for shape in SHAPES:
        x = torch.randn(shape)
        c = shape[1]
        for k in TAPS:
            ours = BlurPool2d(c, taps=k, pad_mode="reflect")
            adobe = antialiased_cnns.BlurPool(c, pad_type="reflect", filt_size=k, stride=2)
            kornia_bp = kornia.filters.BlurPool2D(k, stride=2)
            with torch.no_grad():
                err = float((ours(x) - adobe(x)).abs().max())
            for backward in (False, True):
                t = time_interleaved(
                    {"ours": ours, "adobe": adobe, "kornia": kornia_bp}, x, backward, args.repeats
                )
                pas = "fwd+bwd" if backward else "fwd"
                r_adobe = t["adobe"] / t["ours"]
                r_kornia = t["ours"] / t["kornia"]
                case = f"BlurPool2d reflect k={k} {tuple(shape)}"
                say(
                    f"{case + ' vs adobe':<50} {pas:<7} {1e3 * t['ours']:8.2f} "
                    f"{1e3 * t['adobe']:8.2f} {r_adobe:6.2f}  speed-up >= 1.5 "
                    f"({'ok' if r_adobe >= 1.5 else 'MISS'}; max|diff| {err:.1e})"
                )
                say(
                    f"{case + ' vs kornia':<50} {pas:<7} {1e3 * t['ours']:8.2f} "
                    f"{1e3 * t['kornia']:8.2f} {r_kornia:6.2f}  slow-down <= 1.15 "
                    f"({'ok' if r_kornia <= 1.15 else 'MISS'})"
                )
                rows.append(
                    {
                        "op": "blurpool_reflect",
                        "shape": list(shape),
                        "taps": k,
                        "pass": pas,
                        "ours_s": t["ours"],
                        "adobe_s": t["adobe"],
                        "kornia_s": t["kornia"],
                        "speedup_vs_adobe": r_adobe,
                        "slowdown_vs_kornia": r_kornia,
                        "max_abs_diff_vs_adobe": err,
                    }
                )
        xs = x[:, :, : shape[2] // 2, : shape[3] // 2].contiguous()
        taps = [1.0, 3.0, 3.0, 1.0]
        ups = {
            "replicate": Upsample2d(c, c, method="blur", taps=taps, pad_mode="replicate"),
            "reflect": Upsample2d(c, c, method="blur", taps=taps, pad_mode="reflect"),
        }
        ups["replicate, general path"] = _generic(ups["replicate"])
        for name, up in ups.items():
            with torch.no_grad():
                # replicate edges: identical to bilinear; reflect: the interior is
                err = float((up(xs) - _bilinear(xs))[..., 2:-2, 2:-2].abs().max())
            for backward in (False, True):
                t = time_interleaved(
                    {"ours": up, "bilinear": _bilinear}, xs, backward, args.repeats
                )
                pas = "fwd+bwd" if backward else "fwd"
                ratio = t["ours"] / t["bilinear"]
                case = f"Upsample2d blur {name} {tuple(xs.shape)}"
                say(
                    f"{case:<50} {pas:<7} {1e3 * t['ours']:8.2f} "
                    f"{1e3 * t['bilinear']:8.2f} {ratio:6.2f}  slow-down <= 1.2 "
                    f"({'ok' if ratio <= 1.2 else 'MISS'}; interior max|diff| {err:.1e})"
                )
                rows.append(
                    {
                        "op": f"upsample_blur {name}",
                        "shape": list(xs.shape),
                        "taps": 4,
                        "pass": pas,
                        "ours_s": t["ours"],
                        "bilinear_s": t["bilinear"],
                        "slowdown_vs_bilinear": ratio,
                        "max_abs_diff_vs_bilinear_interior": err,
                    }
                )
    load_after = os.getloadavg()
    say(
        f"load average (1/5/15 min) after: "
        f"{load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}"
    )
    if args.txt is not None:
        args.txt.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.txt.with_suffix(args.txt.suffix + ".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(args.txt)
    if args.json is not None:
        from antialias.provenance import provenance

        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        payload = {
            "rows": rows,
            "threads": args.threads,
            "repeats": args.repeats,
            "load": load,
            "load_after": load_after,
        }
        payload["provenance"] = provenance()
        tmp.write_text(json.dumps(payload, indent=1))
        tmp.replace(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
