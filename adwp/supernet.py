"""The former name of :mod:`adwp.generators.supernet` (the supernet baseline).

The same module object, so that code importing ``adwp.supernet`` keeps working.
"""

import sys

from adwp.generators import supernet

sys.modules[__name__] = supernet
