"""The artifact store: files a run keeps beside its metrics, under ``<root>/<run_id>/``.

``ArtifactStore`` is the one seam between the SDK and where artifact bytes live; today a
local folder, later perhaps an fsspec URL. Every path a caller gives is checked by
``safe_relpath`` and every resolved path must stay inside the run folder, symlinks followed,
so a run can never write or expose anything outside its own folder. Files appear atomically
(temp name, then ``os.replace``) so the app never previews half a file, and a write that fails
(disk full, read-only) raises one ArtifactWriteError and leaves no temp file behind.

Copies run in the caller's thread and are complete when the call returns, so that nothing is
lost when the script ends right after; sparse files stay sparse (see ``_copy_data``).

The serialisers at the bottom turn dicts, figures and images into bytes for the Run API.
Nothing here pickles or unpickles anything.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import struct
import sys
import time
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from tracker_sdk.entities import ArtifactInfo
from tracker_sdk.errors import ArtifactPathError, ArtifactWriteError, ValidationError

MODEL_META_FILE = "runwatch-model.json"
MODELS_DIR = "models"

#: A copy of more bytes than this says (once per process) that it held up the calling thread.
BLOCKING_COPY_BYTES = 100_000_000
_told_copies_block = False

_DRIVE = re.compile(r"^[A-Za-z]:")
_RULE = "artifact paths are relative paths inside the run folder"


def safe_relpath(path: str) -> str:
    """``path`` as a normalised posix relative path, or ArtifactPathError saying why not.

    Backslashes count as separators (a Windows path logged on Linux must not become one
    oddly named file). Refused: empty names, absolute paths, drive letters, ``..`` anywhere
    (even ``a/../b``: there is no legitimate use and it hides escapes), NUL characters.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ArtifactPathError(f"artifact path must be a string, got {type(path).__name__}")
    raw = os.fspath(path)
    if not isinstance(raw, str):
        raise ArtifactPathError(f"artifact path must be a string, got {raw!r}")
    text = raw.replace("\\", "/")
    if "\0" in text:
        raise ArtifactPathError(f"artifact path {raw!r} contains a NUL character; {_RULE}")
    if text.startswith("/"):
        raise ArtifactPathError(f"artifact path {raw!r} is absolute; {_RULE} (drop the leading '/')")
    if _DRIVE.match(text):
        raise ArtifactPathError(f"artifact path {raw!r} starts with a drive letter; {_RULE}")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArtifactPathError(f"artifact path {raw!r} contains '..'; {_RULE} and may not "
                                "climb out of it")
    if not parts:
        raise ArtifactPathError(f"artifact path {raw!r} is empty; give a file or folder name")
    return "/".join(parts)


def _join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


class ArtifactStore:
    """Artifacts of run ``R`` live under ``root/R/``; every method takes the run id."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # ----------------------------------------------------------------- paths

    def run_dir(self, run_id: str) -> Path:
        if (not isinstance(run_id, str) or not run_id or run_id in (".", "..")
                or any(c in run_id for c in "/\\\0")):
            raise ArtifactPathError(f"run id {run_id!r} cannot name an artifact folder")
        return self.root / run_id

    def resolve(self, run_id: str, path: str = "") -> Path:
        """The real path of ``path`` inside the run folder; refuses anything resolving outside.

        Symlinks are followed, so a link planted in the run folder pointing at ``/etc`` is
        refused here even though its name looks harmless. The target need not exist.
        """
        base = Path(os.path.realpath(self.run_dir(run_id)))
        if path in ("", "."):
            return base
        rel = safe_relpath(path)
        real = Path(os.path.realpath(base / rel))
        if real != base and base not in real.parents:
            raise ArtifactPathError(f"artifact path {path!r} of run {run_id} resolves to {real}, "
                                    f"outside the run folder {base} (through a symlink); refused")
        return real

    # ----------------------------------------------------------------- writing

    def write_bytes(self, run_id: str, path: str, data: bytes) -> str:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValidationError(f"write_bytes needs bytes, got {type(data).__name__} "
                                  "(use write_text for str)")
        rel = safe_relpath(path)
        with self._writing(run_id, rel):
            _atomic_write(self.resolve(run_id, rel), bytes(data))
        return rel

    def write_text(self, run_id: str, path: str, text: str) -> str:
        return self.write_bytes(run_id, path, str(text).encode("utf-8"))

    def log_path(self, run_id: str, src: str | Path, artifact_path: str | None = None) -> str:
        """Copy a file to ``artifact_path/<name>`` or a folder to ``artifact_path/<name>/...``.

        Returns the stored relative path. Symlinks inside a copied folder are copied as the
        files they point to when the target lies inside that folder, else skipped (warned).
        The copy blocks the caller until it is complete; one of more than
        ``BLOCKING_COPY_BYTES`` says so in a warning, once per process.
        """
        source = _existing(src)
        base = safe_relpath(artifact_path) if artifact_path not in (None, "", ".") else ""
        name = source.name or Path(os.path.realpath(source)).name  # "." has no name of its own
        rel = _join(base, name)
        self._copy(run_id, source, rel)
        return rel

    def _copy(self, run_id: str, source: Path, rel: str) -> None:
        started = time.monotonic()
        with self._writing(run_id, rel, source):
            if source.is_dir():
                copied = self._copy_tree(run_id, source, rel)
            else:
                copied = self._copy_file(run_id, source, rel)
        _note_blocking(source, copied, time.monotonic() - started)

    @contextmanager
    def _writing(self, run_id: str, rel: str, source: Path | None = None) -> Iterator[None]:
        """Turn an OSError of the block into one ArtifactWriteError: what, where, what to do."""
        try:
            yield
        except ArtifactWriteError:
            raise  # said already, about the file inside a folder that failed
        except OSError as e:
            what = f"copy {str(source)!r} to" if source is not None else "write"
            where = self.run_dir(run_id) / rel
            problem, fix = _WRITE_FAILURES.get(e.errno, (e.strerror or str(e), _CHECK))
            error = ArtifactWriteError(f"cannot {what} artifact {rel!r} of run {run_id} at "
                                       f"{where}: {problem}; {fix}")
            error.errno = e.errno
            raise error from e

    def _copy_file(self, run_id: str, source: Path, rel: str) -> int:
        """Copy one file; the number of bytes copied (holes and reflinks cost none)."""
        dest = self.resolve(run_id, rel)
        with self._writing(run_id, rel, source), open(source, "rb") as fin:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temp_name(dest)
            try:
                copied = _copy_data(fin, tmp)
                shutil.copystat(source, tmp)  # mtime and mode, as shutil.copy2 keeps them
                os.replace(tmp, dest)
            except BaseException:
                _unlink_quietly(tmp)
                raise
        return copied

    def _copy_tree(self, run_id: str, source: Path, rel: str) -> int:
        real_src = os.path.realpath(source)
        dest = self.resolve(run_id, rel)
        dest.mkdir(parents=True, exist_ok=True)
        # Logging "." from a project holding its ./runwatch store (or a folder into itself)
        # must not copy the copy again and again: never descend into the store or the target.
        no_go = {os.path.realpath(self.root), str(dest)}
        skipped: list[str] = []
        copied = 0
        for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
            here = os.path.relpath(dirpath, source)
            here_rel = rel if here == "." else _join(rel, Path(here).as_posix())
            keep = []
            for d in sorted(dirnames):
                full = os.path.join(dirpath, d)
                if os.path.islink(full) or os.path.realpath(full) in no_go:
                    skipped.append(os.path.relpath(full, source))  # links to folders: not followed
                else:
                    keep.append(d)
                    self.resolve(run_id, _join(here_rel, d)).mkdir(parents=True, exist_ok=True)
            dirnames[:] = keep
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                if not _copyable(full, real_src):
                    skipped.append(os.path.relpath(full, source))
                    continue
                copied += self._copy_file(run_id, Path(full), _join(here_rel, f))
        if skipped:  # one warning per call: a folder may hold thousands of links
            more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            warnings.warn(f"runwatch: skipped in {source} (symlinks to folders or leaving it, "
                          f"special files): {', '.join(skipped[:5])}{more}", UserWarning, stacklevel=5)
        return copied

    def log_model(self, run_id: str, src: str | Path, name: str, flavor: str = "files",
                  metadata: dict[str, Any] | None = None) -> str:
        """Copy a model file or folder to ``models/<name>/`` and describe it in
        ``models/<name>/runwatch-model.json`` (files with sizes and sha256, flavor, metadata).

        A folder's contents go straight into ``models/<name>/``. The description is written
        last, so its presence means the model is complete. Nothing is ever loaded.
        """
        source = _existing(src)
        model_name = safe_relpath(name)
        if "/" in model_name:
            raise ValidationError(f"model name {name!r} must be a single folder name, without '/'")
        if not isinstance(flavor, str) or not flavor.strip():
            raise ValidationError(f"model flavor must be a non-empty string, got {flavor!r}")
        rel = f"{MODELS_DIR}/{model_name}"
        if self.resolve(run_id, rel).exists():
            raise ValidationError(f"run {run_id} already has a model named {model_name!r}; "
                                  "log it under another name")
        self._copy(run_id, source, rel if source.is_dir() else _join(rel, source.name))
        files = [
            {"path": info.path[len(rel) + 1:], "size": info.size,
             "sha256": _sha256(self.resolve(run_id, info.path))}
            for info in self.walk(run_id, rel)
        ]
        meta = {
            "name": model_name,
            "flavor": flavor,
            "created_time": int(time.time() * 1000),  # ms since the epoch, like run times
            "files": files,
            "metadata": _plain(metadata or {}),
        }
        self.write_bytes(run_id, _join(rel, MODEL_META_FILE), dump_dict(meta, MODEL_META_FILE))
        return rel

    # ----------------------------------------------------------------- reading

    def list(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        """One level under ``path``: folders first, then files, each sorted by name.

        A missing run or folder lists as empty. Entries that resolve outside the run folder
        (planted symlinks) are left out.
        """
        folder = self.resolve(run_id, path)
        prefix = "" if path in ("", ".") else safe_relpath(path)
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return []
        dirs, files = [], []
        for entry in entries:
            info = self._info(run_id, _join(prefix, entry.name))
            if info is not None:
                (dirs if info.is_dir else files).append(info)
        key = lambda i: i.path.rsplit("/", 1)[-1]  # noqa: E731
        return sorted(dirs, key=key) + sorted(files, key=key)

    def _info(self, run_id: str, rel: str) -> ArtifactInfo | None:
        try:
            real = self.resolve(run_id, rel)
            st = real.stat()
        except (ArtifactPathError, OSError):
            return None
        if stat.S_ISDIR(st.st_mode):
            return ArtifactInfo(rel, True, 0)
        return ArtifactInfo(rel, False, st.st_size)

    def walk(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        """Every file of the run, or under ``path`` (recursive, sorted by path).

        Symlinked folders are not followed; symlinked files resolving outside are left out.
        """
        base = self.resolve(run_id)
        out: list[ArtifactInfo] = []
        for dirpath, _dirs, filenames in os.walk(self.resolve(run_id, path), followlinks=False):
            for f in filenames:
                full = os.path.join(dirpath, f)
                rel = Path(os.path.relpath(full, base)).as_posix()
                info = self._info(run_id, rel)
                if info is not None and not info.is_dir:
                    out.append(info)
        return sorted(out, key=lambda i: i.path)

    def size(self, run_id: str) -> int:
        return sum(i.size for i in self.walk(run_id))

    def delete_run(self, run_id: str) -> None:
        """Remove the run's artifact folder; a missing folder is fine."""
        folder = self.run_dir(run_id)
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------- file helpers


def _existing(src: str | Path) -> Path:
    source = Path(src)
    if not source.exists():  # a dangling symlink counts as missing
        raise FileNotFoundError(f"cannot log artifact {str(src)!r}: no such file or folder "
                                f"(looked at {source.absolute()})")
    if not (source.is_dir() or source.is_file()):  # a fifo would block the copy forever
        raise ValidationError(f"cannot log artifact {str(src)!r}: not a regular file or folder")
    return source


def _copyable(full: str, real_src: str) -> bool:
    """Regular files, and symlinks to regular files inside the copied folder."""
    try:
        st = os.stat(full)  # follows the link; a dangling link raises
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False  # fifos would block the copy forever; sockets and devices make no sense
    if os.path.islink(full):
        target = os.path.realpath(full)
        return target.startswith(real_src.rstrip(os.sep) + os.sep)
    return True


_CHECK = "check the store folder, then log the artifact again"
_WRITE_FAILURES = {  # errno → what went wrong, what to do
    errno.ENOSPC: ("the disk is full", "free space on it, then log the artifact again"),
    getattr(errno, "EDQUOT", -1): ("the disk quota is used up",
                                   "free space or raise the quota, then log the artifact again"),
    errno.EFBIG: ("the file is too large for this file system or the file size limit "
                  "(ulimit -f)", "store it elsewhere or raise the limit"),
    errno.EROFS: ("the file system is read-only", "log into a store on a writable disk"),
    errno.EACCES: ("permission denied", "give this user read access to the source and write "
                   "access to the store folder"),
}
_WRITE_FAILURES[errno.EPERM] = _WRITE_FAILURES[errno.EACCES]


def _note_blocking(source: Path, copied: int, seconds: float) -> None:
    """Say once per process that a big copy held up the caller (a training loop, usually).

    Copying in the background would need ``finish()`` to wait for it; copying in the caller
    keeps the promise that an artifact logged is an artifact kept, at this visible price.
    """
    global _told_copies_block
    if copied <= BLOCKING_COPY_BYTES or _told_copies_block:
        return
    _told_copies_block = True
    warnings.warn(f"runwatch: logging {source} blocked the calling thread for {seconds:.1f} s "
                  f"while it copied {copied / 1e6:,.1f} MB: artifacts are copied before the call "
                  "returns, so that they outlive the script; log big files outside the training "
                  "loop (said once)", UserWarning, stacklevel=5)


_CHUNK = 8 << 20
_FICLONE = 0x40049409  # <linux/fs.h>: _IOW(0x94, 9, int)


def _copy_data(fin: BinaryIO, dest: Path) -> int:
    """Copy the open file ``fin`` into the new file ``dest``, keeping holes; the bytes copied.

    shutil.copyfile streams with sendfile, which reads holes as zeros and writes them: a 2 GB
    sparse file took 2 GB of disk and seconds. A reflink (btrfs, XFS) shares the blocks and
    copies nothing; otherwise only the extents that SEEK_DATA / SEEK_HOLE report are copied.
    """
    src = fin.fileno()
    size = os.fstat(src).st_size
    with open(dest, "xb") as fout:
        dst = fout.fileno()
        if _reflink(src, dst):
            return 0
        if not hasattr(os, "SEEK_DATA"):  # Windows: no holes to find
            shutil.copyfileobj(fin, fout, _CHUNK)
            return size
        copied = sum(_copy_range(src, dst, start, end) for start, end in _data_extents(src, size))
        os.ftruncate(dst, size)  # the hole after the last extent
    return copied


def _reflink(src: int, dst: int) -> bool:
    if sys.platform != "linux":
        return False
    import fcntl

    try:
        fcntl.ioctl(dst, _FICLONE, src)
    except OSError:  # ext4, tmpfs, another file system...: copy the bytes instead
        return False
    return True


def _data_extents(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of data in the file, holes left out."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno != errno.ENXIO:  # the file system cannot tell: all of it is data
                yield pos, size
            return  # ENXIO: only a hole from pos on
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        yield start, end
        pos = end


def _copy_range(src: int, dst: int, start: int, end: int) -> int:
    pos = start
    while pos < end:
        data = os.pread(src, min(end - pos, _CHUNK), pos)
        if not data:
            break  # the file shrank while being copied
        view = memoryview(data)
        while view:
            written = os.pwrite(dst, view, pos)
            view = view[written:]
            pos += written
    return pos - start


def _temp_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{os.urandom(4).hex()}.tmp")  # unique per writer


def _atomic_write(dest: Path, data: bytes) -> None:
    if dest.is_dir():
        raise ArtifactPathError(f"cannot write file {dest}: a folder of that name already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(dest)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- serialisers


def _plain(obj: Any, _seen: frozenset[int] = frozenset()) -> Any:
    """Turn ``obj`` into JSON/YAML-safe data: numpy scalars/arrays to Python, others to str()."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if id(obj) in _seen:
        return "<cycle>"
    seen = _seen | {id(obj)}
    if isinstance(obj, dict):
        return {(k if isinstance(k, str) else str(k)): _plain(v, seen) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        return [_plain(v, seen) for v in items]
    if type(obj).__module__ == "numpy" and hasattr(obj, "tolist"):  # np.int64, np.ndarray
        return _plain(obj.tolist(), seen)
    return str(obj)


def dump_dict(obj: Any, path: str) -> bytes:
    """``obj`` as pretty JSON (indent 2, key order kept) or YAML, chosen by ``path``'s extension."""
    suffix = PurePosixPath(str(path).replace("\\", "/")).suffix.lower()
    data = _plain(obj)
    if suffix == ".json":
        return (json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()
    if suffix in (".yaml", ".yml"):
        import yaml  # pyyaml: lazy, it costs ~20 ms to import

        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                              default_flow_style=False).encode("utf-8")
    raise ValidationError(f"cannot write a dict to {path!r}: use a file name ending in "
                          ".json, .yaml or .yml")


def figure_to_bytes(fig: Any, path: str) -> bytes:
    """A matplotlib figure rendered in the format named by ``path``'s extension (png if none)."""
    if not callable(getattr(fig, "savefig", None)):
        raise ValidationError(f"log_figure expects a matplotlib Figure, got {type(fig).__name__}")
    fmt = PurePosixPath(str(path)).suffix.lower().lstrip(".") or "png"
    try:
        supported = set(fig.canvas.get_supported_filetypes())
    except Exception:  # noqa: BLE001 - an unusual canvas: let savefig decide
        supported = set()
    if supported and fmt not in supported:
        raise ValidationError(f"cannot save a figure as {fmt!r} ({path!r}); use one of: "
                              + ", ".join(sorted(supported)))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


def image_to_png(image: Any) -> bytes:
    """PNG bytes of a PIL Image or a numpy array (HxW, HxWx1, HxWx3, HxWx4).

    uint8 is taken as is; floats are taken as 0..1 and clipped (NaN → 0); bools are 0/255;
    other integers must lie in 0..255. Pillow is used when installed, else a built-in encoder.
    """
    if type(image).__module__.startswith("PIL."):
        return _pil_to_png(image)
    pixels = _to_uint8(image)
    try:
        from PIL import Image
    except ImportError:
        return encode_png(pixels)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _pil_to_png(image: Any) -> bytes:
    buf = io.BytesIO()
    try:
        image.save(buf, format="PNG")
    except (OSError, ValueError, KeyError):  # CMYK, YCbCr ... have no PNG mode
        buf = io.BytesIO()
        image.convert("RGBA").save(buf, format="PNG")
    return buf.getvalue()


def _to_uint8(image: Any) -> Any:
    import numpy as np

    try:
        arr = np.asarray(image)
    except Exception as exc:  # noqa: BLE001
        raise ValidationError(f"log_image expects a numpy array or PIL Image, "
                              f"got {type(image).__name__}") from exc
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))) or 0 in arr.shape:
        raise ValidationError(f"image of shape {arr.shape} is not an image: expected HxW "
                              "(grey), HxWx1, HxWx3 (RGB) or HxWx4 (RGBA), non-empty")
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        scaled = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise ValidationError(f"integer image values must lie in 0..255, got {lo}..{hi} "
                                  f"({arr.dtype}); convert to uint8 or to floats in 0..1")
        return arr.astype(np.uint8)
    raise ValidationError(f"image dtype {arr.dtype} is not supported: use uint8, "
                          "floats in 0..1 or bool")


def encode_png(pixels: Any) -> bytes:
    """Minimal PNG encoder for uint8 HxW / HxWx3 / HxWx4 arrays (used when Pillow is absent)."""
    import numpy as np

    arr = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    color_type = {1: 0, 3: 2, 4: 6}[channels]  # grey, RGB, RGBA (PNG spec table 11.1)
    rows = arr.reshape(height, width * channels)
    # Each scanline starts with its filter type; 0 (None) keeps this tiny and still valid.
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
