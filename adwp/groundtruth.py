"""``adwp.groundtruth`` gathers, under its former name, standalone training
(:mod:`adwp.truth.standalone`) and the ground-truth tables (:mod:`adwp.truth.tables`)."""

from adwp.truth.standalone import Recipe, run_groundtruth, shard_from_environment, train_standalone
from adwp.truth.tables import (
    TRUTH_FORMATS,
    TruthTable,
    mean_by_arch,
    merge_tables,
    read_table,
    read_truth,
)

__all__ = [
    "TRUTH_FORMATS",
    "Recipe",
    "TruthTable",
    "mean_by_arch",
    "merge_tables",
    "read_table",
    "read_truth",
    "run_groundtruth",
    "shard_from_environment",
    "train_standalone",
]
