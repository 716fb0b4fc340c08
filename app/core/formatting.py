"""Human-readable durations and sizes, shared by the app and the command line."""

from __future__ import annotations


def human_duration(seconds: float | None) -> str:
    """``"12.3s"``, ``"3m 05s"``, ``"1h 02m"``, ``"2d 03h"``; empty for None."""
    if seconds is None:
        return ""
    s = max(0.0, float(seconds))
    if s < 60:
        return f"{s:.1f}s" if s < 10 else f"{int(s)}s"
    total = int(s)
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def human_size(size: int | None) -> str:
    """``"512 B"``, ``"1.5 KB"``, ``"20.0 MB"`` (powers of 1024)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def printable(text: str) -> str:
    """``text`` with unprintable characters written as escapes (``\\n``, ``\\t``, ``\\x1b``, ``\\ud800``).

    Keys, names and values come from users' scripts: a newline must not split a table row, an
    escape sequence must not drive the terminal, and a lone surrogate must not crash the output.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
