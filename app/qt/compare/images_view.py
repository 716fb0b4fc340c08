"""The same image artifact (e.g. ``plots/confusion.png``) of several runs side by side.

Listing the artifacts and decoding the images happen on the worker thread. Decoded images are
cached per (run, path) with the file's mtime and size, so a live refresh decodes only files that
changed; finished runs are not listed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QStackedLayout,
    QVBoxLayout, QWidget,
)

from app.qt.compare.image_tiles import Decoded, ImageTile, decode_image, list_image_paths
from app.qt.workers import Worker
from tracker_sdk.entities import RunInfo

__all__ = ["ImagesCompareView", "decode_image", "list_image_paths"]

#: Fit-to-width never makes a thumbnail narrower than this; more runs wrap to the next row.
MIN_TILE_WIDTH = 200
NO_RUNS_TEXT = "Select two or more runs and choose Compare"
NO_IMAGES_TEXT = "No image artifacts (png, jpg, gif, bmp, webp) in these runs"


class ImagesCompareView(QWidget):
    """A path chooser over a grid of thumbnails, one per run."""

    sig_loaded = Signal()  # the thumbnails of the chosen path are all shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs: list[RunInfo] = []
        self._colors: dict[str, str] = {}
        self._store: Any = None
        self._worker: Worker | None = None
        self._paths: dict[str, set[str]] = {}
        self._cache: dict[tuple[str, str], Decoded] = {}
        self._list_gen = self._image_gen = 0  # bumped to drop results still on their way
        self._listing = self._list_dirty = False
        self._listed_key: tuple[tuple[str, str], ...] = ()  # (run id, status) of the last listing
        self.tiles: dict[str, ImageTile] = {}
        self._dialog: QDialog | None = None

        self.path_combo = QComboBox(minimumContentsLength=28)
        self.path_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.path_combo.currentIndexChanged.connect(lambda _i: self._load_images())
        self.fit = QCheckBox("Fit to width", checked=True, toolTip="Scale the images to the width of the view")
        self.fit.toggled.connect(lambda _on: self._arrange())
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(8)
        top.addWidget(QLabel("Image"))
        top.addWidget(self.path_combo)
        top.addWidget(self.fit)
        top.addStretch(1)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(10)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.scroll = QScrollArea(frameShape=QFrame.Shape.NoFrame, widgetResizable=True)
        self.scroll.setWidget(self.grid_host)
        self.scroll.viewport().installEventFilter(self)

        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(8, 8, 8, 8)
        col.setSpacing(8)
        col.addLayout(top)
        col.addWidget(self.scroll, 1)
        self.empty = QLabel(NO_RUNS_TEXT, objectName="EmptyState")
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(page)

    # --- input --------------------------------------------------------------------------------
    def set_runs(self, runs: Sequence[RunInfo], colors: Mapping[str, str], store: Any,
                 worker: Worker) -> None:
        """Show these runs. Call again with fresh snapshots: running runs are listed again."""
        self._runs, self._colors, self._store, self._worker = list(runs), dict(colors), store, worker
        ids = tuple(r.id for r in self._runs)
        if len(ids) < 2:
            self._listed_key = ()
            self._show_empty(NO_RUNS_TEXT)
            return
        if [t for t in self.tiles] != list(ids):
            self._rebuild_tiles()
        else:
            for r in self._runs:
                self.tiles[r.id].set_run(r, self._colors.get(r.id, "#888888"))
        # Finished runs do not grow new artifacts: list again only while some run is running, and
        # once more when one ends (its last images may have come after the previous listing).
        if self._runs_key() != self._listed_key or any(not r.status.is_terminal for r in self._runs):
            self.refresh()

    def refresh(self) -> None:
        """List the image artifacts again (worker), then reload the chosen path's images."""
        if self._store is None or self._worker is None or len(self._runs) < 2:
            return
        if self._listing:  # coalesce: one listing at a time, one more after it if asked meanwhile
            self._list_dirty = True
            return
        self._listing = True
        gen, store, key = self._list_gen, self._store, self._runs_key()
        ids = [rid for rid, _status in key]
        self._worker.submit(lambda: list_image_paths(store, ids),
                            lambda paths: self._on_listed(gen, key, paths), self._on_list_failed)

    def _runs_key(self) -> tuple[tuple[str, str], ...]:
        return tuple((r.id, str(r.status)) for r in self._runs)

    def _on_listed(self, gen: int, key: tuple[tuple[str, str], ...], paths: dict[str, set[str]]) -> None:
        self._listing = False
        ids = [rid for rid, _status in key]
        if gen == self._list_gen and ids == [r.id for r in self._runs]:
            self._listed_key = key
            self._apply_listing(ids, paths)
        if self._list_dirty:
            self._list_dirty = False
            self.refresh()

    def _on_list_failed(self, error: BaseException) -> None:
        self._listing = self._list_dirty = False
        self._show_empty(f"Could not list the artifacts: {error}")

    def _apply_listing(self, ids: list[str], paths: dict[str, set[str]]) -> None:
        self._paths = paths
        if not paths:
            self._show_empty(NO_IMAGES_TEXT)
            return
        self.stack.setCurrentIndex(1)
        current = self.current_path()
        items = [(f"{p}   ({len(paths[p])} of {len(ids)} runs)", p) for p in sorted(paths)]
        if items != [(self.path_combo.itemText(i), self.path_combo.itemData(i)) for i in range(self.path_combo.count())]:
            most = min(paths, key=lambda p: (-len(paths[p]), p))  # the path most runs have
            self.path_combo.blockSignals(True)
            self.path_combo.clear()
            for text, p in items:
                self.path_combo.addItem(text, p)
            self.path_combo.setCurrentIndex(self.path_combo.findData(current if current in paths else most))
            self.path_combo.blockSignals(False)
        self._load_images()

    def _show_empty(self, text: str) -> None:
        self._list_gen += 1
        self._image_gen += 1
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    # --- images -------------------------------------------------------------------------------
    def paths(self) -> list[str]:
        return [self.path_combo.itemData(i) for i in range(self.path_combo.count())]

    def current_path(self) -> str | None:
        return self.path_combo.currentData()

    def set_path(self, path: str) -> None:
        i = self.path_combo.findData(path)
        if i >= 0:
            self.path_combo.setCurrentIndex(i)

    def _load_images(self) -> None:
        path = self.current_path()
        if path is None or self._store is None or self._worker is None:
            return
        self._image_gen += 1
        gen, store = self._image_gen, self._store
        have = [rid for rid in self.tiles if rid in self._paths.get(path, ())]
        known = {rid: self._cache[(rid, path)].stamp for rid in have if (rid, path) in self._cache}
        for rid, tile in self.tiles.items():
            if rid not in have:
                tile.set_image(None)
            elif rid not in known:
                tile.state = "loading"
                tile.thumb.set_content(None, "Loading…")

        def job() -> dict[str, Decoded | None]:
            out: dict[str, Decoded | None] = {}
            for rid in have:
                try:
                    file = store.artifact_path(rid, path)
                    st = file.stat()
                except (OSError, ValueError):
                    out[rid] = None  # deleted meanwhile
                    continue
                stamp = (st.st_mtime_ns, st.st_size)
                if known.get(rid) == stamp:
                    continue  # unchanged: keep the decoded one
                image, size, error = decode_image(str(file))
                out[rid] = Decoded(stamp, image, size, error)
            return out

        self._worker.submit(job, lambda res: self._on_images(gen, path, have, res))

    def _on_images(self, gen: int, path: str, have: list[str], results: dict[str, Decoded | None]) -> None:
        for rid, d in results.items():  # facts about files: worth keeping even if stale here
            if d is None:
                self._cache.pop((rid, path), None)
            else:
                self._cache[(rid, path)] = d
        if gen != self._image_gen:  # another path (or run set) was chosen meanwhile
            return
        for rid in have:
            if rid in self.tiles:
                self.tiles[rid].set_image(self._cache.get((rid, path)))
        self._arrange()
        self.sig_loaded.emit()

    # --- layout -------------------------------------------------------------------------------
    def _rebuild_tiles(self) -> None:
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
            tile.deleteLater()
        self.tiles = {}
        ids = {r.id for r in self._runs}
        self._cache = {k: v for k, v in self._cache.items() if k[0] in ids}
        for r in self._runs:
            tile = ImageTile(r, self._colors.get(r.id, "#888888"), self.grid_host)
            tile.thumb.clicked.connect(lambda rid=r.id: self.enlarge(rid))
            self.tiles[r.id] = tile
        self._arrange()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            self._arrange()
        return super().eventFilter(obj, event)

    def _arrange(self) -> None:
        """Fit: as many columns as fit at MIN_TILE_WIDTH, scaled to the width. Else one row, 1:1."""
        tiles = list(self.tiles.values())
        if not tiles:
            return
        sizes = [t.image.size() for t in tiles if t.image is not None]
        aspect = max((s.height() / s.width() for s in sizes if s.width()), default=0.75)
        spacing, pad = self.grid.spacing(), 16  # tile margins
        if self.fit.isChecked():
            self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            avail = self.scroll.viewport().width()
            cols = max(1, min(len(tiles), (avail + spacing) // (MIN_TILE_WIDTH + spacing)))
            w = max(60, (avail - (cols - 1) * spacing) // cols - pad)
            thumb = QSize(w, max(40, min(int(w * aspect), 2 * w)))
        else:
            self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            cols = len(tiles)
            thumb = QSize(max((s.width() for s in sizes), default=160), max((s.height() for s in sizes), default=120))
            thumb = thumb.expandedTo(QSize(120, 40))
        for i, tile in enumerate(tiles):
            tile.thumb.setFixedSize(thumb)
            tile.setFixedWidth(thumb.width() + pad)
            tile.fit_name(thumb.width())
            if self.grid.indexOf(tile) < 0 or self.grid.getItemPosition(self.grid.indexOf(tile))[:2] != (i // cols, i % cols):
                self.grid.removeWidget(tile)
                self.grid.addWidget(tile, i // cols, i % cols)
            tile.show()

    # --- enlarge ------------------------------------------------------------------------------
    def enlarge(self, run_id: str) -> QDialog | None:
        """Open the run's image in a dialog, as large as fits on the screen."""
        tile = self.tiles.get(run_id)
        if tile is None or tile.image is None:
            return None
        run = next(r for r in self._runs if r.id == run_id)
        dlg = QDialog(self, windowTitle=f"{run.name or run.id[:8]} — {self.current_path()}")
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        screen = self.screen().availableGeometry().size() * 0.8 if self.screen() else QSize(1000, 700)
        img = tile.image
        bound = QSize(max(200, screen.width()), max(200, screen.height()))
        if img.width() <= bound.width() // 2 and img.height() <= bound.height() // 2:  # small: blow up, crisply
            k = max(1, min(bound.width() // max(1, img.width()), bound.height() // max(1, img.height()), 16))
            shown = img.scaled(img.size() * k, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        elif img.width() > bound.width() or img.height() > bound.height():
            shown = img.scaled(bound, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        else:
            shown = img
        label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        label.setPixmap(QPixmap.fromImage(shown))
        caption = QLabel(f"{tile.image_size.width()} × {tile.image_size.height()} px")
        lay = QVBoxLayout(dlg)
        lay.addWidget(label, 1)
        lay.addWidget(caption)
        self._dialog = dlg
        dlg.open()
        return dlg
