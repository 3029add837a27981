"""The project's main demo job (``make demo``): every number computed on this machine.

Run from the repository root (both work)::

    python -m analysis.demo [--out results/spectra] [--quick]
    python analysis/demo.py

For now it runs :mod:`analysis.spectra` (frequency responses, imaging / aliasing energy and
checkerboard index of the built-in up- and down-samplers) and says where the results went;
later issues add the trained U-Nets' equivariance studies here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import spectra  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo steps in order; returns the first non-zero exit status, else 0."""
    argv = list(sys.argv[1:] if argv is None else argv)
    print("== antialias demo: spectra of the built-in re-samplers ==")
    status = spectra.main(argv)
    if status != 0:
        return status
    out = spectra.DEFAULT_OUT
    if "--out" in argv[:-1]:
        out = Path(argv[argv.index("--out") + 1])
    print(f"\nresults: {out / 'spectra.json'} (scalars, config, provenance)")
    print(f"         {out / 'spectra.npz'} (responses for figures 1-3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
