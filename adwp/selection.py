"""The former name of :mod:`adwp.ranking.selection` (checkpoint selection against a truth table).

The same module object, so that code importing ``adwp.selection`` keeps working.
"""

import sys

from adwp.ranking import selection

sys.modules[__name__] = selection
