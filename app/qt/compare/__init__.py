"""Compare runs side by side: a params/metrics/environment table and an image grid."""

from app.qt.compare.images_view import ImagesCompareView
from app.qt.compare.table_model import CompareTableModel
from app.qt.compare.table_view import CompareTableView

__all__ = ["CompareTableModel", "CompareTableView", "ImagesCompareView"]
