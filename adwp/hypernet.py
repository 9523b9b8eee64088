"""The former name of :mod:`adwp.generators.hypernet` (the hypernetwork).

The same module object, so that code importing ``adwp.hypernet`` keeps working.
"""

import sys

from adwp.generators import hypernet

sys.modules[__name__] = hypernet
