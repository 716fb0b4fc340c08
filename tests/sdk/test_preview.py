"""Preview classification of real files: what the app will show, and what it will never open."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tracker_sdk.artifacts import encode_png
from tracker_sdk.preview import describe_binary, preview_kind, read_text_head

PNG = encode_png(np.zeros((2, 2), np.uint8))


def _make(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("plot.png", PNG, "image"),
    ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\0" * 20, "image"),
    ("anim.gif", b"GIF89a" + b"\0" * 20, "image"),
    ("pic.bmp", b"BM" + b"\0" * 30, "image"),
    ("pic.webp", b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 8, "image"),
    ("misnamed.jpg", PNG, "image"),  # any image magic under any image extension
    ("fake.png", "not a png at all", "text"),  # extension alone is not enough
    ("png_without_ext", PNG, "binary"),  # magic alone is not enough either
    ("figure.svg", '<svg xmlns="http://www.w3.org/2000/svg"></svg>', "svg"),
    ("cfg.json", '{"a": 1}', "json"),
    ("cfg.yaml", "a: 1\n", "yaml"),
    ("cfg.yml", "a: 1\n", "yaml"),
    ("table.csv", "a,b\n1,2\n", "csv"),
    ("table.tsv", "a\tb\n1\t2\n", "tsv"),
    ("README.md", "# Title\n", "markdown"),
    ("train.log", "epoch 1 loss 0.3\n", "text"),
    ("setup.cfg", "[x]\ny = 1\n", "text"),
    ("model.py", "print('never run')\n", "text"),
    ("fix.patch", "--- a\n+++ b\n", "text"),
    ("NOTES", "no extension, still text ✓\n", "text"),
    ("empty.txt", "", "text"),
    ("weights.bin.json", b"\x00\x01\x02", "binary"),  # a .json of garbage is not json
    ("latin1.txt", "caf\xe9".encode("latin1"), "binary"),
    ("model.pkl", pickle.dumps({"a": 1}), "binary"),
    ("model.pt", b"PK\x03\x04", "binary"),
    ("model.pth", "looks like text but is never opened", "binary"),
    ("est.joblib", b"\x80\x04", "binary"),
    ("arr.npy", b"\x93NUMPY", "binary"),
])
def test_preview_kinds(tmp_path: Path, name: str, data: bytes | str, kind: str) -> None:
    assert preview_kind(_make(tmp_path, name, data)) == kind


def test_utf8_character_cut_at_the_head_boundary_is_still_text(tmp_path: Path) -> None:
    path = _make(tmp_path, "long.log", "a" * 8191 + "é" * 10)  # é straddles byte 8192
    assert preview_kind(path) == "text"


def test_folders_and_models(tmp_path: Path) -> None:
    plain = tmp_path / "plots"
    plain.mkdir()
    ours = tmp_path / "models" / "clf"
    _make(ours, "runwatch-model.json", "{}")
    mlflow = tmp_path / "mlflow_model"
    _make(mlflow, "MLmodel", "flavors: {}\n")
    assert preview_kind(plain) == "dir"
    assert preview_kind(ours) == "model"
    assert preview_kind(mlflow) == "model"


def test_fifo_is_binary_without_blocking(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no fifos here")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert preview_kind(fifo) == "binary"


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        preview_kind(tmp_path / "gone.txt")


def test_read_text_head(tmp_path: Path) -> None:
    path = _make(tmp_path, "a.log", "line\n" * 10)
    assert read_text_head(path) == ("line\n" * 10, False)
    text, cut = read_text_head(path, max_bytes=12)
    assert (text, cut) == ("line\nline\nli", True)
    multi = _make(tmp_path, "m.txt", "éé")  # 4 bytes
    assert read_text_head(multi, max_bytes=3) == ("é", True)  # no half character
    bom = _make(tmp_path, "bom.csv", b"\xef\xbb\xbfa,b\n")
    assert read_text_head(bom)[0] == "a,b\n"
    bad = _make(tmp_path, "bad.log", b"ok \xff ok")
    assert read_text_head(bad)[0] == "ok \ufffd ok"


def _torch_like_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "a")
    return buf.getvalue()


@pytest.mark.parametrize(("name", "data", "type_name"), [
    ("model.pt", _torch_like_zip(), "PyTorch checkpoint (zip)"),
    ("model.weird", _torch_like_zip(), "PyTorch checkpoint (zip)"),  # found by member names
    ("old.pth", pickle.dumps({"w": 1}, protocol=2), "PyTorch checkpoint (legacy pickle) — not opened"),
    ("obj.pkl", pickle.dumps([1, 2]), "pickle — not opened"),
    ("obj.dat", pickle.dumps([1, 2]), "pickle — not opened"),  # by magic, whatever the name
    ("arr.npy", _npy(np.zeros((3, 4), np.float32)), "NumPy array"),
    ("bundle.zip", _plain_zip(), "ZIP archive"),
    ("x.gz", b"\x1f\x8b\x08\0" + b"\0" * 10, "gzip archive"),
    ("x.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 10, "HDF5 file"),
    ("est.joblib", b"\x78\x9c" + b"\0" * 10, "joblib pickle — not opened"),
    ("blob", b"\x00\x01\x02\x03", "unknown"),
])
def test_describe_binary(tmp_path: Path, name: str, data: bytes, type_name: str) -> None:
    info = describe_binary(_make(tmp_path, name, data))
    assert info["size"] == len(data)
    assert info["type"] == type_name


def test_describe_npy_gives_dtype_and_shape(tmp_path: Path) -> None:
    info = describe_binary(_make(tmp_path, "arr.npy", _npy(np.zeros((3, 4), np.float32))))
    assert info["detail"] == "<f4 (3, 4)"


def test_describe_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    for name, data in [("a.pkl", pickle.dumps(1)), ("b.pt", _torch_like_zip())]:
        path = _make(tmp_path, name, data)
        assert preview_kind(path) == "binary"
        describe_binary(path)
