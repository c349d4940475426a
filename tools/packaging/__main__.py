import sys

from tools.packaging.cli import main

sys.exit(main())
