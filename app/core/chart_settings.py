"""What the charts area shows and how (persisted), and how metric keys become panel groups.

Qt-free so the controller can persist it and tests can exercise it without a display.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

XAxis = Literal["step", "wall", "relative"]
X_AXES: tuple[str, ...] = ("step", "wall", "relative")

#: The smoothing slider's range; TensorBoard's slider also stops short of 1 (flat line).
SMOOTHING_MAX = 0.99
COLUMNS_MIN, COLUMNS_MAX = 0, 6
#: ``columns == COLUMNS_AUTO``: as many panels per row as fit at about this width each.
COLUMNS_AUTO = 0
AUTO_PANEL_WIDTH = 360
AUTO_COLUMNS_MAX = 4
#: Group line (``group_center``) and band (``group_band``) choices; see app.core.grouping.
GROUP_CENTERS: tuple[str, ...] = ("mean", "median")
GROUP_BANDS: tuple[str, ...] = ("minmax", "std", "stderr", "none")

_GLOB_CHARS = re.compile(r"[*?\[]")
_DIGITS = re.compile(r"(\d+)")


@dataclass
class ChartSettings:
    """The charts toolbar state. ``from_dict(to_dict(s)) == s``."""

    smoothing: float = 0.6
    x_axis: XAxis = "step"
    log_y: bool = False
    ignore_outliers: bool = True
    key_filter: str = ""
    show_raw: bool = True
    columns: int = COLUMNS_AUTO
    show_legend: bool = True
    #: Group runs by these fields (``"params.lr"``, ``"tags.seed"``): one line per group.
    group_by: tuple[str, ...] = ()
    group_center: str = "mean"
    group_band: str = "std"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["group_by"] = list(self.group_by)  # JSON and QSettings know lists, not tuples
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChartSettings:
        """Build from persisted data: unknown keys are ignored, missing or invalid values
        fall back to the defaults, out-of-range numbers are clamped (an old or hand-edited
        settings file must never stop the app from starting)."""
        s = cls()
        if not isinstance(data, Mapping):
            return s
        known = {f.name for f in fields(cls)}
        for name, value in data.items():
            if name in known:
                try:
                    setattr(s, name, _coerce(name, value, getattr(s, name)))
                except (TypeError, ValueError):
                    pass  # keep the default
        return s


def effective_columns(columns: int, width: float) -> int:
    """Panels per row for a grid ``width`` pixels wide: the chosen number, or in auto mode
    as many ~360 px panels as fit (a small panel's curves and legend fight for room)."""
    if columns > COLUMNS_AUTO:
        return columns
    return int(min(max(width // AUTO_PANEL_WIDTH, 1), AUTO_COLUMNS_MAX))


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name == "smoothing":
        v = float(value)
        if v != v:  # NaN
            raise ValueError(name)
        return min(max(v, 0.0), SMOOTHING_MAX)
    if name == "x_axis":
        if value not in X_AXES:
            raise ValueError(name)
        return value
    if name == "columns":
        if isinstance(value, bool):
            raise TypeError(name)
        return min(max(int(value), COLUMNS_MIN), COLUMNS_MAX)
    if name == "group_by":
        if isinstance(value, str):  # QSettings returns a one-element list as a string
            value = [value] if value else []
        if not isinstance(value, (list, tuple)):
            raise TypeError(name)
        return tuple(dict.fromkeys(v for v in value if _is_group_field(v)))
    if name in ("group_center", "group_band"):
        if value not in (GROUP_CENTERS if name == "group_center" else GROUP_BANDS):
            raise ValueError(name)
        return value
    if name == "key_filter":
        if not isinstance(value, str):
            raise TypeError(name)
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError(name)
        return value
    return value


def _is_group_field(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    source, dot, key = v.partition(".")
    return bool(dot and key) and source in ("params", "tags")


def natural_key(text: str) -> tuple:
    """Sort key that orders embedded numbers numerically ("layer2" before "layer10")."""
    parts = _DIGITS.split(text.casefold())
    return tuple((0, int(p), p) if i % 2 else (1, 0, p) for i, p in enumerate(parts))


def key_matches(key: str, key_filter: str) -> bool:
    """Whether ``key`` passes the search box text.

    Empty text matches everything. Text containing ``*``, ``?`` or ``[`` is a glob over the
    whole key (``train/*``, ``*loss``); anything else is a substring. Both ignore case.
    Several space-separated terms must all match (``val acc``).
    """
    for term in key_filter.split():
        term = term.casefold()
        k = key.casefold()
        if _GLOB_CHARS.search(term):
            if not fnmatch.fnmatchcase(k, term):
                return False
        elif term not in k:
            return False
    return True


def group_of(key: str) -> str:
    """The panel group of a key: its prefix before the first "/", or "" if it has none."""
    prefix, sep, _ = key.partition("/")
    return prefix if sep else ""


def group_keys(keys: Iterable[str], key_filter: str = "") -> list[tuple[str, list[str]]]:
    """Keys passing ``key_filter``, grouped by prefix: ``[(group, [keys...]), ...]``.

    The ungrouped keys (no "/") come first under ``""``; then groups in natural order
    (case-insensitive, numbers numerically), keys inside a group likewise. Duplicates are
    dropped; empty groups are not listed.
    """
    groups: dict[str, list[str]] = {}
    seen: set[str] = set()
    for key in keys:
        if key in seen or not key_matches(key, key_filter):
            continue
        seen.add(key)
        groups.setdefault(group_of(key), []).append(key)
    order = sorted(groups, key=lambda g: (g != "", natural_key(g)))
    return [(g, sorted(groups[g], key=natural_key)) for g in order]
