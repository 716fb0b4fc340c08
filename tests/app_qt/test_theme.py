"""Themes: token files, QSS templating, recoloured SVG icons, apply_theme (offscreen Qt)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from app.qt import theme
from app.qt.theme import ThemeError

THEMES = ("light", "dark")
ICONS = theme.available_icons()


@pytest.fixture
def restore_app(qapp: QApplication):
    """Put the shared QApplication back the way it was after a test that themes it."""
    import pyqtgraph as pg

    saved = (
        qapp.styleSheet(),
        QPalette(qapp.palette()),
        qapp.font(),
        qapp.style().name(),
        pg.getConfigOption("background"),
        pg.getConfigOption("foreground"),
        theme._current,
    )
    yield qapp
    sheet, palette, font, style, bg, fg, current = saved
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)
    pg.setConfigOptions(background=bg, foreground=fg)
    theme._current = current


def _rgba(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    return buf.reshape(img.height(), img.bytesPerLine())[:, : img.width() * 4].reshape(
        img.height(), img.width(), 4
    )


# ------------------------------------------------------------------------------------- tokens
def test_resources_dir_is_found():
    assert theme.RESOURCES.is_dir()
    for sub in ("styles", "themes", "icons"):
        assert (theme.RESOURCES / sub).is_dir(), sub
    desktop = (theme.RESOURCES / "runwatch.desktop").read_text()
    assert "Exec=runwatch ui" in desktop and "[Desktop Entry]" in desktop


@pytest.mark.parametrize("name", THEMES)
def test_theme_defines_exactly_the_documented_tokens(name):
    tokens = theme.load_tokens(name)
    assert set(tokens) == set(theme.TOKENS)
    assert all(QColor.isValidColorName(v) for v in tokens.values())


def test_load_tokens_returns_a_copy():
    theme.load_tokens("light")["text"] = "#123456"
    assert theme.load_tokens("light")["text"] != "#123456"


def test_dark_is_dark_and_light_is_light():
    dark, light = theme.load_tokens("dark"), theme.load_tokens("light")
    assert QColor(dark["background"]).lightness() < 60
    assert QColor(dark["text"]).lightness() > 180
    assert QColor(light["background"]).lightness() > 220
    assert QColor(light["text"]).lightness() < 70


def test_unknown_theme_is_a_clear_error():
    with pytest.raises(ThemeError, match="unknown theme 'solarized'"):
        theme.load_tokens("solarized")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- stylesheet
@pytest.mark.parametrize("name", THEMES)
def test_every_qss_token_resolves(name):
    sheet = theme.build_stylesheet(name)
    assert "{{" not in sheet and "}}" not in sheet
    tokens = theme.load_tokens(name)
    assert tokens["accent"] in sheet and tokens["text"] in sheet
    # every url("...") produced by icon_path() points at an existing recoloured svg
    urls = re.findall(r'url\("([^"]+)"\)', sheet)
    assert urls
    for u in urls:
        assert Path(u).is_file(), u
        assert theme.PLACEHOLDER_COLOR not in Path(u).read_text().lower()


def test_every_template_in_the_qss_files_is_known():
    """Catch typos in tokens even when a theme would happen to define the misspelt name."""
    known_fns = {"opacity", "darken", "lighten", "icon_path"}
    for f in sorted((theme.RESOURCES / "styles").glob("*.qss")):
        for expr in re.findall(r"\{\{\s*(.*?)\s*\}\}", f.read_text()):
            m = re.match(r"(\w+)\((.*)\)$", expr)
            if m is None:
                assert expr in theme.TOKENS, f"{f.name}: {expr}"
                continue
            fn, args = m.group(1), [a.strip() for a in m.group(2).split(",")]
            assert fn in known_fns, f"{f.name}: {expr}"
            if fn == "icon_path":
                assert args[0] in ICONS, f"{f.name}: {expr}"
                assert len(args) == 1 or args[1] in theme.TOKENS, f"{f.name}: {expr}"
            else:
                assert args[0] in theme.TOKENS, f"{f.name}: {expr}"


def test_custom_selectors_cover_every_status_and_level():
    custom = (theme.RESOURCES / "styles" / "01_custom.qss").read_text()
    for status in theme.STATUS_ICONS:
        assert f'#StatusChip[status="{status}"]' in custom
    for level in ("info", "warning", "error"):
        assert f'#MessageBar[level="{level}"]' in custom
    for name in ("#FilterBar", "#WelcomePage", "#WelcomeTitle", "#PanelTitle", "#EmptyState", "QFrame#Card"):
        assert name in custom
    assert '#FilterBar[error="true"]' in custom


@pytest.mark.parametrize(
    ("qss", "message"),
    [
        ("QWidget { color: {{ no_such_token }}; }", r"broken\.qss:1: unknown token .*no_such_token"),
        ("\n\nQWidget { color: {{ opacity(nope, 10) }}; }", r"broken\.qss:3: unknown token 'nope'"),
        ("QWidget { color: {{ blend(text, accent) }}; }", r"unknown function 'blend'"),
        ("QWidget { color: {{ opacity(text, lots) }}; }", r"must be a number"),
        ('QWidget { image: url("{{ icon_path(no-such-icon) }}"); }', r"unknown icon 'no-such-icon'"),
    ],
)
def test_bad_templates_are_clear_errors(tmp_path, monkeypatch, qss, message):
    (tmp_path / "broken.qss").write_text(qss)
    monkeypatch.setattr(theme, "_STYLES", tmp_path)
    with pytest.raises(ThemeError, match=message):
        theme.build_stylesheet("light")


def test_template_functions(tmp_path, monkeypatch):
    (tmp_path / "a.qss").write_text(
        "a { x: {{ opacity(accent, 51) }}; y: {{darken(accent,20)}}; z: {{ lighten( accent , 20 ) }}; }"
    )
    monkeypatch.setattr(theme, "_STYLES", tmp_path)
    accent = QColor(theme.load_tokens("light")["accent"])
    out = theme.build_stylesheet("light")
    assert f"rgba({accent.red()}, {accent.green()}, {accent.blue()}, 51)" in out
    assert accent.darker(120).name() in out
    assert accent.lighter(120).name() in out


# --------------------------------------------------------------------------------------- icons
def test_expected_icons_exist():
    wanted = {
        "open-folder", "refresh", "filter", "columns", "chart", "table", "compare", "delete",
        "restore", "tag", "rename", "copy", "export", "settings", "search", "play", "check", "x",
        "alert", "stop", "eye", "eye-off", "zoom-reset", "log-scale", "crosshair", "sun", "moon",
        "file", "image", "folder", "model", "note", "info", "runwatch",
    }  # fmt: skip
    assert wanted <= set(ICONS)


@pytest.mark.parametrize("name", ICONS)
def test_icon_svgs_use_the_placeholder_colour_only(name):
    text = (theme.RESOURCES / "icons" / f"{name}.svg").read_text().lower()
    assert 'viewbox="0 0 24 24"' in text
    assert "currentcolor" not in text
    if name != "runwatch":
        colours = set(re.findall(r"#[0-9a-f]{6}\b", text))
        assert colours == {theme.PLACEHOLDER_COLOR}, colours


@pytest.mark.parametrize("name", ICONS)
@pytest.mark.parametrize("theme_name", THEMES)
def test_every_icon_renders_in_the_theme_colour(qapp, theme_name, name):
    px = theme.icon(name, theme_name).pixmap(32, 32)
    assert not px.isNull()
    rgba = _rgba(px.toImage()).astype(float)
    opaque = rgba[..., 3] > 200
    assert opaque.sum() > 20, "icon rendered blank"
    if name == "runwatch":  # the coloured logo is not recoloured
        return
    # colour of the fully drawn pixels ~ the theme's text colour: light on dark, dark on light
    mean = rgba[opaque][:, :3].mean(axis=0)
    lightness = QColor(*(int(v) for v in mean)).lightness()
    if theme_name == "dark":
        assert lightness > 170, mean
    else:
        assert lightness < 90, mean


def test_icon_is_cached_per_name_and_theme(qapp):
    assert theme.icon("chart", "dark") is theme.icon("chart", "dark")
    assert theme.icon("chart", "dark") is not theme.icon("chart", "light")


def test_icon_custom_colour_and_aliases(qapp):
    running = QColor(theme.status_color("RUNNING", "light"))
    img = theme.icon("running", "light", color="running").pixmap(32, 32).toImage()
    rgba = _rgba(img)
    drawn = rgba[rgba[..., 3] == 255][:, :3]
    assert len(drawn)
    assert np.abs(drawn.mean(axis=0) - [running.red(), running.green(), running.blue()]).max() < 12
    assert not theme.icon("artifact", "dark").isNull()


def test_unknown_icon_is_a_clear_error(qapp):
    with pytest.raises(ThemeError, match=r"unknown icon 'no-such-icon'.*available: .*chart"):
        theme.icon("no-such-icon", "light")
    with pytest.raises(ThemeError, match="unknown colour token 'nope'"):
        theme.icon("chart", "light", color="nope")


# ------------------------------------------------------------------------------------ statuses
@pytest.mark.parametrize("theme_name", THEMES)
def test_status_colors(theme_name):
    tokens = theme.load_tokens(theme_name)
    assert theme.status_color("RUNNING", theme_name) == tokens["running"]
    assert theme.status_color("finished", theme_name) == tokens["success"]
    assert theme.status_color("FAILED", theme_name) == tokens["error"]
    assert theme.status_color("CRASHED", theme_name) == tokens["warning"]
    assert theme.status_color("KILLED", theme_name) == tokens["text_muted"]
    with pytest.raises(ThemeError, match="unknown run status 'PAUSED'"):
        theme.status_color("PAUSED", theme_name)


def test_status_color_accepts_the_sdk_enum():
    from tracker_sdk.entities import RunStatus

    for s in RunStatus:
        assert theme.status_color(s, "dark").startswith("#")


# ------------------------------------------------------------------------------------ applying
def test_apply_theme_changes_palette_stylesheet_and_pyqtgraph(restore_app, qtbot):
    import pyqtgraph as pg

    app = restore_app
    with qtbot.waitSignal(theme.theme_notifier().themeChanged, timeout=1000) as blocker:
        theme.apply_theme(app, "dark")
    assert blocker.args == ["dark"]
    dark = theme.load_tokens("dark")
    assert app.palette().color(QPalette.ColorRole.Window) == QColor(dark["background"])
    assert app.palette().color(QPalette.ColorRole.Text) == QColor(dark["text"])
    assert app.styleSheet() == theme.build_stylesheet("dark")
    assert theme.current_theme() == "dark"
    assert QColor(pg.getConfigOption("background")) == QColor(dark["plot_background"])
    assert QColor(pg.getConfigOption("foreground")) == QColor(dark["plot_foreground"])
    assert app.font().pixelSize() == theme.FONT_PIXEL_SIZE

    theme.apply_theme(app, "light")
    light = theme.load_tokens("light")
    assert app.palette().color(QPalette.ColorRole.Window) == QColor(light["background"])
    assert theme.current_theme() == "light"
    # icon() without a theme follows the current one
    assert theme.icon("chart") is theme.icon("chart", "light")


def test_stylesheet_parses_without_qt_warnings(restore_app, qtbot):
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import (
        QCheckBox, QComboBox, QGroupBox, QMenu, QPushButton, QScrollBar, QSlider, QSpinBox,
        QTableView, QTabWidget, QTreeView, QVBoxLayout,
    )  # fmt: skip

    root = QWidget()
    qtbot.addWidget(root)
    lay = QVBoxLayout(root)
    for w in (QCheckBox("c"), QComboBox(), QGroupBox("g"), QPushButton("p"), QScrollBar(),
              QSlider(), QSpinBox(), QTableView(), QTabWidget(), QTreeView(), QMenu()):  # fmt: skip
        lay.addWidget(w)
    messages: list[str] = []
    # own handler rather than pytest-qt's qtlog, which captures nothing under `pytest -s`
    previous = qInstallMessageHandler(lambda mode, ctx, msg: messages.append(msg))
    try:
        for name in THEMES:
            theme.apply_theme(restore_app, name)
            root.show()
            qtbot.waitExposed(root)
            root.grab()
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in messages if "style" in m.lower() or "parse" in m.lower()], messages


def _left_border_colour(w: QWidget) -> QColor:
    img = w.grab().toImage()
    return img.pixelColor(0, img.height() // 2)


def _close(a: QColor, b: QColor, tol: int = 40) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= tol


@pytest.mark.parametrize("theme_name", THEMES)
def test_filter_bar_error_state_draws_a_red_border(restore_app, qtbot, theme_name):
    theme.apply_theme(restore_app, theme_name)
    tokens = theme.load_tokens(theme_name)
    edit = QLineEdit("loss <")
    edit.setObjectName("FilterBar")
    qtbot.addWidget(edit)
    edit.resize(240, 32)
    edit.show()
    qtbot.waitExposed(edit)
    assert not _close(_left_border_colour(edit), QColor(tokens["error"]))
    theme.set_style_property(edit, "error", True)
    assert _close(_left_border_colour(edit), QColor(tokens["error"]))
    theme.set_style_property(edit, "error", False)
    assert not _close(_left_border_colour(edit), QColor(tokens["error"]))
