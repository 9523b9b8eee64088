"""The former name of :mod:`adwp.generators.training` (the training of weight generators).

The same module object, so that code importing ``adwp.training`` keeps working.
"""

import sys

from adwp.generators import training

sys.modules[__name__] = training
