"""The grid part of the ChartsView: panels in collapsible sections by key prefix, sized to
the width, and the empty state. A mixin: it works on the attributes ChartsView.__init__
sets up (``_plots``, ``_order``, ``_sections``, ``_collapsed``, ``_grid_box``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.chart_settings import group_keys, group_of
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
                               self._settings.columns)
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

    def _fit_panel_heights(self) -> None:
        cols = max(self._settings.columns, 1)
        width = self.scroll.viewport().width() - 16
        h = int(min(max(width / cols * PANEL_ASPECT, PANEL_MIN_HEIGHT), PANEL_MAX_HEIGHT))
        for plot in self._plots.values():
            if plot.height() != h or plot.minimumHeight() != h:
                plot.setFixedHeight(h)

    def resizeEvent(self, ev):  # noqa: N802 - Qt API
        super().resizeEvent(ev)
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
