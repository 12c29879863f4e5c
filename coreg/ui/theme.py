"""Colours and fonts: the Okabe–Ito colour-blind-safe palette, sizes readable from two metres.

Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

#: Okabe–Ito palette.
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
BLACK = "#000000"

BACKGROUND = "#111418"
PANEL = "#1B2026"
TEXT = "#ECEFF1"
MUTED = "#9AA5AE"
GRID_ALPHA = 0.25

#: Role colours: two hues that stay distinct under every common colour-vision deficiency.
ROLE_COLOURS: dict[str, str] = {"client": ORANGE, "therapist": SKY_BLUE}
SYNC_COLOUR = BLUISH_GREEN
BREATHING_COLOUR = REDDISH_PURPLE
CHANCE_COLOUR = "#5C6670"
MARKER_COLOUR = YELLOW
WARNING_COLOUR = VERMILLION

#: Point sizes (a 1080p screen seen from 2 m: the HR number must read at a glance).
HR_PT = 72
TITLE_PT = 22
VALUE_PT = 26
LABEL_PT = 15
SMALL_PT = 12

STYLE_SHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: {LABEL_PT}pt; }}
QFrame#panel {{ background: {PANEL}; border-radius: 10px; }}
QPushButton {{ background: #2A323A; border: 1px solid #3A444E; border-radius: 6px;
               padding: 6px 14px; font-size: {LABEL_PT}pt; }}
QPushButton:hover {{ background: #34404A; }}
QPushButton:disabled, QComboBox:disabled, QLineEdit:disabled, QDoubleSpinBox:disabled {{
    color: #5F6A74; background: #1C2228; border-color: #262E35; }}
QPushButton#record {{ border-color: {VERMILLION}; }}
QComboBox, QLineEdit {{ background: #2A323A; border: 1px solid #3A444E; border-radius: 6px;
                        padding: 4px 8px; }}
QLabel#simulated {{ background: {YELLOW}; color: {BLACK}; font-weight: bold;
                    padding: 4px 12px; border-radius: 6px; font-size: {TITLE_PT}pt; }}
QLabel#muted {{ color: {MUTED}; font-size: {SMALL_PT}pt; }}
QLabel#disclaimer {{ color: {MUTED}; font-size: {SMALL_PT}pt; }}
"""


def role_colour(role: str) -> str:
    """The colour of a role (client orange, therapist sky blue)."""
    return ROLE_COLOURS.get(role, BLUISH_GREEN)
