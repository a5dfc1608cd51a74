"""``python -m lifetf``: the command line (see :mod:`lifetf.cli`)."""

import sys

from lifetf.cli import main

sys.exit(main())
