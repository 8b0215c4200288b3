"""`python -m {{ cookiecutter.__package }}`: the command line."""

import sys

from {{ cookiecutter.__package }}.cli import main

sys.exit(main())
