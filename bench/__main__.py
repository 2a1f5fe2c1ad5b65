"""`python -m bench`: the side-by-side benchmark (bench/sidebyside.py; options with --help)."""

import sys

from .sidebyside import main

sys.exit(main())
