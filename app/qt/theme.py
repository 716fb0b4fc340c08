"""Light and dark themes built from ``resources/``: token JSON + split QSS files + recoloured SVG icons.

Layout (napari style)::

    resources/themes/<name>.json     flat {token: "#rrggbb"} maps, one per theme
    resources/styles/*.qss           read in sorted order and concatenated
    resources/icons/*.svg            24x24 line icons drawn in the placeholder colour #000000

Template syntax inside the QSS files::

    {{ token }}                        the token's colour, e.g. {{ accent }}
    {{ opacity(token, 0..255) }}       rgba() of the token with that alpha
    {{ darken(token, percent) }}       the token darkened by percent (0..100)
    {{ lighten(token, percent) }}      the token lightened by percent (0..100)
    {{ icon_path(name) }}              path of the icon recoloured with ``text`` (for ``url("...")``)
    {{ icon_path(name, token) }}       path of the icon recoloured with another token

An unknown token, function or icon raises :class:`ThemeError` naming the file and line.

Widgets whose look depends on a dynamic property (``#FilterBar[error="true"]``,
``#MessageBar[level=...]``, ``#StatusChip[status=...]``) must be re-polished after the property
changes: use :func:`set_style_property`.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

__all__ = [
    "FONT_PIXEL_SIZE",
    "PLACEHOLDER_COLOR",
    "RESOURCES",
    "STATUS_ICONS",
    "THEMES",
    "TOKENS",
    "ThemeError",
    "ThemeName",
    "apply_theme",
    "available_icons",
    "build_stylesheet",
    "current_theme",
    "icon",
    "icon_svg",
    "load_tokens",
    "set_style_property",
    "status_color",
    "theme_notifier",
]

ThemeName = Literal["light", "dark"]
THEMES: tuple[str, ...] = get_args(ThemeName)

#: Every theme JSON must define exactly these tokens (all colours, "#rrggbb").
TOKENS: tuple[str, ...] = (
    "background",
    "surface",
    "surface_alt",
    "border",
    "text",
    "text_muted",
    "accent",
    "accent_text",
    "selection",
    "hover",
    "error",
    "warning",
    "success",
    "running",
    "plot_background",
    "plot_foreground",
    "grid",
)

#: The colour the SVG icons are drawn in; :func:`icon` replaces it with the theme's colour.
PLACEHOLDER_COLOR = "#000000"
#: Icons drawn in their own colours, never recoloured.
_FIXED_COLOR_ICONS = frozenset({"runwatch"})
#: Alternative names accepted by :func:`icon`.
_ICON_ALIASES = {
    "artifact": "file",
    "cube": "model",
    "running": "play",
    "finished": "check",
    "failed": "x",
    "crashed": "alert",
    "killed": "stop",
    "logo": "runwatch",
}
#: Run status -> icon name.
STATUS_ICONS = {
    "RUNNING": "play",
    "FINISHED": "check",
    "FAILED": "x",
    "KILLED": "stop",
    "CRASHED": "alert",
}
#: Run status -> token giving its colour.
_STATUS_TOKENS = {
    "RUNNING": "running",
    "FINISHED": "success",
    "FAILED": "error",
    "KILLED": "text_muted",
    "CRASHED": "warning",
}
#: Base font size of the application, in pixels.
FONT_PIXEL_SIZE = 13
#: Sizes the icon pixmaps are pre-rendered at (covers 16-32 px at 1x and 2x device pixel ratio).
_ICON_SIZES = (16, 20, 24, 32, 40, 48, 64)


class ThemeError(LookupError):
    """A theme, token, template function or icon that does not exist, or a malformed theme file."""


def _find_resources() -> Path:
    """The ``resources/`` directory: the source tree first, then the installed data files."""

    def ok(p: Path) -> bool:
        return (p / "themes" / "light.json").is_file() and (p / "styles").is_dir()

    candidates: list[Path] = []
    if env := os.environ.get("RUNWATCH_RESOURCES"):
        candidates.append(Path(env))
    source = Path(__file__).resolve().parents[2] / "resources"  # source tree / editable install
    candidates.append(source)
    share = Path("share") / "runwatch" / "resources"  # [tool.setuptools.data-files] target
    candidates.append(Path(sys.prefix) / share)
    try:
        import site

        if site.USER_BASE:
            candidates.append(Path(site.USER_BASE) / share)  # pip install --user
    except Exception:  # pragma: no cover - site can be stripped in frozen apps
        pass
    candidates.append(Path(sys.base_prefix) / share)
    for c in candidates:
        if ok(c):
            return c
    # Nothing found: return the source location so error messages name a sensible path.
    return source


RESOURCES: Path = _find_resources()
_STYLES = RESOURCES / "styles"
_THEMES_DIR = RESOURCES / "themes"
_ICONS = RESOURCES / "icons"

_current: str | None = None


def _check_name(name: str) -> str:
    if name not in THEMES:
        raise ThemeError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    return name


# ---------------------------------------------------------------------------------------- tokens
@cache
def _tokens(name: str) -> Mapping[str, str]:
    path = _THEMES_DIR / f"{_check_name(name)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThemeError(f"theme file not found: {path}") from None
    except json.JSONDecodeError as e:
        raise ThemeError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ThemeError(f"{path}: expected a JSON object of token -> colour")
    missing = [t for t in TOKENS if t not in data]
    if missing:
        raise ThemeError(f"{path}: missing tokens: {', '.join(missing)}")
    for key, value in data.items():
        if not isinstance(value, str) or not QColor.isValidColorName(value):
            raise ThemeError(f"{path}: token {key!r} is not a colour: {value!r}")
    return {k: str(v).lower() for k, v in data.items()}


def load_tokens(name: ThemeName) -> dict[str, str]:
    """The theme's tokens, ``{token: "#rrggbb"}`` (a fresh copy the caller may modify)."""
    return dict(_tokens(name))


def current_theme() -> str:
    """The theme last passed to :func:`apply_theme` (``"light"`` before any call)."""
    return _current or "light"


def status_color(status: str, theme: ThemeName | str | None = None) -> str:
    """Colour (``"#rrggbb"``) for a run status such as ``"RUNNING"`` (case-insensitive)."""
    key = str(status).upper()
    try:
        token = _STATUS_TOKENS[key]
    except KeyError:
        raise ThemeError(
            f"unknown run status {status!r}; expected one of {', '.join(_STATUS_TOKENS)}"
        ) from None
    return _tokens(theme or current_theme())[token]


# ----------------------------------------------------------------------------------- stylesheet
_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_CALL = re.compile(r"^([A-Za-z_]\w*)\s*\((.*)\)$")
_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _color(tokens: Mapping[str, str], token: str) -> QColor:
    if token not in tokens:
        raise KeyError(token)
    return QColor(tokens[token])


def _number(arg: str, what: str) -> float:
    try:
        return float(arg.rstrip("%"))
    except ValueError:
        raise ValueError(f"{what} must be a number, got {arg!r}") from None


def _fn_opacity(tokens: Mapping[str, str], theme: str, token: str, alpha: str) -> str:
    c = _color(tokens, token)
    a = max(0, min(255, round(_number(alpha, "opacity"))))
    return f"rgba({c.red()}, {c.green()}, {c.blue()}, {a})"


def _fn_darken(tokens: Mapping[str, str], theme: str, token: str, pct: str) -> str:
    return _color(tokens, token).darker(100 + round(_number(pct, "darken"))).name()


def _fn_lighten(tokens: Mapping[str, str], theme: str, token: str, pct: str) -> str:
    return _color(tokens, token).lighter(100 + round(_number(pct, "lighten"))).name()


def _fn_icon_path(tokens: Mapping[str, str], theme: str, name: str, token: str = "text") -> str:
    return _recoloured_svg_file(name, _color(tokens, token).name())


_FUNCTIONS = {
    "opacity": _fn_opacity,
    "darken": _fn_darken,
    "lighten": _fn_lighten,
    "icon_path": _fn_icon_path,
}


def _substitute(text: str, source: str, theme: str, tokens: Mapping[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        expr = m.group(1)
        line = text.count("\n", 0, m.start()) + 1
        where = f"{source}:{line}"
        known = ", ".join(sorted(tokens))
        if _NAME.match(expr):
            if expr not in tokens:
                raise ThemeError(
                    f"{where}: unknown token {{{{ {expr} }}}} in theme {theme!r}; known tokens: {known}"
                )
            return tokens[expr]
        call = _CALL.match(expr)
        if not call:
            raise ThemeError(f"{where}: cannot parse template expression {{{{ {expr} }}}}")
        fn_name, raw_args = call.groups()
        fn = _FUNCTIONS.get(fn_name)
        if fn is None:
            raise ThemeError(
                f"{where}: unknown function {fn_name!r}; known: {', '.join(sorted(_FUNCTIONS))}"
            )
        args = [a.strip().strip("'\"") for a in raw_args.split(",")] if raw_args.strip() else []
        try:
            return fn(tokens, theme, *args)
        except KeyError as e:
            raise ThemeError(
                f"{where}: unknown token {e.args[0]!r} in {{{{ {expr} }}}} for theme {theme!r}; "
                f"known tokens: {known}"
            ) from None
        except (TypeError, ValueError, ThemeError) as e:
            raise ThemeError(f"{where}: bad call {{{{ {expr} }}}}: {e}") from None

    return _TEMPLATE.sub(repl, text)


def build_stylesheet(name: ThemeName) -> str:
    """Concatenate ``resources/styles/*.qss`` (sorted) with every ``{{ ... }}`` resolved."""
    tokens = _tokens(name)
    files = sorted(_STYLES.glob("*.qss"))
    if not files:
        raise ThemeError(f"no .qss files in {_STYLES}")
    parts = []
    for f in files:
        parts.append(f"/* ---- {f.name} ({name}) ---- */\n")
        parts.append(_substitute(f.read_text(encoding="utf-8"), f.name, name, tokens))
    return "\n".join(parts)


# ----------------------------------------------------------------------------------------- icons
def available_icons() -> list[str]:
    """Names of the icons in ``resources/icons`` (without ``.svg``)."""
    return sorted(p.stem for p in _ICONS.glob("*.svg"))


def _icon_file(name: str) -> Path:
    real = _ICON_ALIASES.get(name, name)
    path = _ICONS / f"{real}.svg"
    if not path.is_file():
        raise ThemeError(
            f"unknown icon {name!r} (no {path}); available: {', '.join(available_icons())}"
        )
    return path


@cache
def _svg_text(name: str) -> str:
    return _icon_file(name).read_text(encoding="utf-8")


def _resolve_color(color: str, theme: str) -> str:
    if color.startswith("#") or color.startswith("rgb"):
        return color
    tokens = _tokens(theme)
    if color not in tokens:
        raise ThemeError(f"unknown colour token {color!r}; known tokens: {', '.join(sorted(tokens))}")
    return tokens[color]


def icon_svg(name: str, color: str) -> str:
    """The SVG source of icon *name* with the placeholder colour replaced by *color* (``#rrggbb``)."""
    text = _svg_text(name)
    if _ICON_ALIASES.get(name, name) in _FIXED_COLOR_ICONS:
        return text
    return re.sub(re.escape(PLACEHOLDER_COLOR), color, text, flags=re.IGNORECASE)


_svg_dir: Path | None = None


def _recoloured_svg_file(name: str, color: str) -> str:
    """Write (once) a recoloured copy of an icon for ``url()`` in QSS; returns a forward-slash path."""
    global _svg_dir
    if _svg_dir is None:
        _svg_dir = Path(tempfile.mkdtemp(prefix="runwatch-theme-"))
        atexit.register(shutil.rmtree, _svg_dir, True)
    path = _svg_dir / f"{_ICON_ALIASES.get(name, name)}-{color.lstrip('#').lower()}.svg"
    if not path.exists():
        path.write_text(icon_svg(name, color), encoding="utf-8")
    return path.as_posix()


def _render(renderer: QSvgRenderer, size: int) -> QPixmap:
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p, QRectF(0, 0, size, size))
    p.end()
    return QPixmap.fromImage(img)


_icon_cache: dict[tuple[str, str, str | None], QIcon] = {}


def icon(name: str, theme: ThemeName | str | None = None, color: str | None = None) -> QIcon:
    """A themed icon from ``resources/icons/<name>.svg``.

    The placeholder ``#000000`` becomes the theme's ``text`` colour (``text_muted`` for the
    disabled state), or *color* (a token name such as ``"running"`` or a ``#rrggbb``) when given.
    *theme* defaults to :func:`current_theme`. Results are cached per (name, theme, color).
    Needs a ``QGuiApplication``. Raises :class:`ThemeError` for an unknown icon or token.
    """
    theme = _check_name(theme or current_theme())
    key = (name, theme, color)
    cached = _icon_cache.get(key)
    if cached is not None:
        return cached
    tokens = _tokens(theme)
    normal = _resolve_color(color, theme) if color else tokens["text"]
    result = QIcon()
    for mode, col in ((QIcon.Mode.Normal, normal), (QIcon.Mode.Disabled, tokens["text_muted"])):
        renderer = QSvgRenderer(icon_svg(name, col).encode("utf-8"))
        if not renderer.isValid():
            raise ThemeError(f"icon {name!r}: {_icon_file(name)} is not a valid SVG")
        for s in _ICON_SIZES:
            result.addPixmap(_render(renderer, s), mode)
    _icon_cache[key] = result
    return result


# -------------------------------------------------------------------------------------- applying
class _ThemeNotifier(QObject):
    #: Emitted with the theme name after :func:`apply_theme` (re-style plots, custom painting).
    themeChanged = Signal(str)


_notifier: _ThemeNotifier | None = None


def theme_notifier() -> _ThemeNotifier:
    """A QObject whose ``themeChanged(str)`` signal fires after every :func:`apply_theme`."""
    global _notifier
    if _notifier is None:
        _notifier = _ThemeNotifier()
    return _notifier


def _palette(t: Mapping[str, str]) -> QPalette:
    c = {k: QColor(v) for k, v in t.items()}
    pal = QPalette()
    R = QPalette.ColorRole
    G = QPalette.ColorGroup
    dark = c["background"].lightness() < 128
    roles = {
        R.Window: c["background"],
        R.WindowText: c["text"],
        R.Base: c["surface"],
        R.AlternateBase: c["surface_alt"],
        R.ToolTipBase: c["surface"],
        R.ToolTipText: c["text"],
        R.PlaceholderText: c["text_muted"],
        R.Text: c["text"],
        R.Button: c["surface"],
        R.ButtonText: c["text"],
        R.BrightText: c["error"],
        R.Highlight: c["selection"],
        R.HighlightedText: c["text"],
        R.Link: c["accent"],
        R.LinkVisited: c["accent"],
        R.Light: c["surface"].lighter(130 if dark else 110),
        R.Midlight: c["hover"],
        R.Mid: c["border"],
        R.Dark: c["border"].darker(130),
        R.Shadow: QColor(0, 0, 0, 160 if dark else 60),
    }
    if hasattr(R, "Accent"):  # Qt >= 6.6
        roles[R.Accent] = c["accent"]
    for role, col in roles.items():
        pal.setColor(role, col)
    for role in (R.WindowText, R.Text, R.ButtonText, R.HighlightedText):
        pal.setColor(G.Disabled, role, c["text_muted"])
    pal.setColor(G.Disabled, R.Button, c["surface_alt"])
    pal.setColor(G.Disabled, R.Base, c["surface_alt"])
    pal.setColor(G.Inactive, R.Highlight, c["selection"])
    return pal


def apply_theme(app: QApplication, name: ThemeName) -> None:
    """Style *app* with theme *name*: Fusion style, palette, stylesheet, font and pyqtgraph defaults.

    pyqtgraph's ``background``/``foreground`` options only affect plots created afterwards;
    existing plots should listen to ``theme_notifier().themeChanged`` and restyle themselves.
    """
    global _current
    _check_name(name)
    tokens = _tokens(name)
    sheet = build_stylesheet(name)  # fail before touching the app
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")  # resets the palette, so it goes first
    app.setPalette(_palette(tokens))
    font = QFont(app.font())
    font.setPixelSize(FONT_PIXEL_SIZE)
    app.setFont(font)
    app.setStyleSheet(sheet)
    try:
        import pyqtgraph as pg
    except ImportError:  # pragma: no cover - pyqtgraph is a dependency
        pass
    else:
        pg.setConfigOptions(
            background=tokens["plot_background"], foreground=tokens["plot_foreground"]
        )
    _current = name
    if _notifier is not None:
        _notifier.themeChanged.emit(name)


def set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Set a dynamic property used by a QSS selector and re-polish so the new look shows."""
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()

