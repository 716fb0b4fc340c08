"""Build artifact previews off the GUI thread.

``load_preview`` runs in a worker: it classifies the file with ``tracker_sdk.preview`` and
reads at most a bounded part of it. Nothing is executed, imported or unpickled: JSON goes
through ``json``, YAML through ``yaml.safe_load`` only, images through ``QImageReader`` (with a
size cap), binaries are described from their first 8 KB. The result is plain data plus, for
images, a ``QImage`` (safe to create outside the GUI thread; pixmaps are made on the GUI side)
and, for Markdown, a finished ``QTextDocument`` with its images (only files inside the run)
already decoded, moved to the GUI thread: parsing and spacing a long file takes seconds.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QTextDocument

from app.qt.detail_common import human_size, local_time
from app.qt.markdown_view import markdown_document
from tracker_sdk.preview import (
    ImageRefused,
    describe_binary,
    limit_table_cells,
    preview_kind,
    read_linked_image,
    read_text_head,
)

MAX_TEXT_BYTES = 1 << 20  # 1 MB
MAX_TABLE_ROWS = 10_000
MAX_TABLE_COLUMNS = 500
MAX_TABLE_BYTES = 32 * 1024 * 1024
MAX_PARSE_BYTES = {"json": 20 * 1024 * 1024, "yaml": 5 * 1024 * 1024}
MAX_IMAGE_SIDE = 4096
MAX_DECODE_MB = 512  # a decompression bomb fails instead of eating RAM
MAX_MARKDOWN_TABLE_CELLS = 2000  # Qt lays a table out whole, on the GUI thread
MAX_LINKED_IMAGE_BYTES = 10 * 1024 * 1024  # per image a Markdown file links to
MAX_LINKED_IMAGES = 50
MAX_LINKED_IMAGE_SIDE = 2048
#: Code blocks in Markdown previews: translucent, so it suits light and dark themes alike.
CODE_BACKGROUND = QColor(128, 128, 128, 40)
MAX_SVG_BYTES = 10 * 1024 * 1024
MAX_DIR_ENTRIES = 100_000
NEVER_OPENED = "Not opened: binary files are never executed or unpickled."


class PreviewError(Exception):
    """A preview that cannot be made, with a message fit for the user."""


@dataclass
class Preview:
    """What the preview pane shows. ``page`` is one of image, text, markdown, table, info."""

    rel: str
    kind: str  # what tracker_sdk.preview.preview_kind said
    page: str
    size: int = 0
    text: str = ""
    note: str = ""  # muted line above the content ("showing first 10,000 rows")
    warning: str = ""  # shown in the message bar ("not valid JSON; shown as text")
    image: QImage | None = None
    image_size: tuple[int, int] = (0, 0)  # original size in pixels
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    info: list[tuple[str, str]] = field(default_factory=list)
    document: QTextDocument | None = None  # a rendered Markdown file, owned by the GUI thread


def load_preview(path: Path, rel: str, max_text: int = MAX_TEXT_BYTES,
                 max_rows: int = MAX_TABLE_ROWS, root: Path | None = None) -> Preview:
    """The preview of artifact ``rel`` (at ``path``) of the run whose folder is ``root``
    (Markdown shows images from there only; default: the file's own folder).
    Raises OSError / PreviewError."""
    kind = preview_kind(path)
    size = 0 if kind in ("dir", "model") else os.stat(path).st_size
    p = Preview(rel=rel, kind=kind, page="text", size=size)
    if kind == "image":
        _image(path, p)
    elif kind == "svg":
        _svg(path, p, max_text)
    elif kind in ("json", "yaml"):
        _structured(path, p, max_text)
    elif kind in ("csv", "tsv"):
        _table(path, p, max_rows)
    elif kind == "markdown":
        _markdown(path, p, max_text, root or path.parent)
    elif kind == "model":
        _model(path, p)
    elif kind == "dir":
        _dir(path, p)
    elif kind == "binary":
        _binary(path, p)
    else:
        p.text, cut = read_text_head(path, max_text)
        p.note = _cut_note(cut, size, max_text)
    return p


def _cut_note(cut: bool, size: int, shown: int) -> str:
    return f"File truncated: showing the first {human_size(shown)} of {human_size(size)}." if cut else ""


def _binary(path: Path, p: Preview, warning: str = "") -> None:
    p.page = "info"
    p.text = NEVER_OPENED
    if not stat.S_ISREG(os.stat(path).st_mode):  # a fifo would block the read forever
        p.info = [("Type", "special file (pipe, socket or device)")]
        return
    desc = describe_binary(path)  # reads the first 8 KB only
    p.info = [("Type", str(desc.get("type", "unknown"))), ("Size", _size_text(desc["size"]))]
    if desc.get("detail"):
        p.info.append(("Detail", str(desc["detail"])))
    p.warning = warning


def _size_text(size: int) -> str:
    return f"{human_size(size)} ({size:,} bytes)" if size >= 1024 else human_size(size)


def decode(reader: QImageReader, max_side: int) -> tuple[QImage, QSize]:
    """The image, scaled down to fit ``max_side``, and its own size; PreviewError says why not
    ("too large (…)", "not decodable (…)")."""
    reader.setAutoTransform(True)
    reader.setAllocationLimit(MAX_DECODE_MB)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > max_side:
        reader.setScaledSize(size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if not image.isNull():
        return image, size if size.isValid() else image.size()
    need = 4 * size.width() * size.height() if size.isValid() else 0  # Qt decodes to 32 bits/pixel
    if need > MAX_DECODE_MB * 1024 * 1024:  # most formats are decoded whole before scaling
        raise PreviewError(f"too large ({size.width():,} × {size.height():,} px would need "
                           f"{human_size(need)} of memory; the limit is {MAX_DECODE_MB} MB)")
    raise PreviewError(f"not decodable ({reader.errorString()})")


def _image(path: Path, p: Preview) -> None:
    reader = QImageReader(str(path))
    try:
        image, size = decode(reader, MAX_IMAGE_SIDE)
    except PreviewError as e:
        _binary(path, p, f"This image cannot be previewed: {e}. "
                         "Double-click it to open it in the system viewer.")
        return
    p.page = "image"
    p.image = image
    p.image_size = (size.width(), size.height())
    if max(size.width(), size.height()) > MAX_IMAGE_SIDE:
        p.note = f"Scaled down to fit {MAX_IMAGE_SIDE} px for the preview."
    fmt = bytes(reader.format().data()).decode("ascii", "replace").upper() or "image"
    p.info = [("Format", fmt), ("Pixels", f"{p.image_size[0]} × {p.image_size[1]}")]


def _markdown(path: Path, p: Preview, max_text: int, root: Path) -> None:
    text, cut = read_text_head(path, max_text)
    text, dropped = limit_table_cells(text, MAX_MARKDOWN_TABLE_CELLS)
    budget = [MAX_LINKED_IMAGES]

    def image(ref: str) -> QImage | str:
        if budget[0] <= 0:
            return f"more than {MAX_LINKED_IMAGES} images"
        budget[0] -= 1
        try:
            data = read_linked_image(ref, path.parent, root, MAX_LINKED_IMAGE_BYTES)
            buffer = QBuffer()
            buffer.setData(QByteArray(data))
            return decode(QImageReader(buffer), MAX_LINKED_IMAGE_SIDE)[0]
        except (ImageRefused, PreviewError) as e:
            return str(e)

    p.page = "markdown"
    p.text = text
    p.document = markdown_document(text, CODE_BACKGROUND, image)
    p.document.moveToThread(QCoreApplication.instance().thread())  # the GUI thread shows it
    rows = (f"Tables cut short: {dropped:,} rows left out (a preview shows at most "
            f"{MAX_MARKDOWN_TABLE_CELLS:,} table cells)." if dropped else "")
    p.note = " ".join(n for n in (_cut_note(cut, p.size, max_text), rows) if n)


def _svg(path: Path, p: Preview, max_text: int) -> None:
    from PySide6.QtSvg import QSvgRenderer

    if p.size > MAX_SVG_BYTES:
        p.text, cut = read_text_head(path, max_text)
        p.note = _cut_note(cut, p.size, max_text)
        p.warning = f"This SVG is {human_size(p.size)}; shown as text instead of being drawn."
        return
    renderer = QSvgRenderer(path.read_bytes())
    if not renderer.isValid():
        p.text, cut = read_text_head(path, max_text)
        p.warning = "This SVG could not be drawn (invalid SVG); shown as text."
        return
    default = renderer.defaultSize()
    w, h = max(1, default.width()), max(1, default.height())
    scale = min(4.0, max(1.0, 480 / max(w, h)), MAX_IMAGE_SIDE / max(w, h))
    image = QImage(QSize(round(w * scale), round(h * scale)), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, image.width(), image.height()))
    painter.end()
    p.page, p.image, p.image_size = "image", image, (w, h)
    p.info = [("Format", "SVG"), ("Size", f"{w} × {h}")]


def _read_limited(path: Path, limit: int) -> tuple[str, bool]:
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    cut = len(data) > limit
    return data[:limit].decode("utf-8-sig", errors="replace"), cut


def _structured(path: Path, p: Preview, max_text: int) -> None:
    limit = MAX_PARSE_BYTES[p.kind]
    name = p.kind.upper()
    if p.size > limit:
        p.text, cut = read_text_head(path, max_text)
        p.note = _cut_note(cut, p.size, max_text)
        p.warning = f"This {name} file is {human_size(p.size)}, too large to pretty-print; shown as text."
        return
    raw, _ = _read_limited(path, limit)
    try:
        p.text = _pretty_json(raw) if p.kind == "json" else _pretty_yaml(raw)
    except Exception as e:  # noqa: BLE001 - any parse failure: show the text as it is
        p.text = raw[:max_text]
        p.warning = f"Not valid {name} ({_one_line(e)}); shown as plain text."
    if len(p.text) > max_text:
        p.text = p.text[:max_text]
        p.note = f"Truncated: showing the first {human_size(max_text)} of the formatted text."


def _pretty_json(raw: str) -> str:
    return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)


def _pretty_yaml(raw: str) -> str:
    """Re-indented YAML; a file with comments is shown as written (dumping would drop them)."""
    import yaml  # safe_load / safe_dump only: never yaml.load, no arbitrary tags

    docs = list(yaml.safe_load_all(raw))
    if any(line.lstrip().startswith("#") or " #" in line for line in raw.splitlines()):
        return raw
    dumped = [yaml.safe_dump(d, sort_keys=False, allow_unicode=True, default_flow_style=False)
              for d in docs]
    return "---\n".join(dumped) if dumped else raw


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _table(path: Path, p: Preview, max_rows: int) -> None:
    raw, cut = _read_limited(path, MAX_TABLE_BYTES)
    lines = io.StringIO(raw, newline="")
    try:
        reader = csv.reader(lines, delimiter="\t" if p.kind == "tsv" else ",")
        rows = list(islice(reader, max_rows + 2))
    except csv.Error as e:
        p.text, cut2 = read_text_head(path, MAX_TEXT_BYTES)
        p.note = _cut_note(cut2, p.size, MAX_TEXT_BYTES)
        p.warning = f"Cannot read this as {p.kind.upper()} ({_one_line(e)}); shown as plain text."
        return
    if cut and len(rows) <= max_rows + 1:
        rows = rows[:-1]  # the last line was cut mid-way
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    more = len(body) > max_rows or cut
    body = body[:max_rows]
    width = min(MAX_TABLE_COLUMNS, max([len(header), *(len(r) for r in body)], default=0))
    p.page = "table"
    p.headers = [(h.strip() or f"column {i + 1}") for i, h in enumerate(header[:width])]
    p.headers += [f"column {i + 1}" for i in range(len(p.headers), width)]
    p.rows = [r[:width] + [""] * (width - len(r)) for r in body]
    p.note = (f"Showing the first {max_rows:,} rows." if more
              else f"{len(p.rows):,} rows × {width} columns.")


def _model(path: Path, p: Preview) -> None:
    p.page = "table"
    meta_file = path / "runwatch-model.json"
    meta: dict[str, Any] = {}
    files: list[list[str]] = []
    if meta_file.is_file():
        raw, _ = _read_limited(meta_file, 5 * 1024 * 1024)
        try:
            meta = json.loads(raw)
        except ValueError as e:
            p.warning = f"The model description is not valid JSON ({_one_line(e)})."
        if not isinstance(meta, dict):
            meta = {}
        for f in meta.get("files") or []:
            if isinstance(f, dict):
                files.append([str(f.get("path", "")), human_size(int(f.get("size", 0) or 0)),
                              str(f.get("sha256", ""))[:12]])
        p.info = [("Name", str(meta.get("name", path.name))), ("Flavor", str(meta.get("flavor", "")))]
        if isinstance(meta.get("created_time"), (int, float)):
            p.info.append(("Created", local_time(int(meta["created_time"]))))
        extra = meta.get("metadata")
        if isinstance(extra, dict):
            p.info += [(str(k), json.dumps(v, ensure_ascii=False)[:300]) for k, v in extra.items()]
    else:  # an MLflow MLmodel file (YAML)
        import yaml

        raw, _ = _read_limited(path / "MLmodel", 5 * 1024 * 1024)
        try:
            meta = yaml.safe_load(raw) or {}
        except yaml.YAMLError as e:
            p.warning = f"The MLmodel file is not valid YAML ({_one_line(e)})."
        if not isinstance(meta, dict):
            meta = {}
        flavors = meta.get("flavors")
        p.info = [("Name", path.name),
                  ("Flavors", ", ".join(flavors) if isinstance(flavors, dict) else "")]
        for key in ("run_id", "utc_time_created", "model_uuid"):
            if meta.get(key):
                p.info.append((key, str(meta[key])))
    if not files:
        files = [[rel, human_size(size), ""] for rel, size in _walk(path)[0]]
    p.headers = ["File", "Size", "sha256"]
    p.rows = files
    p.info.append(("Files", f"{len(files):,}"))


def _walk(path: Path) -> tuple[list[tuple[str, int]], int]:
    """(relative file, size) under ``path`` (capped), and the number of folders; no links followed."""
    files: list[tuple[str, int]] = []
    folders = 0
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        folders += len(dirnames)
        for name in filenames:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            files.append((Path(os.path.relpath(full, path)).as_posix(), st.st_size))
            if len(files) >= MAX_DIR_ENTRIES:
                return sorted(files), folders
    return sorted(files), folders


def _dir(path: Path, p: Preview) -> None:
    files, folders = _walk(path)
    total = sum(s for _, s in files)
    capped = len(files) >= MAX_DIR_ENTRIES
    p.page = "info"
    p.size = total
    count = f"{len(files):,}{'+' if capped else ''}"
    p.info = [("Files", count), ("Folders", f"{folders:,}"), ("Total size", _size_text(total))]
    p.text = "A folder: expand it in the tree to see its contents."
