"""The item model behind the artifacts tree: lazily filled, merged in place on refresh.

A folder row starts with a disabled "Loading…" child so it can be expanded; its listing, made
in a worker, replaces that child. ``merge`` makes a folder's rows match a new listing while
keeping the unchanged items, so expansion, selection and scroll position survive a refresh.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from app.qt.detail_common import human_size
from app.qt.theme import icon

if TYPE_CHECKING:
    from tracker_sdk.entities import ArtifactInfo

PATH_ROLE = Qt.ItemDataRole.UserRole + 1  # relative posix path; None for the placeholder
DIR_ROLE = Qt.ItemDataRole.UserRole + 2
LOADED_ROLE = Qt.ItemDataRole.UserRole + 3  # a folder whose listing was asked for
SIZE_ROLE = Qt.ItemDataRole.UserRole + 4
ICON_ROLE = Qt.ItemDataRole.UserRole + 5

_MODEL_EXT = {".pt", ".pth", ".ckpt", ".safetensors", ".onnx", ".h5", ".hdf5", ".keras", ".pb"}
_ICON_BY_EXT = {".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image", ".bmp": "image",
                ".webp": "image", ".svg": "image", ".csv": "table", ".tsv": "table",
                ".md": "note", ".markdown": "note", ".json": "settings", ".yaml": "settings",
                ".yml": "settings"}


def icon_name_for(path: Path, info: ArtifactInfo) -> str:
    """The icon of an entry. Looks at the disk for folders (model marker): call in a worker."""
    if info.is_dir:
        is_model = (path / "runwatch-model.json").is_file() or (path / "MLmodel").is_file()
        return "model" if is_model else "folder"
    ext = os.path.splitext(info.path)[1].lower()
    return "model" if ext in _MODEL_EXT else _ICON_BY_EXT.get(ext, "file")


class ArtifactTreeModel(QStandardItemModel):
    """Two columns (Name, Size); rows carry their path, kind and size in item roles."""

    def __init__(self, parent: object = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Name", "Size"])

    def reset(self, loading: bool) -> None:
        self.removeRows(0, self.rowCount())
        if loading:
            self.add_placeholder(self.invisibleRootItem())

    @staticmethod
    def add_placeholder(parent: QStandardItem) -> None:
        item = QStandardItem("Loading…")
        item.setEnabled(False)
        item.setSelectable(False)
        parent.appendRow([item, QStandardItem("")])

    def find(self, rel: str) -> QStandardItem | None:
        """The item of ``rel`` ("" is the invisible root), or None when it is not listed."""
        item = self.invisibleRootItem()
        if not rel:
            return item
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            want = "/".join(parts[:depth])
            item = next((item.child(r) for r in range(item.rowCount())
                         if item.child(r).data(PATH_ROLE) == want), None)
            if item is None:
                return None
        return item

    def loaded_folders(self) -> list[str]:
        """"" plus every folder whose listing was asked for (what a refresh must re-list)."""
        paths = [""]
        stack = [self.invisibleRootItem()]
        while stack:
            item = stack.pop()
            for row in range(item.rowCount()):
                child = item.child(row)
                if child.data(DIR_ROLE) and child.data(LOADED_ROLE):
                    paths.append(child.data(PATH_ROLE))
                    stack.append(child)
        return paths

    def retheme(self) -> None:
        """Re-colour the item icons after a theme change."""
        stack = [self.invisibleRootItem()]
        while stack:
            item = stack.pop()
            for row in range(item.rowCount()):
                child = item.child(row)
                if child.data(ICON_ROLE):
                    child.setIcon(icon(child.data(ICON_ROLE)))
                stack.append(child)

    def merge(self, parent: QStandardItem, entries: Sequence[tuple[ArtifactInfo, str]]) -> None:
        """Make ``parent``'s rows match ``entries`` (both sorted alike), keeping unchanged items."""
        wanted = {info.path: info.is_dir for info, _ in entries}
        for row in reversed(range(parent.rowCount())):
            child = parent.child(row)
            path = child.data(PATH_ROLE)
            if path is None or wanted.get(path) != child.data(DIR_ROLE):
                parent.removeRow(row)
        for i, (info, icon_name) in enumerate(entries):
            child = parent.child(i) if i < parent.rowCount() else None
            if child is not None and child.data(PATH_ROLE) == info.path:
                if not info.is_dir and child.data(SIZE_ROLE) != info.size:
                    child.setData(info.size, SIZE_ROLE)
                    parent.child(i, 1).setText(human_size(info.size))
                continue
            parent.insertRow(i, self._make_row(info, icon_name))

    def _make_row(self, info: ArtifactInfo, icon_name: str) -> list[QStandardItem]:
        name = QStandardItem(icon(icon_name), info.path.rsplit("/", 1)[-1])
        name.setData(icon_name, ICON_ROLE)
        name.setData(info.path, PATH_ROLE)
        name.setData(info.is_dir, DIR_ROLE)
        name.setData(False, LOADED_ROLE)
        name.setData(info.size, SIZE_ROLE)
        name.setToolTip(info.path)
        name.setEditable(False)
        size = QStandardItem("" if info.is_dir else human_size(info.size))
        size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        size.setEditable(False)
        if info.is_dir:
            self.add_placeholder(name)
        return [name, size]
