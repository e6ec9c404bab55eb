"""``python -m litshift.cli``: what ``litshift launch`` hands to torchrun (one process per GPU)."""

import sys

from litshift.cli import main

sys.exit(main())
