"""``python -m catalogql``: the command line, as the ``catalogql`` script runs it."""

import sys

from catalogql.cli import main

if __name__ == "__main__":
    sys.exit(main())
