"""The former name of :mod:`adwp.generators.samplers` (the architecture samplers of training).

The same module object, so that code importing ``adwp.samplers`` keeps working.
"""

import sys

from adwp.generators import samplers

sys.modules[__name__] = samplers
