"""`python -m rmboost.cli`: the same as the `rmboost` command."""

import sys

from rmboost.cli import main

sys.exit(main())
