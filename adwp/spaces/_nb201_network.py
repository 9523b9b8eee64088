"""The former name of :mod:`adwp.spaces.nb201.network` (the nb201 space's network).

The same module object, so that code importing ``adwp.spaces._nb201_network`` keeps working.
"""

import sys

from adwp.spaces.nb201 import network

sys.modules[__name__] = network
