"""Runnable analyses; each module is also importable (``run(config)`` and ``main(argv)``)."""
