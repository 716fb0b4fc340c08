"""The image comparison grid on a real store written through the SDK."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSize, Qt

import tracker_sdk
from app.qt.compare import ImagesCompareView
from app.qt.compare.image_tiles import decode_image, list_image_paths
from app.qt.compare.images_view import NO_IMAGES_TEXT
from app.qt.workers import Worker


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "s"
    for i in range(4):
        run = tracker_sdk.init(store=path, experiment="e", name=f"run-{i}", config={"i": i})
        run.log({"loss": 1.0 / (i + 1)})
        if i < 3:  # run-3 has no confusion matrix
            run.log_image(np.full((16, 16, 3), 60 * i, np.uint8), "plots/confusion.png")
        if i == 0:
            run.log_image(np.zeros((8, 24), np.uint8), "samples/deep/first.png")
        run.finish()
    s = tracker_sdk.Store(path)
    yield s
    s.close()


@pytest.fixture()
def runs(store):
    return sorted(store.search_runs(experiment="e"), key=lambda r: r.name)


@pytest.fixture()
def worker():
    w = Worker()
    yield w
    w.shutdown()


@pytest.fixture()
def view(qtbot, runs, store, worker):
    v = ImagesCompareView()
    qtbot.addWidget(v)
    v.resize(1100, 650)
    v.set_runs(runs, {r.id: "#4e79a7" for r in runs}, store, worker)
    qtbot.waitUntil(lambda: all(t.state != "loading" for t in v.tiles.values()) and bool(v.paths()), timeout=5000)
    return v


def test_lists_image_paths_of_every_run(store, runs):
    paths = list_image_paths(store, [r.id for r in runs])
    assert paths["plots/confusion.png"] == {r.id for r in runs[:3]}
    assert paths["samples/deep/first.png"] == {runs[0].id}
    assert not any(p.endswith(".patch") for p in paths)


def test_combo_defaults_to_the_most_common_path(view):
    assert view.paths() == ["plots/confusion.png", "samples/deep/first.png"]
    assert view.current_path() == "plots/confusion.png"
    assert "3 of 4 runs" in view.path_combo.currentText()


def test_three_thumbnails_and_one_missing_placeholder(view, runs):
    states = [view.tiles[r.id].state for r in runs]
    assert states == ["image", "image", "image", "missing"]
    for i, r in enumerate(runs[:3]):
        img = view.tiles[r.id].image
        assert img.size() == QSize(16, 16)
        assert QColorValue(img.pixel(8, 8)) == 60 * i
    assert view.tiles[runs[3].id].thumb.text == "missing in this run"
    assert view.tiles[runs[0].id].name.text() == "run-0"
    assert view.tiles[runs[0].id].caption.text() == "16 × 16 px"


def QColorValue(rgb: int) -> int:  # noqa: N802 - reads like the Qt call it stands for
    return rgb & 0xFF


def test_switch_path_and_live_refresh_reuses_decoded_images(qtbot, view, runs, store, worker):
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        view.set_path("samples/deep/first.png")
    assert [view.tiles[r.id].state for r in runs] == ["image", "missing", "missing", "missing"]
    assert view.tiles[runs[0].id].image.size() == QSize(24, 8)
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        view.set_path("plots/confusion.png")
    first = view.tiles[runs[0].id].image
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        view.refresh()
    assert view.tiles[runs[0].id].image is first  # same file stamp: not decoded again


def test_fit_to_width_scales_and_natural_size_does_not(qtbot, view, runs):
    view.show()
    qtbot.waitExposed(view)
    thumb = view.tiles[runs[0].id].thumb
    assert thumb.width() >= 150  # blown up to the column width
    view.fit.setChecked(False)
    assert thumb.size().width() <= 120  # 16 px image, at least the placeholder's width


def test_click_enlarges_in_a_dialog(qtbot, view, runs):
    view.show()
    qtbot.waitExposed(view)
    qtbot.mouseClick(view.tiles[runs[1].id].thumb, Qt.MouseButton.LeftButton)
    dlg = view._dialog
    assert dlg is not None and dlg.isVisible()
    assert "run-1" in dlg.windowTitle()
    dlg.close()
    assert view.enlarge(runs[3].id) is None  # nothing to enlarge where the file is missing


def test_decode_caps_the_size(tmp_path):
    from PySide6.QtGui import QImage

    big = QImage(3000, 1000, QImage.Format.Format_RGB32)
    big.fill(0)
    big.save(str(tmp_path / "big.png"))
    img, size, err = decode_image(str(tmp_path / "big.png"), max_side=600)
    assert err == "" and size == QSize(3000, 1000) and img.size() == QSize(600, 200)
    img, _size, err = decode_image(str(tmp_path / "nope.png"))
    assert img is None and err


def test_empty_states(qtbot, store, worker, tmp_path):
    v = ImagesCompareView()
    qtbot.addWidget(v)
    v.set_runs([], {}, store, worker)
    assert v.stack.currentWidget() is v.empty
    path = tmp_path / "plain"
    for i in range(2):
        tracker_sdk.init(store=path, experiment="e", name=f"p{i}").finish()
    s = tracker_sdk.Store(path)
    try:
        v.set_runs(s.search_runs(), {}, s, worker)
        qtbot.waitUntil(lambda: v.empty.text() == NO_IMAGES_TEXT, timeout=5000)
        assert v.stack.currentWidget() is v.empty
    finally:
        s.close()


def test_live_run_gets_its_image_after_a_refresh(qtbot, worker, tmp_path):
    path = tmp_path / "live"
    done = tracker_sdk.init(store=path, experiment="e", name="done")
    done.log_image(np.full((8, 8, 3), 10, np.uint8), "plots/confusion.png")
    done.finish()
    live = tracker_sdk.init(store=path, experiment="e", name="live")
    s = tracker_sdk.Store(path)
    try:
        v = ImagesCompareView()
        qtbot.addWidget(v)

        def show():
            runs = sorted(s.search_runs(), key=lambda r: r.name)
            v.set_runs(runs, {}, s, worker)
            return runs

        runs = show()
        qtbot.waitUntil(lambda: [v.tiles[r.id].state for r in runs] == ["image", "missing"], timeout=5000)
        live.log_image(np.full((12, 10, 3), 200, np.uint8), "plots/confusion.png")
        show()  # still RUNNING: listed again
        qtbot.waitUntil(lambda: v.tiles[runs[1].id].state == "image", timeout=5000)
        assert v.tiles[runs[1].id].image.size() == QSize(10, 12)
        assert "2 of 2 runs" in v.path_combo.currentText()
    finally:
        live.finish()
        s.close()
