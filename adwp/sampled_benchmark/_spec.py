"""What a sampled benchmark script fixes (:class:`SampledBenchmark`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SampledBenchmark"]


@dataclass(frozen=True)
class SampledBenchmark:
    """What a benchmark script fixes; the rest is the shared procedure of :func:`run`.

    Attributes:
        space: Registered space name.
        title: Names the benchmark in figures, e.g. ``"NAS-Bench-201 CIFAR-10"``.
        key: Default architecture column of the table.
        metric: Default truth column of the table.
        control: ``"params"`` or ``"flops"``: the size measure a method must beat (partial tau
            given it, the paired difference from it).
        proxies: The zero-cost proxies a run may score.
        combinations: Rank combinations, ``{name: members}``.
        add_skeleton_flags: Adds the flags that size the trained skeleton and the proxies'
            network.
        skeleton: The space options of the skeleton the weight generators train on, from the
            parsed flags.
        proxy_network: The space options of the network the proxies score, from the flags.
        published_spearman: Published Spearman over the whole space, by method.
    """

    space: str
    title: str
    key: str
    metric: str
    control: str
    proxies: tuple[str, ...]
    combinations: Mapping[str, tuple[str, ...]]
    add_skeleton_flags: Callable[[argparse.ArgumentParser], None]
    skeleton: Callable[[argparse.Namespace], dict[str, Any]]
    proxy_network: Callable[[argparse.Namespace], dict[str, Any]]
    published_spearman: Mapping[str, float] = field(default_factory=dict)
