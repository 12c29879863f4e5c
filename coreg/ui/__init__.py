"""The Qt windows (PySide6 + pyqtgraph): the live dyad view and the calm client view.

Nothing imports this package except the CLI; it reads :class:`coreg.session.Session` figures.
"""

from __future__ import annotations
