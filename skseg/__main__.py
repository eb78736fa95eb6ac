"""``python -m skseg``: the ``skseg`` command."""

import sys

from skseg.cli import main

if __name__ == "__main__":
    sys.exit(main())
