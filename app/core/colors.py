"""Stable, distinct run colours, readable on the light and the dark theme.

Every colour has a WCAG contrast of at least 3:1 (the minimum for graphics) against
both white and the dark theme's #1e1f22, i.e. a relative luminance in about
[0.14, 0.30]. That band rules out the pale Tableau entries (yellow, light teal, pink,
grey), so the palette is Tableau 10's hues pulled into the band, then more hues
picked to stay at least ~18 CIE76 ΔE apart from all earlier entries.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Iterable
from functools import lru_cache

PALETTE: tuple[str, ...] = (
    # Tableau 10 order (orange, teal, gold darkened into the band; grey and pink
    # dropped: grey reads as "disabled", pink came out too close to the red).
    "#4e79a7", "#dd740e", "#e15759", "#529d97", "#59a04f",
    "#af8d11", "#b07aa1", "#9c755f", "#df63b9", "#9467bd",
    # Extension, in the order of the greedy pick.
    "#d62728", "#2ca02c", "#8055d7", "#00a087", "#cd1f8f",
    "#a65e00", "#6a9a00", "#4169e1", "#e0607e",
)

LIGHT_BG = "#ffffff"
DARK_BG = "#1e1f22"
# Target luminance band for generated colours: inside the 3:1 band with a margin.
_LUM_LO, _LUM_HI = 0.16, 0.28


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_color: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    r, g, b = (int(hex_color[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two ``#rrggbb`` colours (1 to 21)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _stable_hash(run_id: str) -> int:
    # Not hash(): Python salts str hashes per process, and a run must keep its colour
    # across restarts.
    return int.from_bytes(hashlib.blake2b(run_id.encode("utf-8"), digest_size=8).digest(), "big")


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgb)


@lru_cache(maxsize=4096)
def _generated_color(run_id: str) -> str:
    """A colour beyond the palette: hue from the run id's hash, lightness searched so
    the luminance lands in the band readable on both backgrounds."""
    h = _stable_hash(run_id)
    hue = (h & 0xFFFF) / 0x10000
    sat = 0.55 + 0.3 * (((h >> 16) & 0xFF) / 0xFF)
    target = _LUM_LO + (_LUM_HI - _LUM_LO) * (((h >> 24) & 0xFF) / 0xFF)
    lo, hi = 0.0, 1.0  # luminance grows with HLS lightness at a fixed hue/saturation
    for _ in range(30):
        mid = (lo + hi) / 2
        if relative_luminance(_hex(colorsys.hls_to_rgb(hue, mid, sat))) < target:
            lo = mid
        else:
            hi = mid
    return _hex(colorsys.hls_to_rgb(hue, (lo + hi) / 2, sat))


def run_color(run_id: str, index: int | None = None) -> str:
    """The colour of a run.

    With ``index`` (its position in a list of runs): palette entry ``index``, or a
    hash-generated colour past the palette's end. Without: a palette entry chosen by a
    stable hash of ``run_id``, so the run keeps its colour across restarts (two runs
    may then share a colour; ``palette_for`` avoids that).
    """
    if index is None:
        return PALETTE[_stable_hash(run_id) % len(PALETTE)]
    if 0 <= index < len(PALETTE):
        return PALETTE[index]
    return _generated_color(run_id)


def palette_for(run_ids: Iterable[str]) -> dict[str, str]:
    """Distinct colours for runs, palette entries in the given order, then colours
    generated from each run id's hash once the palette is used up.

    Stable as long as the order is (e.g. runs sorted by creation time). Duplicate ids
    get one colour.
    """
    colors: dict[str, str] = {}
    for run_id in run_ids:
        if run_id not in colors:
            colors[run_id] = run_color(run_id, len(colors))
    return colors
