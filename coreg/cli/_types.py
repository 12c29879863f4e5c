"""Typing helpers shared by the CLI sub-command modules (no runtime behaviour)."""

from __future__ import annotations

import argparse
from typing import TypeAlias

#: What ``ArgumentParser.add_subparsers()`` returns; each sub-command's ``add_parser`` takes it.
#: ``argparse._SubParsersAction`` is generic only in typeshed, so use it in annotations only
#: (every CLI module has ``from __future__ import annotations``).
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
