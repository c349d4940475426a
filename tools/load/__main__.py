"""`python -m tools.load load|max|fault [--target URL] ...` (see tools/load/run.py)."""

import sys

from tools.load.run import main

sys.exit(main())
