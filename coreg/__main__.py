"""``python -m coreg``."""

from __future__ import annotations

import sys

from coreg.cli import main

sys.exit(main())
