"""ArtifactsView on a real store: lazy tree, previews by kind, safety, errors, refresh, actions."""

from __future__ import annotations

import json
import os
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

import tracker_sdk
import tracker_sdk.preview as sdk_preview
from app.qt import preview_loaders
from app.qt.artifacts_view import ArtifactsView
from app.qt.preview_loaders import MAX_TEXT_BYTES, NEVER_OPENED

CFG = {"model": {"depth": 4, "act": "gelu"}, "lr": 0.001, "betas": [0.9, 0.99]}
CSV_ROWS = 25
BIG_BYTES = 20 * 1024 * 1024


class _Evil:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture(scope="module")
def store_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("artifacts")
    run = tracker_sdk.init(store=root / "s", experiment="e", name="arts")
    run.log_text("# Title\n\nSome *text*.", "report.md")
    run.log_dict(CFG, "cfg.json")
    run.log_dict(CFG, "cfg.yaml")
    run.log_text("epoch,loss\n" + "\n".join(f"{i},{(i * 7) % 11 / 10}" for i in range(CSV_ROWS)), "data.csv")
    run.log_image(np.zeros((8, 8, 3), np.uint8), "img.png")
    run.log_text("{not json", "broken.json")
    run.log_text("plain words", "sub/notes.txt")
    marker = root / "PWNED"
    ckpt = root / "model.pt"
    ckpt.write_bytes(pickle.dumps(_Evil(marker), protocol=4) + b"\0" * 200_000)
    run.log_artifact(ckpt)
    big = root / "big.txt"
    with open(big, "w") as fh:
        line = "0123456789" * 10 + "\n"
        fh.write(line * (BIG_BYTES // len(line) + 1))
    run.log_artifact(big)
    weights = root / "w"
    weights.mkdir()
    (weights / "weights.bin").write_bytes(os.urandom(3000))
    run.log_model(weights, name="clf", flavor="torch")
    run.finish()
    store = tracker_sdk.Store(root / "s")
    yield store, run.id, marker
    store.close()


@pytest.fixture()
def view(qtbot, store_run):
    store, run_id, _ = store_run
    v = ArtifactsView()
    qtbot.addWidget(v)
    v.resize(1000, 650)
    v.set_run(store, run_id)
    qtbot.waitUntil(lambda: v.model.find("report.md") is not None)
    yield v
    v.shutdown()


def root_names(v: ArtifactsView) -> list[str]:
    names = [v.model.item(r, 0).text() for r in range(v.model.rowCount())]
    return [n for n in names if n != "git"]  # the SDK keeps a git diff when run inside a repo


def show(v: ArtifactsView, qtbot, rel: str) -> str:
    """Select ``rel`` and wait for its preview; returns the page shown."""
    assert v.select_path(rel), rel
    name = rel.rsplit("/", 1)[-1]
    qtbot.waitUntil(lambda: not v.is_loading() and v.preview.title.text() == name, timeout=5000)
    return v.preview.current_page()


def expand(v: ArtifactsView, qtbot, rel: str) -> None:
    v.tree.expand(v.model.find(rel).index())
    qtbot.waitUntil(lambda: v.model.find(rel).child(0) is None
                    or v.model.find(rel).child(0).data(Qt.ItemDataRole.UserRole + 1) is not None)


def test_tree_lists_root_lazily(view):
    assert root_names(view) == ["models", "sub", "big.txt", "broken.json", "cfg.json", "cfg.yaml",
                                "data.csv", "img.png", "model.pt", "report.md"]
    sub = view.model.find("sub")
    assert sub.child(0).text() == "Loading…"  # not listed until expanded
    assert view.model.find("big.txt").index().siblingAtColumn(1).data() == "20.0 MB"


def test_expanding_a_folder_lists_it(view, qtbot):
    expand(view, qtbot, "sub")
    assert view.model.find("sub/notes.txt") is not None
    assert view.model.find("sub").rowCount() == 1


def test_markdown_preview(view, qtbot):
    assert show(view, qtbot, "report.md") == "markdown"
    doc = view.preview.markdown.document()
    assert doc.begin().text() == "Title" and doc.begin().blockFormat().headingLevel() == 1
    assert "Some text." in view.preview.markdown.toPlainText()


def test_json_pretty_printed(view, qtbot):
    assert show(view, qtbot, "cfg.json") == "text"
    assert view.preview.text.toPlainText() == json.dumps(CFG, indent=2)
    assert view.preview.message.text() == ""


def test_yaml_pretty_printed_with_safe_load(view, qtbot):
    import yaml

    assert show(view, qtbot, "cfg.yaml") == "text"
    shown = view.preview.text.toPlainText()
    assert yaml.safe_load(shown) == CFG
    assert "depth: 4" in shown


def test_invalid_json_shown_as_text_with_warning(view, qtbot):
    assert show(view, qtbot, "broken.json") == "text"
    assert view.preview.text.toPlainText() == "{not json"
    assert "Not valid JSON" in view.preview.message.text()
    assert view.preview.message.level() == "warning"


def test_csv_table_sortable(view, qtbot):
    assert show(view, qtbot, "data.csv") == "table"
    model = view.preview.table.model()
    assert model.rowCount() == CSV_ROWS and model.columnCount() == 2
    assert model.headerData(1, Qt.Orientation.Horizontal) == "loss"
    assert model.index(0, 0).data() == "0"  # the file's order until a header is clicked
    view.preview.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert model.index(0, 0).data() == str(CSV_ROWS - 1)  # numbers sort as numbers, not text
    assert f"{CSV_ROWS} rows" in view.preview.note.text()


def test_csv_row_cap(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(50)))
    p = preview_loaders.load_preview(path, "many.csv", max_rows=10)
    assert len(p.rows) == 10 and "first 10 rows" in p.note


def test_image_preview(view, qtbot):
    assert show(view, qtbot, "img.png") == "image"
    assert view.preview.image._pixmap.width() == 8 and view.preview.image._pixmap.height() == 8
    assert view.preview.image.caption.text().startswith("8 × 8 px")
    view.preview.image.fit_button.setChecked(False)
    assert view.preview.image.label.pixmap().width() == 8
    assert view.preview.image.caption.text().endswith("100 %")


def test_binary_never_opened_beyond_header(view, qtbot, store_run, monkeypatch):
    store, run_id, marker = store_run
    target = str(store.artifact_path(run_id, "model.pt"))
    read = []
    real_open = open

    def spy_open(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        if os.path.realpath(str(file)) == target:
            orig = fh.read

            def counted(n=-1):
                data = orig(n)
                read.append(len(data))
                return data

            fh.read = counted
        return fh

    monkeypatch.setattr(sdk_preview, "open", spy_open, raising=False)
    monkeypatch.setattr(preview_loaders, "open", spy_open, raising=False)
    assert show(view, qtbot, "model.pt") == "info"
    assert view.preview.info_text.text() == NEVER_OPENED
    assert "never executed or unpickled" in view.preview.text_content()
    labels = [view.preview.info_form.itemAt(i).widget().text() for i in range(view.preview.info_form.count())
              if view.preview.info_form.itemAt(i).widget() is not None]
    assert any("PyTorch checkpoint" in t and "not opened" in t for t in labels)
    assert sum(read) <= sdk_preview.HEAD_BYTES
    assert not marker.exists()


def test_model_folder_metadata_table(view, qtbot):
    expand(view, qtbot, "models")
    assert show(view, qtbot, "models/clf") == "table"
    model = view.preview.table.model()
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["weights.bin"]
    assert model.index(0, 1).data() == "2.9 KB"
    assert "torch" in view.preview.table_info.text()


def test_folder_shows_counts(view, qtbot):
    assert show(view, qtbot, "sub") == "info"
    labels = [view.preview.info_form.itemAt(i).widget().text() for i in range(view.preview.info_form.count())
              if view.preview.info_form.itemAt(i).widget() is not None]
    assert "Files" in labels and "1" in labels


def test_big_text_truncated_and_read_in_a_worker(view, qtbot, monkeypatch):
    threads = []
    real = preview_loaders.read_text_head

    def spy(path, max_bytes=MAX_TEXT_BYTES):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(path, max_bytes)

    monkeypatch.setattr(preview_loaders, "read_text_head", spy)
    assert show(view, qtbot, "big.txt") == "text"
    assert threads == [False]  # the GUI thread never read the file
    assert len(view.preview.text.toPlainText()) == MAX_TEXT_BYTES
    note = view.preview.note.text()
    assert "truncated" in note and "1.0 MB" in note and "20.0 MB" in note


def test_newer_selection_wins(view, qtbot):
    view.select_path("big.txt")
    view.select_path("cfg.json")
    qtbot.waitUntil(lambda: not view.is_loading())
    assert view.preview.title.text() == "cfg.json"
    assert view.preview.current_page() == "text"
    assert view.preview.text.toPlainText().startswith("{")


def test_missing_file_shows_in_panel_error(view, qtbot, store_run):
    store, run_id, _ = store_run
    path = store.artifact_path(run_id, "gone.txt")
    path.write_text("soon gone")
    view.refresh()
    qtbot.waitUntil(lambda: view.model.find("gone.txt") is not None)
    path.unlink()
    view.select_path("gone.txt")
    qtbot.waitUntil(lambda: view.preview.message.text() != "", timeout=5000)
    assert "no longer exists" in view.preview.message.text()
    assert view.preview.message.level() == "error"
    assert view.preview.current_page() == "empty"


def test_refresh_keeps_expansion_and_selection(view, qtbot, store_run):
    store, run_id, _ = store_run
    expand(view, qtbot, "sub")
    assert show(view, qtbot, "sub/notes.txt") == "text"
    new = store.artifact_path(run_id, "sub/new.txt")
    new.write_text("fresh")
    try:
        view.refresh()
        qtbot.waitUntil(lambda: view.model.find("sub/new.txt") is not None)
        assert view.tree.isExpanded(view.model.find("sub").index())
        assert view.selected_path() == "sub/notes.txt"
        assert view.tree.currentIndex() == view.model.find("sub/notes.txt").index()
    finally:
        new.unlink()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.find("sub/new.txt") is None)


def test_copy_path_action_and_ctrl_c(view, qtbot, store_run):
    store, run_id, _ = store_run
    show(view, qtbot, "cfg.json")
    expected = str(store.artifact_path(run_id, "cfg.json"))
    QGuiApplication.clipboard().clear()
    view.copy_action.trigger()
    assert QGuiApplication.clipboard().text() == expected
    assert view.copy_action.shortcut().toString() == "Ctrl+Shift+C"
    assert "F5" in [k.toString() for k in view.refresh_action.shortcuts()]
    QGuiApplication.clipboard().clear()
    view.show()
    with qtbot.waitActive(view):
        view.activateWindow()
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == expected


def test_save_as_copies_in_worker(view, qtbot, tmp_path, monkeypatch):
    show(view, qtbot, "cfg.json")
    dest = tmp_path / "copy.json"
    monkeypatch.setattr(view, "ask_save_path", lambda source, is_dir: str(dest))
    view.save_action.trigger()
    qtbot.waitUntil(lambda: "Saved a copy" in view.preview.message.text())
    assert json.loads(dest.read_text()) == CFG
    monkeypatch.setattr(view, "ask_save_path", lambda source, is_dir: str(tmp_path / "no" / "dir" / "x"))
    view.save_action.trigger()
    qtbot.waitUntil(lambda: view.preview.message.level() == "error")
    assert "Could not save" in view.preview.message.text()


def test_no_run_and_empty_run(qtbot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside a git repo: the SDK logs no git diff artifact
    v = ArtifactsView()
    qtbot.addWidget(v)
    assert v.tree_stack.currentWidget() is v.tree_empty
    assert "Select a run" in v.tree_empty.text()
    assert not v.copy_action.isEnabled()
    run = tracker_sdk.init(store=tmp_path / "s", name="bare")
    run.finish()
    store = tracker_sdk.Store(tmp_path / "s")
    v.set_run(store, run.id)
    qtbot.waitUntil(lambda: v.tree_stack.currentWidget() is v.tree_empty)
    assert v.tree_empty.text() == "This run has no artifacts yet"
    v.set_run(None, None)
    assert "Select a run" in v.tree_empty.text()
    v.shutdown()
    store.close()


def test_busy_indicator_while_a_slow_load_runs(view, qtbot, monkeypatch):
    import app.qt.artifacts_view as av

    gate = threading.Event()
    real = av.load_preview

    def slow(*args, **kwargs):
        gate.wait(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(av, "load_preview", slow)
    assert view.select_path("big.txt")
    assert view.preview.is_busy() and view.is_loading()
    qtbot.waitUntil(lambda: not view.preview.busy.isHidden())  # shown once the load takes a moment
    assert view.select_path("cfg.json")  # the GUI still answers while the worker reads
    gate.set()
    qtbot.waitUntil(lambda: not view.is_loading())
    assert not view.preview.is_busy() and view.preview.busy.isHidden()
    assert view.preview.title.text() == "cfg.json"  # the superseded big.txt result was dropped


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX fifos")
def test_fifo_is_never_opened(tmp_path):
    fifo = tmp_path / "pipe.bin"
    os.mkfifo(fifo)
    p = preview_loaders.load_preview(fifo, "pipe.bin")  # would block forever if opened
    assert p.page == "info" and "special file" in p.info[0][1]


def _zeros_png(path: Path, width: int, height: int) -> Path:
    """A valid RGB PNG of black pixels (``height`` a multiple of 100), never all in memory."""
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    comp = zlib.compressobj(1)
    rows = b"\0" * (1 + 3 * width) * 100  # filter byte + RGB, 100 rows at a time
    idat = b"".join(comp.compress(rows) for _ in range(height // 100)) + comp.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


@pytest.fixture()
def image_view(qtbot, tmp_path):
    """A view on a fresh run with the images this test logs."""
    run = tracker_sdk.init(store=tmp_path / "s", name="images")
    store = tracker_sdk.Store(tmp_path / "s")
    v = ArtifactsView()
    qtbot.addWidget(v)
    v.resize(1000, 650)

    def open_with(*paths: Path) -> ArtifactsView:
        for path in paths:
            run.log_artifact(path)
        run.finish()
        v.set_run(store, run.id)
        qtbot.waitUntil(lambda: all(v.model.find(p.name) is not None for p in paths))
        return v

    yield open_with
    v.shutdown()
    store.close()


def test_an_image_too_large_to_decode_says_so_once(image_view, qtbot, tmp_path):
    # 20,000 x 7,000 px: 1.8 MB on disk, 560 MB decoded, over the decoder's 512 MB limit.
    v = image_view(_zeros_png(tmp_path / "huge.png", 20_000, 7_000))
    assert show(v, qtbot, "huge.png") == "info"
    message = v.preview.message.text()
    assert "too large" in message and "20,000 × 7,000 px" in message and "512 MB" in message
    assert "system viewer" in message
    assert "decod" not in message.lower() and v.preview.message.level() == "warning"
    assert v.preview.note.isHidden()  # no "Scaled down" beside it: nothing was scaled


def test_a_wide_image_is_scaled_down_without_a_warning(image_view, qtbot, tmp_path):
    v = image_view(_zeros_png(tmp_path / "wide.png", 5_000, 100))
    assert show(v, qtbot, "wide.png") == "image"
    assert v.preview.image.pixmap_size()[0] == preview_loaders.MAX_IMAGE_SIDE
    assert v.preview.image.caption.text().startswith("5000 × 100 px")
    assert "Scaled down" in v.preview.note.text() and v.preview.message.text() == ""
