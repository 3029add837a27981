"""One script per paper figure: each reads only ``results/`` and writes PNG + PDF here."""
