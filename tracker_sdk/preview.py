"""Decide how the app may preview an artifact, safely.

Pure classification: a few KB of a file are read and looked at; nothing is ever executed,
imported, unpickled or loaded by a third-party parser here. Pickles and checkpoints are
named from their magic bytes and left closed. For Markdown artifacts: which linked images may
be read (files inside the run only), and a cap on table cells.
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import os
import re
import stat
import struct
import zipfile
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from pathlib import Path
from typing import Any

HEAD_BYTES = 8192

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"})
#: Serialised Python objects and tensors: loading them can run code or eat all memory.
NEVER_LOAD_EXTENSIONS = frozenset({
    ".pkl", ".pickle", ".pt", ".pth", ".joblib", ".npy", ".npz", ".ckpt", ".bin",
    ".safetensors", ".h5", ".hdf5", ".onnx", ".pb", ".keras", ".msgpack",
})
MODEL_MARKERS = ("runwatch-model.json", "MLmodel")
_BY_EXTENSION = {
    ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv", ".tsv": "tsv",
    ".md": "markdown", ".markdown": "markdown", ".svg": "svg",
}

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def preview_kind(path: Path | str) -> str:
    """One of: dir, model, image, svg, json, yaml, csv, tsv, markdown, text, binary.

    Images need both an image extension and image magic bytes; json/yaml/csv/tsv/markdown/svg
    need their extension and a UTF-8 text body; any other UTF-8 file without NUL bytes in its
    first 8 KB is text whatever its name. Raises FileNotFoundError if ``path`` is gone.
    """
    path = Path(path)
    st = path.stat()  # follows symlinks; the store already refuses links leaving the run
    if stat.S_ISDIR(st.st_mode):
        return "model" if any((path / m).is_file() for m in MODEL_MARKERS) else "dir"
    ext = path.suffix.lower()
    if not stat.S_ISREG(st.st_mode) or ext in NEVER_LOAD_EXTENSIONS:
        return "binary"  # fifos and devices would block a read; checkpoints are never opened
    head, whole = _head(path)
    if ext in IMAGE_EXTENSIONS and _is_image(head):
        return "image"
    if not _is_text(head, whole):
        return "binary"
    return _BY_EXTENSION.get(ext, "text")


def _head(path: Path) -> tuple[bytes, bool]:
    """The first HEAD_BYTES of the file, and whether that is the whole file."""
    with open(path, "rb") as fh:
        data = fh.read(HEAD_BYTES + 1)
    return data[:HEAD_BYTES], len(data) <= HEAD_BYTES


def _is_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _is_text(head: bytes, whole: bool) -> bool:
    if b"\0" in head:
        return False
    try:
        # final=False when the head is cut: a multi-byte character may straddle the cut.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)
    except UnicodeDecodeError:
        return False
    return True


def read_text_head(path: Path | str, max_bytes: int = 1_000_000) -> tuple[str, bool]:
    """Up to ``max_bytes`` of a text file as str, and whether it was cut.

    Undecodable bytes become U+FFFD rather than failing: a log with one bad byte still shows.
    """
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    truncated = len(data) > max_bytes
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    return decoder.decode(data[:max_bytes], final=not truncated), truncated


# --------------------------------------------------------------------------- binary files

_MAGIC_NAMES: tuple[tuple[bytes, str], ...] = (
    (b"\x93NUMPY", "NumPy array"),
    (b"\x89HDF\r\n\x1a\n", "HDF5 file"),
    (b"SQLite format 3\0", "SQLite database"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\0", "xz archive"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"PAR1", "Parquet file"),
    (b"ARROW1", "Arrow file"),
    (b"\x7fELF", "ELF executable"),
)
_EXTENSION_NAMES = {
    ".pkl": "pickle — not opened", ".pickle": "pickle — not opened",
    ".joblib": "joblib pickle — not opened", ".npz": "NumPy archive (npz)",
    ".safetensors": "safetensors tensors", ".onnx": "ONNX model", ".pb": "Protocol Buffers",
    ".h5": "HDF5 file", ".hdf5": "HDF5 file", ".keras": "Keras model",
    ".pt": "PyTorch checkpoint", ".pth": "PyTorch checkpoint", ".ckpt": "checkpoint",
    ".bin": "binary weights",
}
_TORCH_EXTENSIONS = frozenset({".pt", ".pth", ".ckpt", ".bin"})


def describe_binary(path: Path | str) -> dict[str, Any]:
    """``{"size": bytes, "type": name}`` plus ``"detail"`` when cheap and safe to tell.

    The type comes from magic bytes first, the extension second, else "unknown".
    """
    path = Path(path)
    size = path.stat().st_size
    ext = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    out: dict[str, Any] = {"size": size, "type": _type_name(path, ext, head)}
    detail = _npy_detail(head) if head.startswith(b"\x93NUMPY") else None
    if detail:
        out["detail"] = detail
    return out


def _type_name(path: Path, ext: str, head: bytes) -> str:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path, ext)
    if _is_pickle(head):
        if ext in _TORCH_EXTENSIONS:
            return "PyTorch checkpoint (legacy pickle) — not opened"
        return "pickle — not opened"
    for magic, name in _MAGIC_NAMES:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP image"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar archive"
    return _EXTENSION_NAMES.get(ext, "unknown")


def _is_pickle(head: bytes) -> bool:
    # Protocol 2+ opens with PROTO (0x80) and the protocol number; 0/1 have no reliable magic.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _zip_kind(path: Path, ext: str) -> str:
    if ext in _TORCH_EXTENSIONS:
        return "PyTorch checkpoint (zip)"
    if ext == ".npz":
        return "NumPy archive (npz)"
    try:
        # Reads only the central directory (names), never a member's content.
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()[:10_000]
    except (zipfile.BadZipFile, OSError, ValueError):
        return "ZIP archive"
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        return "PyTorch checkpoint (zip)"
    if names and all(n.endswith(".npy") for n in names):
        return "NumPy archive (npz)"
    return "ZIP archive"


def _npy_detail(head: bytes) -> str | None:
    """dtype and shape from a .npy header: a Python literal, read with ast.literal_eval only."""
    try:
        major = head[6]
        if major == 1:
            (length,), start = struct.unpack("<H", head[8:10]), 10
        else:
            (length,), start = struct.unpack("<I", head[8:12]), 12
        text = head[start:start + length].decode("latin1")
        header = ast.literal_eval(text)  # literals only: no names, no calls
        return f"{header['descr']} {tuple(header['shape'])}"
    except Exception:  # noqa: BLE001 - an odd header just gets no detail
        return None


def is_previewable_text(kind: str) -> bool:
    """True for kinds the app shows as text (json/yaml/csv/... are text with a better view)."""
    return kind in {"svg", "json", "yaml", "csv", "tsv", "markdown", "text"}


# --------------------------------------------------------------------------- Markdown artifacts

class ImageRefused(Exception):
    """An image a Markdown artifact links to that is not shown; the message says why."""


def read_linked_image(ref: str, doc_dir: Path | str, root: Path | str, max_bytes: int) -> bytes:
    """The bytes of the image ``ref`` that a Markdown file in ``doc_dir`` links to.

    Only a regular file inside ``root`` (the run's artifact folder, after following symlinks)
    of at most ``max_bytes`` is read, and a small ``data:`` URI is decoded. Anything else
    raises ImageRefused without opening it: a device like /dev/zero never ends, a fifo blocks,
    a path outside the run reads what the artifact has no business showing, and a URL would
    reach the network.
    """
    parts = urlsplit(ref.strip())
    scheme = parts.scheme.lower()
    if scheme == "data":
        return _data_uri(ref.strip(), max_bytes)
    if scheme not in ("", "file") or parts.netloc not in ("", "localhost"):
        raise ImageRefused("remote images are never fetched")
    rel = unquote(parts.path)
    if not rel:
        raise ImageRefused("no file named")
    real = os.path.realpath(os.path.join(doc_dir, rel))  # an absolute rel replaces doc_dir
    base = os.path.realpath(root)
    if os.path.commonpath([base, real]) != base:
        raise ImageRefused("outside the run folder")
    try:
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode):  # never open a fifo, socket or device
            raise ImageRefused("not a regular file")
        _check_size(st.st_size, max_bytes)
        # O_NONBLOCK: should the file be swapped for a fifo since the stat, opening won't wait.
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise ImageRefused("not found") from None
    except OSError as e:
        raise ImageRefused(f"cannot be read ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ImageRefused("not a regular file")
        data = fh.read(max_bytes + 1)
    _check_size(len(data), max_bytes)  # it grew since the stat
    return data


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ImageRefused(f"larger than the {max_bytes / 1e6:g} MB limit for linked images")


def _data_uri(uri: str, max_bytes: int) -> bytes:
    _check_size(len(uri) * 3 // 4 - 100, max_bytes)  # before decoding anything
    head, sep, payload = uri[5:].partition(",")
    if not sep:
        raise ImageRefused("not a valid data: URI")
    try:
        data = (base64.b64decode(payload, validate=True) if head.lower().endswith(";base64")
                else unquote_to_bytes(payload))
    except (binascii.Error, ValueError):
        raise ImageRefused("not a valid data: URI") from None
    _check_size(len(data), max_bytes)
    return data


_TABLE_DELIMITER = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def limit_table_cells(text: str, max_cells: int) -> tuple[str, int]:
    """``text`` with the body rows of its Markdown tables left out once ``max_cells`` cells (all
    tables together) are kept, and how many rows were left out. One pass over the lines.

    Qt lays a table out whole, on the GUI thread, in time growing with its cells.
    """
    out: list[str] = []
    cells = dropped = 0
    fence = ""
    in_table = False
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if in_table:
            if bare.strip() and "|" in bare:
                row = bare.strip().strip("|")
                cells += row.count("|") - row.count("\\|") + 1
                if cells <= max_cells:
                    out.append(line)
                else:
                    dropped += 1
                continue
            in_table = False
        fence_match = _FENCE.match(bare)
        if fence:
            if fence_match and bare.strip().startswith(fence):
                fence = ""
        elif fence_match:
            fence = fence_match.group(1)
        elif "|" in bare and out and "|" in out[-1] and _TABLE_DELIMITER.fullmatch(bare):
            in_table = True
        out.append(line)
    return "".join(out), dropped


__all__ = ["preview_kind", "read_text_head", "describe_binary", "is_previewable_text",
           "read_linked_image", "ImageRefused", "limit_table_cells",
           "IMAGE_EXTENSIONS", "NEVER_LOAD_EXTENSIONS", "HEAD_BYTES"]
