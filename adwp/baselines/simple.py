"""The former name of :mod:`adwp.ranking.baselines.simple` (the size and short-training baselines).

The same module object, so that code importing ``adwp.baselines.simple`` keeps working.
"""

import sys

from adwp.ranking.baselines import simple

sys.modules[__name__] = simple
