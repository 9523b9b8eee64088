"""The former name of :mod:`adwp.generators.checkpoint` (the checkpoint files).

The same module object, so that code importing ``adwp.checkpoint`` keeps working.
"""

import sys

from adwp.generators import checkpoint

sys.modules[__name__] = checkpoint
