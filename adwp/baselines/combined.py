"""The former name of :mod:`adwp.ranking.baselines.combined` (combined rankings).

The same module object, so that code importing ``adwp.baselines.combined`` keeps working.
"""

import sys

from adwp.ranking.baselines import combined

sys.modules[__name__] = combined
