"""The artifact store and its serialisers, through what a user logs and later finds on disk."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from tracker_sdk.artifacts import (
    MODEL_META_FILE,
    ArtifactStore,
    dump_dict,
    encode_png,
    figure_to_bytes,
    image_to_png,
    safe_relpath,
)
from tracker_sdk.entities import ArtifactInfo
from tracker_sdk.errors import ArtifactPathError, ValidationError

RUN = "r1"


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(("given", "expected"), [
    ("a.txt", "a.txt"), ("dir/a.txt", "dir/a.txt"), ("./dir//a.txt/", "dir/a.txt"),
    ("dir\\sub\\a.txt", "dir/sub/a.txt"), ("..a/b..", "..a/b.."),
])
def test_safe_relpath_normalises(given: str, expected: str) -> None:
    assert safe_relpath(given) == expected


@pytest.mark.parametrize(("bad", "rule"), [
    ("/etc/passwd", "absolute"),
    ("\\\\server\\share", "absolute"),
    ("C:/Users/x", "drive letter"),
    ("c:evil", "drive letter"),
    ("../outside", "'..'"),
    ("a/../../outside", "'..'"),
    ("a/../b", "'..'"),
    ("", "empty"),
    ("./", "empty"),
    ("a\0b", "NUL"),
])
def test_safe_relpath_refuses_escapes_naming_path_and_rule(bad: str, rule: str) -> None:
    with pytest.raises(ArtifactPathError) as info:
        safe_relpath(bad)
    assert repr(bad) in str(info.value) and rule in str(info.value)


def test_writes_refuse_escaping_paths(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(ArtifactPathError, match=r"'\.\./x\.txt'"):
        store.write_text(RUN, "../x.txt", "nope")
    with pytest.raises(ArtifactPathError):
        store.write_text("../evil", "x.txt", "nope")  # a run id cannot escape either
    assert not (tmp_path / "x.txt").exists()


def test_resolve_refuses_a_symlink_leaving_the_run(store: ArtifactStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("hunter2")
    store.write_text(RUN, "ok.txt", "fine")
    os.symlink(secret, store.resolve(RUN) / "link")
    with pytest.raises(ArtifactPathError, match="outside the run folder"):
        store.resolve(RUN, "link/key")
    with pytest.raises(ArtifactPathError):
        store.write_text(RUN, "link/planted.txt", "x")
    assert not (secret / "planted.txt").exists()
    assert [i.path for i in store.list(RUN)] == ["ok.txt"]  # the link is not listed
    assert [i.path for i in store.walk(RUN)] == ["ok.txt"]


def test_resolve_allows_a_symlink_within_the_run(store: ArtifactStore) -> None:
    store.write_text(RUN, "real/a.txt", "a")
    os.symlink("real", store.resolve(RUN) / "alias")
    assert store.resolve(RUN, "alias/a.txt") == store.resolve(RUN, "real/a.txt")


# --------------------------------------------------------------------------- copying


def _tree(base: Path) -> dict[str, bytes]:
    return {p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(base.rglob("*")) if p.is_file()}


def test_log_file_and_folder_keep_names_and_structure(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "outputs"
    (src / "sub" / "deep").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "a.txt").write_text("A")
    (src / "sub" / "deep" / "b.bin").write_bytes(b"\x00\x01")
    one = tmp_path / "config.yaml"
    one.write_text("lr: 0.1\n")

    assert store.log_path(RUN, one) == "config.yaml"
    assert store.log_path(RUN, one, "cfg/v1") == "cfg/v1/config.yaml"
    assert store.log_path(RUN, src, "results") == "results/outputs"

    assert _tree(store.resolve(RUN, "results/outputs")) == _tree(src)
    assert store.resolve(RUN, "results/outputs/empty").is_dir()
    assert store.resolve(RUN, "cfg/v1/config.yaml").read_text() == "lr: 0.1\n"
    assert not [p for p in store.resolve(RUN).rglob("*.tmp")]  # no temp files left behind


def test_log_missing_source_says_so(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        store.log_path(RUN, tmp_path / "nope.txt")


def test_symlinks_in_a_copied_folder(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "real.txt").write_text("inside")
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    os.symlink(src / "real.txt", src / "inner_link.txt")
    os.symlink(outside, src / "outer_link.txt")
    with pytest.warns(UserWarning, match="outer_link.txt"):
        store.log_path(RUN, src)
    copied = store.resolve(RUN, "src")
    assert (copied / "inner_link.txt").read_text() == "inside"
    assert not (copied / "inner_link.txt").is_symlink()  # stored as a plain file
    assert not (copied / "outer_link.txt").exists()


def test_logging_the_folder_that_holds_the_store_does_not_recurse(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text("print()")
    store = ArtifactStore(project / "runwatch" / "artifacts")
    store.write_text(RUN, "earlier.txt", "x")
    with pytest.warns(UserWarning):
        rel = store.log_path(RUN, project)
    assert store.resolve(RUN, f"{rel}/train.py").read_text() == "print()"
    assert not store.resolve(RUN, f"{rel}/runwatch/artifacts").exists()


def test_overwrite_replaces_whole_file(store: ArtifactStore) -> None:
    store.write_bytes(RUN, "m.bin", b"x" * 1000)
    store.write_bytes(RUN, "m.bin", b"short")
    assert store.resolve(RUN, "m.bin").read_bytes() == b"short"


def test_writing_over_a_folder_is_refused(store: ArtifactStore) -> None:
    store.write_text(RUN, "d/a.txt", "a")
    with pytest.raises(ArtifactPathError, match="folder"):
        store.write_text(RUN, "d", "x")


# --------------------------------------------------------------------------- listing


def test_list_walk_size_delete(store: ArtifactStore) -> None:
    store.write_text(RUN, "b.txt", "bb")
    store.write_text(RUN, "a.txt", "a")
    store.write_text(RUN, "z/1.txt", "111")
    store.write_text(RUN, "c/2.txt", "2222")
    assert store.list(RUN) == [
        ArtifactInfo("c", True, 0), ArtifactInfo("z", True, 0),
        ArtifactInfo("a.txt", False, 1), ArtifactInfo("b.txt", False, 2),
    ]
    assert store.list(RUN, "z") == [ArtifactInfo("z/1.txt", False, 3)]
    assert [i.path for i in store.walk(RUN)] == ["a.txt", "b.txt", "c/2.txt", "z/1.txt"]
    assert store.size(RUN) == 10
    assert store.list("other") == [] and store.walk("other") == []
    store.delete_run(RUN)
    assert store.list(RUN) == []
    store.delete_run(RUN)  # already gone: fine


# --------------------------------------------------------------------------- models


def test_log_model_folder_with_metadata(store: ArtifactStore, tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "weights").mkdir(parents=True)
    (model / "weights" / "w.bin").write_bytes(b"\x01" * 100)
    (model / "config.json").write_text("{}")
    rel = store.log_model(RUN, model, "classifier", flavor="pytorch", metadata={"acc": 0.9})
    assert rel == "models/classifier"
    meta = json.loads(store.resolve(RUN, f"{rel}/{MODEL_META_FILE}").read_text())
    assert meta["name"] == "classifier" and meta["flavor"] == "pytorch"
    assert meta["metadata"] == {"acc": 0.9}
    assert isinstance(meta["created_time"], int)
    files = {f["path"]: f for f in meta["files"]}
    assert set(files) == {"config.json", "weights/w.bin"}
    assert files["weights/w.bin"]["size"] == 100
    assert files["weights/w.bin"]["sha256"] == hashlib.sha256(b"\x01" * 100).hexdigest()


def test_log_model_single_file_and_name_rules(store: ArtifactStore, tmp_path: Path) -> None:
    ckpt = tmp_path / "best.pt"
    ckpt.write_bytes(b"PK\x03\x04fake")
    assert store.log_model(RUN, ckpt, "best") == "models/best"
    assert store.resolve(RUN, "models/best/best.pt").read_bytes() == b"PK\x03\x04fake"
    with pytest.raises(ValidationError, match="already has a model"):
        store.log_model(RUN, ckpt, "best")
    with pytest.raises(ValidationError, match="single folder name"):
        store.log_model(RUN, ckpt, "a/b")
    with pytest.raises(ArtifactPathError):
        store.log_model(RUN, ckpt, "../escape")


# --------------------------------------------------------------------------- serialisers


def test_dump_dict_json_and_yaml_read_back() -> None:
    data = {"z": 1, "a": [1, 2.5, "x"], "nested": {"ok": True, "none": None},
            "np": np.float32(0.5), "arr": np.arange(3), "tuple": (1, 2), "path": Path("p")}
    as_json = json.loads(dump_dict(data, "cfg.json"))
    assert list(as_json) == list(data)  # key order kept, not sorted
    assert as_json["np"] == 0.5 and as_json["arr"] == [0, 1, 2] and as_json["tuple"] == [1, 2]
    assert as_json["path"] == "p"
    text = dump_dict(data, "cfg.json").decode()
    assert '\n  "z": 1' in text  # indent 2
    for name in ("cfg.yaml", "cfg.YML"):
        assert yaml.safe_load(dump_dict(data, name)) == as_json


def test_dump_dict_unknown_extension_says_what_works() -> None:
    with pytest.raises(ValidationError, match=r"\.json, \.yaml or \.yml"):
        dump_dict({}, "cfg.txt")


def test_dump_dict_stringifies_the_unknown() -> None:
    class Thing:
        def __str__(self) -> str:
            return "thing!"

    assert json.loads(dump_dict({"t": Thing(), 3: "int key"}, "x.json")) == {
        "t": "thing!", "3": "int key"}


def test_figure_to_bytes_uses_extension() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot().plot([1, 2, 3])
    assert figure_to_bytes(fig, "plot.png").startswith(b"\x89PNG")
    assert figure_to_bytes(fig, "plot").startswith(b"\x89PNG")
    assert b"<svg" in figure_to_bytes(fig, "plot.svg")[:500]
    with pytest.raises(ValidationError, match="cannot save a figure"):
        figure_to_bytes(fig, "plot.docx")
    with pytest.raises(ValidationError, match="matplotlib Figure"):
        figure_to_bytes("not a figure", "plot.png")


def _decode_pure_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, colour type, raw scanlines) parsed by hand, to check the pure encoder."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and b"IEND" in chunks
    return width, height, color, zlib.decompress(chunks[b"IDAT"])


@pytest.mark.parametrize(("shape", "color", "channels"), [
    ((5, 7), 0, 1), ((5, 7, 1), 0, 1), ((5, 7, 3), 2, 3), ((5, 7, 4), 6, 4),
])
def test_pure_png_encoder(shape: tuple[int, ...], color: int, channels: int) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    flat = pixels.reshape(5, 7 * channels)
    width, height, got_color, raw = _decode_pure_png(encode_png(pixels))
    assert (width, height, got_color) == (7, 5, color)
    rows = np.frombuffer(raw, np.uint8).reshape(5, 1 + 7 * channels)
    assert (rows[:, 0] == 0).all()  # filter byte "None" on every row
    assert np.array_equal(rows[:, 1:], flat)


def test_image_to_png_without_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    pixels = np.zeros((4, 3, 3), np.uint8)
    pixels[1, 2] = (255, 0, 128)
    width, height, color, raw = _decode_pure_png(image_to_png(pixels))
    assert (width, height, color) == (3, 4, 2)
    assert np.array_equal(np.frombuffer(raw, np.uint8).reshape(4, 10)[:, 1:].reshape(4, 3, 3),
                          pixels)


@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 1), (6, 5, 3), (6, 5, 4)])
def test_numpy_image_round_trips_through_pillow(shape: tuple[int, ...]) -> None:
    Image = pytest.importorskip("PIL.Image")
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    back = np.asarray(Image.open(io.BytesIO(image_to_png(pixels))))
    assert np.array_equal(back, pixels.reshape(back.shape))


def test_float_and_bool_images_are_scaled() -> None:
    Image = pytest.importorskip("PIL.Image")
    floats = np.array([[0.0, 0.5, 1.0, 2.0, -1.0, np.nan]])
    back = np.asarray(Image.open(io.BytesIO(image_to_png(floats))))
    assert back.tolist() == [[0, 128, 255, 255, 0, 0]]
    bools = np.array([[True, False]])
    assert np.asarray(Image.open(io.BytesIO(image_to_png(bools)))).tolist() == [[255, 0]]


def test_pil_image_is_accepted() -> None:
    Image = pytest.importorskip("PIL.Image")
    img = Image.new("CMYK", (3, 2))  # no PNG mode: converted rather than refused
    assert Image.open(io.BytesIO(image_to_png(img))).size == (3, 2)


@pytest.mark.parametrize(("image", "message"), [
    (np.zeros((4, 4, 2), np.uint8), "shape"),
    (np.zeros((2, 2, 2, 3), np.uint8), "shape"),
    (np.zeros((0, 4), np.uint8), "shape"),
    (np.array([[300, 0]]), "0..255"),
    (np.array([["a"]]), "dtype"),
])
def test_bad_images_get_clear_errors(image: np.ndarray, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        image_to_png(image)
