"""``adwp.baselines`` gathers, under its former name, the names of :mod:`adwp.ranking.baselines`
(baseline ranking backends and zero-cost proxies)."""

from adwp.ranking.baselines import *  # noqa: F403 (every public name, listed in __all__)
from adwp.ranking.baselines import __all__ as __all__
