"""The former name of :mod:`adwp.spaces.nb201.mixed` (the nb201 space's mixed network).

The same module object, so that code importing ``adwp.spaces._nb201_mixed`` keeps working.
"""

import sys

from adwp.spaces.nb201 import mixed

sys.modules[__name__] = mixed
