"""The former name of :mod:`adwp.spaces.macro.architecture` (the macro space's architecture value).

The same module object, so that code importing ``adwp.spaces.architecture`` keeps working.
"""

import sys

from adwp.spaces.macro import architecture

sys.modules[__name__] = architecture
