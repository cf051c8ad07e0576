"""The one home of the digit colours and marker shapes, so no scatter tells digits apart by colour alone.

Colours: ten of Paul Tol's colour-blind-safe colours (from his vibrant, bright, muted and light schemes),
picked by measurement rather than taken as one scheme. Okabe-Ito has only eight (one of them black, lost on
a dark background) and his ten-colour muted scheme has an indigo that nearly vanishes on Streamlit's
dark background (1.5:1) and a pale grey lost on white (1.4:1). These ten keep at least 2:1 contrast on both the light
(#ffffff) and the dark (#171614) background, and stay apart under simulated protanopia, deuteranopia and
tritanopia (tests/ui/test_palette.py checks both). Ten classes are more than colour alone can carry for
everyone, so each digit also has its own marker shape in 2-D and is drawn as its numeral in 3-D (plotly's
scatter3d knows only eight symbols).
"""

from __future__ import annotations

from typing import NamedTuple


class DigitStyle(NamedTuple):
    color: str  # hex colour
    symbol: str  # plotly marker symbol, valid for scatter and scattergl
    glyph: str  # the same shape as a character, for legend keys in text


DIGIT_STYLES: tuple[DigitStyle, ...] = (
    DigitStyle("#0077BB", "circle", "●"),  # 0: Tol vibrant blue
    DigitStyle("#EE8866", "square", "■"),  # 1: Tol light orange
    DigitStyle("#CC3311", "diamond", "◆"),  # 2: Tol vibrant red
    DigitStyle("#44AA99", "triangle-up", "▲"),  # 3: Tol muted teal
    DigitStyle("#117733", "triangle-down", "▼"),  # 4: Tol muted green
    DigitStyle("#AAAA00", "cross", "✚"),  # 5: Tol light olive
    DigitStyle("#AA3377", "x", "✖"),  # 6: Tol bright purple
    DigitStyle("#CC6677", "pentagon", "⬟"),  # 7: Tol muted rose
    DigitStyle("#882255", "hourglass", "⧗"),  # 8: Tol muted wine
    DigitStyle("#33BBEE", "triangle-right", "▶"),  # 9: Tol vibrant cyan
)
DIGIT_COLORS = tuple(style.color for style in DIGIT_STYLES)
DIGIT_SYMBOLS = tuple(style.symbol for style in DIGIT_STYLES)

# Colours for other categories (Compare's kinds of model), from the same ten so every chart speaks one language.
BLUE, ORANGE, RED, TEAL, GREEN, OLIVE, PURPLE, ROSE, WINE, CYAN = DIGIT_COLORS
NEUTRAL = "#888888"  # reference lines (PCA): 3.5:1 on white, 5.1:1 on Streamlit's dark background


def legend_key(three_d: bool = False) -> str:
    """The digits' key as one line of text, e.g. '0 ●  1 ■ …', for captions and screen readers."""
    if three_d:
        return "Each point is drawn as its digit's numeral, in that digit's colour."
    return "Key: " + ", ".join(f"{digit} {style.glyph}" for digit, style in enumerate(DIGIT_STYLES)) + "."
