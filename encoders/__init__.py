"""Architecture encoders: discrete or stochastic architectures to hypernetwork input tensors.

See :mod:`encoders._probabilities` for the tensor layout.
"""

from __future__ import annotations

from encoders._probabilities import (
    ChoiceProbabilities,
    Probabilities,
    check_probabilities,
    encode_probabilities,
    encode_unchecked,
    feature_dim,
    one_hot_probabilities,
)
from encoders.context import ContextEncoder
from encoders.onehot import OneHotEncoder
from encoders.stochastic import StochasticEncoder

__all__ = [
    "ChoiceProbabilities",
    "ContextEncoder",
    "OneHotEncoder",
    "Probabilities",
    "StochasticEncoder",
    "check_probabilities",
    "encode_probabilities",
    "encode_unchecked",
    "feature_dim",
    "one_hot_probabilities",
]
