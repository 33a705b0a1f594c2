"""Colour-blind-safe colours: Okabe–Ito for categories, viridis for magnitudes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Okabe & Ito (2008), "Color Universal Design", ordered for contrast on white.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
UNKNOWN = "#8C8C8C"

# Viridis (matplotlib), sampled at nine evenly spaced points; interpolated linearly.
VIRIDIS = (
    "#440154",
    "#472D7B",
    "#3B528B",
    "#2C728E",
    "#21918C",
    "#28AE80",
    "#5EC962",
    "#ADDC30",
    "#FDE725",
)
_ANCHORS = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in VIRIDIS], dtype=float)


def category(k: int) -> str:
    """The colour of class ``k`` (cycling after eight); grey for negative classes."""
    return OKABE_ITO[k % len(OKABE_ITO)] if k >= 0 else UNKNOWN


def sequential(t: NDArray[np.float64]) -> list[str]:
    """Viridis colours for values in [0, 1] (clipped), as #RRGGBB strings."""
    pos = np.clip(np.asarray(t, dtype=float), 0.0, 1.0) * (len(VIRIDIS) - 1)
    lo = np.minimum(np.floor(pos).astype(int), len(VIRIDIS) - 2)
    frac = (pos - lo)[:, None]
    rgb = np.rint(_ANCHORS[lo] * (1 - frac) + _ANCHORS[lo + 1] * frac).astype(int)
    return [f"#{r:02X}{g:02X}{b:02X}" for r, g, b in rgb]


def gradient_stops() -> list[tuple[str, str]]:
    """(offset, colour) stops of an SVG linearGradient matching ``sequential``."""
    n = len(VIRIDIS) - 1
    return [(f"{100 * i / n:.1f}%", c) for i, c in enumerate(VIRIDIS)]


def tint(color: str, strength: float) -> str:
    """``color`` (#RRGGBB) mixed with white: strength 1 is the colour, 0 is white."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    r, g, b = (round(255 - (255 - c) * strength) for c in rgb)
    return f"#{r:02X}{g:02X}{b:02X}"
