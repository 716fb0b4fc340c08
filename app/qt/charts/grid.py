"""The grid part of the ChartsView: panels in collapsible sections by key prefix, sized to
the width, and the empty state. A mixin: it works on the attributes ChartsView.__init__
sets up (``_plots``, ``_order``, ``_sections``, ``_collapsed``, ``_grid_box``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QStyle

from app.core.chart_settings import effective_columns, group_keys, group_of
from app.qt.charts.groups import GroupSection

if TYPE_CHECKING:
    from app.qt.charts.plot import MetricPlot

PANEL_MIN_HEIGHT, PANEL_MAX_HEIGHT = 240, 400
PANEL_ASPECT = 0.62  # height / width


class PanelGrid:
    """Mixin of ChartsView (listed before QWidget)."""

    def groups(self) -> list[tuple[str, list[str]]]:
        """The panel groups as shown: [(group, [keys...])]."""
        return [(g, [k for k in self._order if group_of(k) == g]) for g in self._sections]

    def set_group_expanded(self, group: str, expanded: bool) -> None:
        section = self._sections.get(group)
        if section is not None:
            section.set_expanded(expanded)
            self._on_group_toggled(group, expanded)

    def _rebuild_grid(self) -> None:
        groups = group_keys(self._keys, self._settings.key_filter)
        order = [k for _, ks in groups for k in ks]
        keep = set(order)
        for key in [k for k in self._plots if k not in keep]:
            plot = self._plots.pop(key)
            self._shown.pop(key, None)
            self._grouping.detach(key)
            plot.hide()
            plot.setParent(None)
            plot.deleteLater()
            self._dirty.discard(key)
        names = [g for g, _ in groups]
        for name in [g for g in self._sections if g not in names]:
            section = self._sections.pop(name)
            self._grid_box.removeWidget(section)
            section.deleteLater()
        for i, (name, keys) in enumerate(groups):
            section = self._sections.get(name)
            if section is None:
                section = self._sections[name] = GroupSection(name, self._grid_host)
                section.set_expanded(name not in self._collapsed)
                section.sig_toggled.connect(self._on_group_toggled)
            self._grid_box.removeWidget(section)
            self._grid_box.insertWidget(i, section)
            section.set_panels([self._plots.get(k) or self._new_plot(k) for k in keys],
                               self.grid_columns())
        self._sections = {g: self._sections[g] for g in names}
        self._order = order
        self._fit_panel_heights()
        self._update_empty_state()

    def _on_group_toggled(self, group: str, expanded: bool) -> None:
        (self._collapsed.discard if expanded else self._collapsed.add)(group)
        if expanded:
            self._request_missing()
            self._schedule()

    def _visible_plots(self) -> list[MetricPlot]:
        return [self._plots[k] for k in self._order
                if group_of(k) not in self._collapsed and k in self._plots]

    def _grid_width(self) -> int:
        # Counted as if the scroll bar were always shown: a bar coming or going with the
        # panels' height must not change the number of columns (that could flip for ever).
        bar = self.scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return self.scroll.width() - bar - 16

    def grid_columns(self) -> int:
        """Panels per row as laid out now (the setting, or what fits when it is auto)."""
        return effective_columns(self._settings.columns, self._grid_width())

    def _fit_panel_heights(self) -> None:
        cols = self.grid_columns()
        width = self._grid_width()
        h = int(min(max(width / cols * PANEL_ASPECT, PANEL_MIN_HEIGHT), PANEL_MAX_HEIGHT))
        for plot in self._plots.values():
            if plot.height() != h or plot.minimumHeight() != h:
                plot.setFixedHeight(h)

    def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.Resize and obj is self.scroll:
            self._fit_grid()
        return super().eventFilter(obj, ev)

    def _fit_grid(self) -> None:
        cols = self.grid_columns()
        if any(s.columns() != cols for s in self._sections.values()):
            self._rebuild_grid()  # auto columns: a wider or narrower window fits another number
        else:
            self._fit_panel_heights()

    def _update_empty_state(self) -> None:
        if not self._runs:
            text = "Check runs in the table to plot them"
        elif not self._keys:
            text = "No metrics logged for the checked runs yet"
        elif not self._order:
            text = f"No metric matches '{self._settings.key_filter}'"
        else:
            text = ""
        self._empty.setText(text)
        self._stack.setCurrentWidget(self._empty if text else self.scroll)

    def empty_text(self) -> str:
        """The empty-state message, or "" when panels are shown."""
        return self._empty.text() if self._stack.currentWidget() is self._empty else ""
