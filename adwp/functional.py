"""The former name of :mod:`adwp.generators.functional` (the functional network).

The same module object, so that code importing ``adwp.functional`` keeps working.
"""

import sys

from adwp.generators import functional

sys.modules[__name__] = functional
