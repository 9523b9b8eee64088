"""The former name of :mod:`adwp.ranking.evaluator` (the evaluator).

The same module object, so that code importing ``adwp.evaluator`` keeps working.
"""

import sys

from adwp.ranking import evaluator

sys.modules[__name__] = evaluator
