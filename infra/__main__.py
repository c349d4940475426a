import sys

from infra.build import main

sys.exit(main())
