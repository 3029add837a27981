"""``python -m analysis.study``: the study's command line (:func:`analysis.study.cli.main`)."""

from __future__ import annotations

import sys

from analysis.study.cli import main

if __name__ == "__main__":
    sys.exit(main())
