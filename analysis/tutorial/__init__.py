"""The transposed-convolution tutorial (``docs/transposed_convolution.md``), in two rooms.

- :mod:`analysis.tutorial.compute`: every number and array (``run``), and the result files
  (``save``: ``results/transposed_tutorial/tutorial.{json,npz}``);
- :mod:`analysis.tutorial.page`: the page, one renderer per section (``render_markdown``).

The command is ``python analysis/transposed_tutorial.py`` (which also draws the figures).
"""
