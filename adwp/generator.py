"""The former name of :mod:`adwp.generators.build` (building and loading weight generators).

The same module object, so that code importing ``adwp.generator`` keeps working.
"""

import sys

from adwp.generators import build

sys.modules[__name__] = build
