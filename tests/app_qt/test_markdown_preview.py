"""Markdown artifacts in the artifacts view, on a real store: linked images are shown only from
inside the run's folder, nothing else is read, and long tables do not freeze the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QImage, QTextCursor, QTextDocument

import tracker_sdk
from app.qt import markdown_view, preview_loaders
from app.qt.artifacts_view import ArtifactsView
from tracker_sdk.artifacts import encode_png

PLOT = (10, 200, 30)  # the colour of the one image that must show
SECRET = (250, 0, 0)


def _png(path: Path, rgb: tuple[int, int, int], shape: tuple[int, int] = (4, 6)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_png(np.full((*shape, 3), rgb, np.uint8)))
    return path


def _new_run(store_path: Path, md: str, name: str = "md") -> tracker_sdk.Run:
    run = tracker_sdk.init(store=store_path, name=name)
    run.log_image(np.full((4, 6, 3), PLOT, np.uint8), "plots/a.png")
    run.log_text(md, "report.md")
    return run


def _open(qtbot, store: tracker_sdk.Store, run_id: str) -> ArtifactsView:
    view = ArtifactsView()
    qtbot.addWidget(view)
    view.resize(1000, 650)
    view.show()
    view.set_run(store, run_id)
    qtbot.waitUntil(lambda: view.model.find("report.md") is not None)
    assert view.select_path("report.md")
    qtbot.waitUntil(lambda: not view.is_loading() and view.preview.title.text() == "report.md",
                    timeout=20_000)
    view.grab()  # lays the document out and paints it: every image resource is asked for now
    return view


def _images(doc: QTextDocument) -> list[str]:
    """The names of the images the document shows."""
    names = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                names.append(fmt.toImageFormat().name())
            it += 1
        block = block.next()
    return names


def _resource_image(doc: QTextDocument, name: str) -> QImage:
    res = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl(name))
    return res.toImage() if hasattr(res, "toImage") else QImage(res)


@pytest.fixture()
def closing():
    views: list[ArtifactsView] = []
    yield views.append
    for v in views:
        v.shutdown()


def test_only_images_inside_the_run_are_shown(qtbot, tmp_path, closing):
    store_path = tmp_path / "s"
    other = tracker_sdk.init(store=store_path, name="other")
    other.log_image(np.full((4, 6, 3), SECRET, np.uint8), "x.png")
    other.finish()
    secret = _png(tmp_path / "outside" / "secret.png", SECRET)
    md = textwrap.dedent(f"""\
        # Report

        ![plot](plots/a.png)

        ![secret]({secret})

        ![passwd](/etc/passwd)

        ![other](../{other.id}/x.png)

        ![huge](plots/huge.png)

        ![remote](http://127.0.0.1:9/x.png)
        """)
    run = _new_run(store_path, md)
    store = tracker_sdk.Store(store_path)
    huge = store.artifact_path(run.id, "plots/huge.png")
    huge.write_bytes(encode_png(np.zeros((2, 2), np.uint8)) + b"\0" * preview_loaders.MAX_LINKED_IMAGE_BYTES)
    run.finish()
    view = _open(qtbot, store, run.id)
    closing(view)
    doc = view.preview.markdown.document()
    shown = _images(doc)
    assert len(shown) == 1, shown  # the plot, and nothing from outside the run or too big
    plot = _resource_image(doc, shown[0])
    assert (plot.width(), plot.height()) == (6, 4)
    assert plot.pixelColor(0, 0) == QColor(*PLOT)
    text = view.preview.text_content()
    assert "[image: secret — not shown: outside the run folder]" in text
    assert "[image: passwd — not shown: outside the run folder]" in text
    assert "[image: other — not shown: outside the run folder]" in text
    assert "[image: huge — not shown: larger than" in text
    assert "[image: remote — not shown: remote images are never fetched]" in text
    # Asked for the outside file by name, the document answers with a blank, not the file.
    for path in (str(secret), QUrl.fromLocalFile(str(secret)).toString()):
        leaked = _resource_image(doc, path)
        assert leaked.isNull() or leaked.pixelColor(0, 0) != QColor(*SECRET)
    store.close()


_DANGEROUS_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # reading /dev/zero would abort here
from PySide6.QtCore import QDeadlineTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
import tracker_sdk
from app.qt.artifacts_view import ArtifactsView
store = tracker_sdk.Store(sys.argv[1])
view = ArtifactsView()
view.resize(1000, 650)
view.show()
view.set_run(store, sys.argv[2])

def wait(cond):
    deadline = QDeadlineTimer(30_000)
    while not cond():
        assert not deadline.hasExpired(), "timed out"
        app.processEvents()

wait(lambda: view.model.find("report.md") is not None)
view.select_path("report.md")
wait(lambda: not view.is_loading() and view.preview.title.text() == "report.md")
view.grab()  # layout and paint ask for every image
print(json.dumps({"text": view.preview.text_content()}))
view.shutdown()
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="needs POSIX")
def test_dev_zero_and_a_fifo_render_without_being_read(tmp_path):
    """A child process with a memory limit shows them: were /dev/zero read, it would die at the
    limit instead of eating the machine's memory; were the fifo opened, it would hang (killed)."""
    store_path = tmp_path / "s"
    md = "# Hostile\n\n![zero](/dev/zero)\n\n![pipe](plots/pipe.png)\n\n![plot](plots/a.png)\n"
    run = _new_run(store_path, md)
    store = tracker_sdk.Store(store_path)
    os.mkfifo(store.artifact_path(run.id, "plots/pipe.png"))
    run.finish()
    store.close()
    try:
        child = subprocess.run([sys.executable, "-c", _DANGEROUS_CHILD, str(store_path), run.id],
                               capture_output=True, text=True, timeout=120,
                               cwd=Path(__file__).resolve().parents[2])
    except subprocess.TimeoutExpired:
        pytest.fail("showing the Markdown hung (a fifo was opened?)")
    assert child.returncode == 0, child.stderr[-2000:]
    text = json.loads(child.stdout.strip().splitlines()[-1])["text"]
    assert "[image: zero — not shown: outside the run folder]" in text
    assert "[image: pipe — not shown: not a regular file]" in text
    assert "[image: plot" not in text  # the legitimate image is shown


def _table(rows: int) -> str:
    return "| step | loss | note |\n|---:|---:|---|\n" + "".join(f"| {i} | {1 / (i + 1):.4f} | ok |\n"
                                                             for i in range(rows))


def test_a_2000_row_table_renders_without_freezing_the_window(qtbot, tmp_path, closing, monkeypatch):
    built_on_gui_thread = []
    real = preview_loaders.markdown_document

    def spy(*args, **kwargs):
        built_on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(preview_loaders, "markdown_document", spy)
    run = _new_run(tmp_path / "s", "# Losses\n\n" + _table(2000) + "\nThe end.\n")
    run.finish()
    store = tracker_sdk.Store(tmp_path / "s")
    view = _open(qtbot, store, run.id)
    closing(view)
    assert view.preview.current_page() == "markdown"
    assert built_on_gui_thread == [False]  # parsed and spaced in the preview worker
    doc = view.preview.markdown.document()
    kept = preview_loaders.MAX_MARKDOWN_TABLE_CELLS // 3
    table = QTextCursor(doc.findBlock(len("Losses") + 2)).currentTable()
    assert table is not None and table.rows() == kept + 1  # the header and the first rows
    assert table.cellAt(kept, 0).firstCursorPosition().block().text() == str(kept - 1)
    assert "The end." in view.preview.text_content()
    assert f"{2000 - kept:,} rows left out" in view.preview.note.text()
    assert view.preview.note.isVisible()
    store.close()


def test_spacing_a_laid_out_table_takes_one_pass(qtbot):
    """Spacing changed each block of a document already laid out, and Qt laid the whole table
    out again after each: 200 rows took 10 s, 2,000 rows would take a quarter of an hour."""
    doc = QTextDocument()
    doc.setMarkdown("# Title\n\nText.\n\n" + _table(2000))
    doc.setTextWidth(800)
    doc.documentLayout().documentSize()  # laid out, as in a shown browser
    markdown_view.space_markdown(doc, QColor("gray"))
    title, para = doc.begin(), doc.begin().next()
    assert (title.blockFormat().topMargin(), title.blockFormat().bottomMargin()) == (0, 6)
    assert para.blockFormat().bottomMargin() == 10


def test_spacing_of_headings_lists_and_code(qtbot):
    md = "# A\n\ntext\n\n## B\n\n- one\n- two\n\n```\nx = 1\ny = 2\n```\n\nend\n"
    doc = markdown_view.markdown_document(md, QColor("gray"))
    blocks = []
    block = doc.begin()
    while block.isValid():
        blocks.append((block.text(), block.blockFormat()))
        block = block.next()
    fmt = dict(blocks)
    assert fmt["A"].topMargin() == 0 and fmt["B"].topMargin() == 14 and fmt["B"].bottomMargin() == 6
    assert fmt["text"].bottomMargin() == 10
    assert fmt["one"].bottomMargin() == 2 and fmt["two"].bottomMargin() == 10
    assert fmt["x = 1"].background().color() == QColor("gray") and fmt["x = 1"].bottomMargin() == 0
    assert fmt["y = 2"].bottomMargin() == 10


def test_a_browser_asked_for_any_resource_reads_nothing(qtbot, tmp_path):
    """The notes editor's browser too: asked by Qt for a file, it answers with a blank."""
    secret = _png(tmp_path / "secret.png", SECRET)
    browser = markdown_view.SafeTextBrowser()
    qtbot.addWidget(browser)
    browser.resize(400, 300)
    browser.show()
    markdown_view.render_markdown(browser, f"# Hi\n\n![alt]({secret})\n\n<img src=\"{secret}\">")
    browser.grab()
    doc = browser.document()
    assert doc.begin().text() == "Hi" and _images(doc) == []
    assert "[image: alt]" in browser.toPlainText()
    leaked = _resource_image(doc, str(secret))
    assert leaked.isNull() or leaked.pixelColor(0, 0) != QColor(*SECRET)
    html = markdown_view.markdown_html(f"text ![alt]({secret})", QColor("gray"))
    assert "<img" not in html and "[image: alt]" in html
