"""The former name of :mod:`adwp.ranking.baselines.proxies` (the zero-cost proxies).

The same module object, so that code importing ``adwp.baselines.proxies`` keeps working.
"""

import sys

from adwp.ranking.baselines import proxies

sys.modules[__name__] = proxies
