"""Colors as a user writes them: a palette name, an RGB triple '1,0,0', or a hex color '#ff0000'.

Plain Python, no torch: the CLI checks a ``--color`` with it before loading anything, so a typo
is answered at once.
"""

from __future__ import annotations

import math
import re

__all__ = ["PALETTE", "parse_color"]

# the 8 corners of the RGB cube
PALETTE: dict[str, tuple[float, float, float]] = {
    "black": (0.0, 0.0, 0.0),
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "white": (1.0, 1.0, 1.0),
}


def _triple(text: str) -> list[float] | None:
    """'1,0,0', '#ff0000' or the short '#f00' -> [r, g, b]; None if the text is none of these."""
    text = text.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        return [int(text[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    if re.fullmatch(r"#[0-9a-fA-F]{3}", text):  # CSS shorthand: each digit doubled, #f80 = #ff8800
        return [int(c * 2, 16) / 255 for c in text[1:]]
    parts = text.split(",")
    if len(parts) == 3:
        try:
            return [float(p) for p in parts]
        except ValueError:
            return None
    return None


def parse_color(text: str) -> tuple[float, float, float]:
    """A palette name (any case), 'r,g,b' with values in [0, 1], '#rrggbb' or '#rgb' -> (r, g, b)."""
    if not isinstance(text, str):
        raise TypeError(f"a color as text must be a str, got {type(text).__name__}")
    if text.lower() in PALETTE:
        return PALETTE[text.lower()]
    rgb = _triple(text)
    if rgb is None:
        raise ValueError(
            f"unknown color {text!r}; use one of {', '.join(PALETTE)}, an RGB triple in [0, 1] "
            "such as 1,0,0, or a hex color such as #ff0000 or #f00"
        )
    if not all(math.isfinite(c) and 0 <= c <= 1 for c in rgb):  # NaN fails every comparison: refused too
        raise ValueError(f"an RGB color needs 3 values in [0, 1], got {rgb}")
    return (rgb[0], rgb[1], rgb[2])
