"""Pieces of the image comparison: listing and decoding (worker thread) and the run tiles.

``QImage`` may be made off the GUI thread; ``QPixmap`` only on it, so the decode functions
return ``QImage`` and the tiles turn them into pixmaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from app.qt.preview_loaders import PreviewError, decode
from tracker_sdk.entities import RunInfo

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
#: Images are decoded at most this large (longest side, px); enough for the enlarged view.
MAX_DECODE = 1280


@dataclass(frozen=True)
class Decoded:
    stamp: tuple[int, int]  # file mtime_ns, size: same stamp = same picture
    image: QImage | None
    size: QSize  # the file's own size, before any scaling down
    error: str = ""


def list_image_paths(store: Any, run_ids: Sequence[str]) -> dict[str, set[str]]:
    """``{artifact path: {run ids that have it}}`` for image files. Worker thread."""
    out: dict[str, set[str]] = {}
    walk = getattr(getattr(store, "artifacts", None), "walk", None)
    for rid in run_ids:
        files = walk(rid) if walk is not None else _walk(store, rid, "")
        for info in files:
            if not info.is_dir and info.path.lower().endswith(IMAGE_EXTENSIONS):
                out.setdefault(info.path, set()).add(rid)
    return out


def _walk(store: Any, run_id: str, path: str) -> list[Any]:
    out = []
    for info in store.list_artifacts(run_id, path):
        out.extend(_walk(store, run_id, info.path) if info.is_dir else [info])
    return out


def decode_image(file: str, max_side: int = MAX_DECODE) -> tuple[QImage | None, QSize, str]:
    """Read an image, scaled down (never up) to ``max_side``, within the previews' memory
    limit: (image, its own size, "") or (None, size, why not). Safe off the GUI thread."""
    reader = QImageReader(file)
    try:
        image, size = decode(reader, max_side)
    except PreviewError as e:
        return None, reader.size(), str(e)
    return image, size, ""


class Thumb(QWidget):
    """Paints a pixmap scaled to fit (pixels kept sharp when blown up), or a placeholder text."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmap: QPixmap | None = None
        self.text = "Loading…"

    def set_content(self, pixmap: QPixmap | None, text: str = "") -> None:
        self.pixmap, self.text = pixmap, text
        self.setCursor(Qt.CursorShape.PointingHandCursor if pixmap else Qt.CursorShape.ArrowCursor)
        self.setToolTip("Click to enlarge" if pixmap else "")
        self.update()

    def paintEvent(self, _event: QEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        if self.pixmap is None or self.pixmap.isNull():
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
            p.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
            p.drawRoundedRect(r, 6, 6)
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.text)
            return
        target = QSize(self.pixmap.size()).scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if target.width() > self.pixmap.width() * 2 or self.pixmap.width() <= 64:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp pixels
        else:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        x = (self.width() - target.width()) // 2
        y = (self.height() - target.height()) // 2
        p.drawPixmap(x, y, target.width(), target.height(), self.pixmap)

    def mousePressEvent(self, event: Any) -> None:
        if self.pixmap is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()


class ImageTile(QFrame):
    """One run: its name in its colour, the thumbnail, the image's size."""

    def __init__(self, run: RunInfo, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="Card")
        self.run_id = run.id
        self.state = "loading"  # loading | image | missing | error
        self.image: QImage | None = None
        self.image_size = QSize()
        self.name = QLabel()
        self.thumb = Thumb(self)
        self.caption = QLabel()
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        self.caption.setStyleSheet(f"color: {muted}; font-size: 11px;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addWidget(self.name)
        lay.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self.caption)
        self.set_run(run, color)

    def set_run(self, run: RunInfo, color: str) -> None:
        self._full_name = run.name or run.id[:8]
        self.fit_name(self.thumb.width())
        self.name.setToolTip(f"{self._full_name}\n{run.id}")
        self.name.setStyleSheet(f"color: {QColor(color).name()}; font-weight: 600;")

    def fit_name(self, width: int) -> None:
        fm = self.name.fontMetrics()
        self.name.setText(fm.elidedText(self._full_name, Qt.TextElideMode.ElideMiddle, max(40, width)))

    def set_image(self, d: Decoded | None) -> None:
        if d is None:
            self.state, self.image, self.image_size = "missing", None, QSize()
            self.thumb.set_content(None, "missing in this run")
            self.caption.setText("")
        elif d.image is None:
            self.state, self.image, self.image_size = "error", None, d.size
            self.thumb.set_content(None, f"Cannot read this image\n{d.error}")
            self.caption.setText("")
        else:
            self.state, self.image, self.image_size = "image", d.image, d.size
            self.thumb.set_content(QPixmap.fromImage(d.image))
            self.caption.setText(f"{d.size.width()} × {d.size.height()} px")
