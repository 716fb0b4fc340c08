"""The runs table's name cells: indented by nesting depth, with a fold arrow on parents."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.qt.runs_model import CHILDREN_ROLE, DEPTH_ROLE, EXPANDED_ROLE, RUN_ID_ROLE

INDENT_PX = 16
ARROW_PX = 16


class NameDelegate(QStyledItemDelegate):
    """Paints every cell; only name cells (those answering DEPTH_ROLE) get the tree look."""

    def _geometry(self, option: QStyleOptionViewItem, index: QModelIndex) -> tuple[QRect, int] | None:
        """(arrow box, text indent) of a name cell, or None for other cells."""
        depth = index.data(DEPTH_ROLE)
        if depth is None:
            return None
        model = index.model()
        gutter = ARROW_PX if getattr(model, "has_children", False) else 0
        left = option.rect.left() + 2 + depth * INDENT_PX
        arrow = QRect(left, option.rect.top(), ARROW_PX, option.rect.height())
        return arrow, depth * INDENT_PX + gutter

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        kids = index.data(CHILDREN_ROLE)
        if kids:
            option.text = f"{option.text}  ({kids})"

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        geo = self._geometry(option, index)
        if geo is None or (geo[1] == 0 and not index.data(CHILDREN_ROLE)):
            super().paint(painter, option, index)
            return
        arrow, indent = geo
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        # The cell's background (selection, alternate rows, focus) as usual, then the text
        # after the indent: the style cannot indent a cell's text by itself.
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        color = (opt.palette.highlightedText() if selected else opt.palette.text()).color()
        rect = option.rect.adjusted(indent + 6, 0, -4, 0)
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(color)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         opt.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width()))
        painter.restore()
        if index.data(CHILDREN_ROLE):
            self._draw_arrow(painter, arrow, bool(index.data(EXPANDED_ROLE)), color)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        geo = self._geometry(option, index)
        return hint if geo is None else QSize(hint.width() + geo[1], hint.height())

    @staticmethod
    def _draw_arrow(painter: QPainter, box: QRect, expanded: bool, color: QColor) -> None:
        c = QPointF(box.center())
        s = 3.5
        path = QPainterPath()
        if expanded:  # a chevron pointing down
            path.moveTo(c.x() - s, c.y() - s / 2)
            path.lineTo(c.x(), c.y() + s / 2)
            path.lineTo(c.x() + s, c.y() - s / 2)
        else:  # pointing right
            path.moveTo(c.x() - s / 2, c.y() - s)
            path.lineTo(c.x() + s / 2, c.y())
            path.lineTo(c.x() - s / 2, c.y() + s)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        painter.drawPath(path)
        painter.restore()

    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem, index: QModelIndex) -> bool:  # noqa: N802, ANN001
        """A click on a parent's arrow folds or unfolds its children."""
        if (event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent)
                and event.button() == Qt.MouseButton.LeftButton and index.data(CHILDREN_ROLE)):
            geo = self._geometry(option, index)
            if geo is not None and geo[0].contains(event.position().toPoint()):
                model.set_collapsed(index.data(RUN_ID_ROLE), bool(index.data(EXPANDED_ROLE)))
                return True
        return super().editorEvent(event, model, option, index)
