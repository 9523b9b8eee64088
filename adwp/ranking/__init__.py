"""Ranking: what scores architectures without training them.

- :mod:`~adwp.ranking.evaluator`: scores with the networks a trained weight generator predicts;
- :mod:`~adwp.ranking.backend`: the backend protocol, and backends built from a ``KIND:ARGUMENT``
  spec;
- :mod:`~adwp.ranking.backends`: the built-in backend kinds (checkpoints, tables, proxies);
- :mod:`~adwp.ranking.baselines`: zero-cost proxies, model size, short training;
- :mod:`~adwp.ranking.selection`: picking the training checkpoint that ranks a truth table best.
"""
