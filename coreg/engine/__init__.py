"""The HRV and synchrony engine: pure numpy/scipy, time passed in, no Qt, bleak or asyncio."""

from __future__ import annotations
