"""The charts area of the app: a grid of metric panels overlaying the checked runs."""

from app.qt.charts.panel import ChartsView

__all__ = ["ChartsView"]
