"""``python -m tests.core.torture DIR``: write the torture corpus to DIR."""

import sys

from tests.core.torture import write

write(sys.argv[1] if len(sys.argv) > 1 else "torture-corpus")
