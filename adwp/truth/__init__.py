"""Ground truth: what a ranking is measured against.

- :mod:`~adwp.truth.standalone`: training architectures from scratch, one table row per run;
- :mod:`~adwp.truth.tables`: reading ground-truth tables (adwp's and other benchmarks') and
  merging shard tables;
- :mod:`~adwp.truth.correlation`: rank correlation and top-k quality of a score;
- :mod:`~adwp.truth.comparison`: whether one score ranks better than another (bootstrap);
- :mod:`~adwp.truth.report`: the report of ``adwp correlate``, noise ceilings included.
"""
