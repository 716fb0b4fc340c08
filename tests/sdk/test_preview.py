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
from tracker_sdk.preview import (
    ImageRefused,
    describe_binary,
    limit_table_cells,
    preview_kind,
    read_linked_image,
    read_text_head,
)

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


# --------------------------------------------------------------------------- Markdown artifacts

def _run_folder(tmp_path: Path) -> Path:
    root = tmp_path / "runs" / "r1"
    _make(root, "plots/a.png", PNG)
    return root


def test_an_image_linked_inside_the_run_is_read(tmp_path: Path) -> None:
    root = _run_folder(tmp_path)
    assert read_linked_image("plots/a.png", root, root, 1000) == PNG
    assert read_linked_image("./plots/../plots/a.png", root, root, 1000) == PNG
    assert read_linked_image("../plots/a.png", root / "sub", root, 1000) == PNG  # from sub/report.md
    assert read_linked_image(str(root / "plots" / "a.png"), root, root, 1000) == PNG  # absolute, inside
    _make(root, "plots/my plot.png", PNG)
    assert read_linked_image("plots/my%20plot.png", root, root, 1000) == PNG  # a URL: %20 is a space


def test_a_small_data_uri_image_is_decoded_and_a_big_one_refused(tmp_path: Path) -> None:
    import base64

    root = _run_folder(tmp_path)
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert read_linked_image(uri, root, root, 1000) == PNG
    with pytest.raises(ImageRefused, match="larger than"):
        read_linked_image(uri, root, root, len(PNG) - 1)


@pytest.mark.parametrize(("ref", "why"), [
    ("/dev/zero", "outside the run folder"),  # a device: read, it never ends
    ("/etc/passwd", "outside the run folder"),
    ("file:///etc/passwd", "outside the run folder"),
    ("../r2/x.png", "outside the run folder"),  # another run's folder
    ("../../../../../../../../etc/passwd", "outside the run folder"),
    ("http://example.com/x.png", "remote"),  # never fetched
    ("https://example.com/x.png", "remote"),
    ("//example.com/x.png", "remote"),
    ("ftp://example.com/x.png", "remote"),
    ("plots/none.png", "not found"),
    ("plots", "not a regular file"),
    ("", "no file"),
])
def test_images_outside_the_run_or_remote_are_refused(tmp_path: Path, ref: str, why: str) -> None:
    root = _run_folder(tmp_path)
    _make(tmp_path / "runs" / "r2", "x.png", PNG)
    with pytest.raises(ImageRefused, match=why):
        read_linked_image(ref, root, root, 1000)


def test_an_absolute_path_to_a_file_outside_the_run_is_never_opened(tmp_path: Path, monkeypatch) -> None:
    root = _run_folder(tmp_path)
    secret = _make(tmp_path, "secret.png", PNG)
    opened: list[str] = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    with pytest.raises(ImageRefused, match="outside the run folder"):
        read_linked_image(str(secret), root, root, 1000)
    assert opened == []


def test_a_symlink_leaving_the_run_is_refused(tmp_path: Path) -> None:
    root = _run_folder(tmp_path)
    secret = _make(tmp_path, "secret.png", PNG)
    os.symlink(secret, root / "plots" / "link.png")
    os.symlink("/dev/zero", root / "plots" / "zero.png")
    for ref in ("plots/link.png", "plots/zero.png"):
        with pytest.raises(ImageRefused, match="outside the run folder"):
            read_linked_image(ref, root, root, 1000)
    os.symlink(root / "plots" / "a.png", root / "plots" / "inside.png")  # a link within the run is fine
    assert read_linked_image("plots/inside.png", root, root, 1000) == PNG


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX fifos")
def test_a_fifo_in_the_run_is_refused_without_blocking(tmp_path: Path) -> None:
    root = _run_folder(tmp_path)
    os.mkfifo(root / "plots" / "pipe.png")  # opening it for reading would wait for a writer forever
    with pytest.raises(ImageRefused, match="not a regular file"):
        read_linked_image("plots/pipe.png", root, root, 1000)


def test_an_image_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    root = _run_folder(tmp_path)
    _make(root, "plots/huge.png", PNG + b"\0" * 5000)
    with pytest.raises(ImageRefused, match="larger than"):
        read_linked_image("plots/huge.png", root, root, 1000)


def _table(rows: int, start: int = 0) -> str:
    return "| a | b |\n|---|--:|\n" + "".join(f"| {i} | {i * 2} |\n" for i in range(start, start + rows))


def test_table_rows_beyond_the_cell_cap_are_left_out() -> None:
    text = "# Report\n\n" + _table(5) + "\nAfter the table.\n\n" + _table(3, 100) + "\nEnd\n"
    capped, dropped = limit_table_cells(text, 12)  # 2 cells a row: 6 rows in all
    assert dropped == 2  # 5 rows of the first table and 1 of the second are kept
    assert capped == ("# Report\n\n" + _table(5) + "\nAfter the table.\n\n" + _table(1, 100) + "\nEnd\n")
    assert limit_table_cells(text, 100) == (text, 0)
    wide = "|a|b|c|d|\n|-|-|-|-|\n|1|2|3|4|\n|5|6|7|8|\n|9|\\||x|y|\n"  # an escaped pipe is no cell
    assert limit_table_cells(wide, 12) == (wide, 0)
    assert limit_table_cells(wide, 11) == (wide.rsplit("|9", 1)[0], 1)


def test_table_cell_cap_ignores_code_blocks_and_plain_pipes() -> None:
    code = "```\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n```\n"
    prose = "a | b\nnot a table\nc | d\n"
    assert limit_table_cells(code + prose, 2) == (code + prose, 0)
    loose = "a | b\n--|--\n1 | 2\n3 | 4\n"  # GFM tables need no outer pipes
    assert limit_table_cells(loose, 2) == ("a | b\n--|--\n1 | 2\n", 1)


def test_table_cell_cap_is_linear_on_a_huge_table() -> None:
    text = _table(200_000)  # a quadratic pass over this would take hours
    capped, dropped = limit_table_cells(text, 2000)
    assert dropped == 199_000
    assert capped == _table(1000)
