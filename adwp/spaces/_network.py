"""The former name of :mod:`adwp.spaces.macro.network` (the macro space's network).

The same module object, so that code importing ``adwp.spaces._network`` keeps working.
"""

import sys

from adwp.spaces.macro import network

sys.modules[__name__] = network
