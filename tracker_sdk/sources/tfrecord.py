"""TensorBoard event files read without TensorFlow: TFRecord framing, CRC32C, and ``Event``.

A TFRecord is ``uint64 length | masked CRC32C of the length | data | masked CRC32C of the
data``; the data of an event file is an ``Event`` protobuf. A training script writes the same
few shapes of event millions of times (one scalar, a tag, a step), so the bulk is read with
numpy, never record by record in Python:

- framing follows the lengths, and where they repeat with a short period (the same tags logged
  in turn) checks a whole run of predicted records at once;
- CRC32C runs a byte-table over a column of bytes of every record of one length at once;
- one record of each length is parsed by hand (:func:`_event`); the records whose bytes equal
  it everywhere except the wall time, step and value are "the same shape" and those three are
  read out as arrays. Any other record (hparams, images, text) is parsed by hand.

Only what Runwatch shows is decoded: scalars (``simple_value``, or a rank-0 tensor of a tag
whose plugin is "scalars"), the hparams plugin's ``session_start_info``, and images.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field
from functools import cache

import numpy as np

HEADER = 12  # uint64 length + masked CRC32C of it
FOOTER = 4  # masked CRC32C of the data
#: Records up to this length have their CRC checked a column of bytes at a time; longer ones
#: (images) in blocks.
_SHORT = 1024
_BLOCK = 256
#: Shapes of record tried per length before the rest of that length is parsed one by one.
_MAX_SHAPES = 16
_MASK_DELTA = 0xA282EAD8
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_F32 = struct.Struct("<f")


class Malformed(ValueError):
    """A record whose CRC matched but whose bytes are not an Event."""


# --- CRC32C (Castagnoli), table-driven over columns of bytes --------------------------------
def _table() -> np.ndarray:
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> 1) ^ np.uint32(0x82F63B78), t >> 1).astype(np.uint32)
    return t


_TABLE = _table()


_LOW = 0 if sys.byteorder == "little" else 3  # the low byte of a uint32 in memory


def _feed(columns: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Feed N messages at once: ``columns[j]`` holds byte j of each; ``reg`` their registers."""
    t = _TABLE
    for col in columns:
        # The register's low byte read in place as uint8: 5x faster than masking it out.
        reg = t.take(np.ascontiguousarray(reg).view(np.uint8)[_LOW::4] ^ col) ^ (reg >> 8)
    return reg


def _mask(crc: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps, as TFRecord's does
        return ((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)


def masked_crc_columns(columns: np.ndarray) -> np.ndarray:
    """The masked CRC32C of N messages of one length, given as ``columns`` (length x N)."""
    reg = np.full(columns.shape[1], 0xFFFFFFFF, np.uint32)
    return _mask(_feed(columns, reg) ^ np.uint32(0xFFFFFFFF))


@cache
def _shift_tables() -> list[list[int]]:
    """What ``_BLOCK`` zero bytes do to each byte of a register (the CRC is linear)."""
    regs = (np.arange(256, dtype=np.uint32)[None, :] << (8 * np.arange(4, dtype=np.uint32))[:, None]).ravel()
    return _feed(np.zeros((_BLOCK, regs.size), np.uint8), regs).reshape(4, 256).tolist()


def masked_crc(data: bytes | memoryview) -> int:
    """The masked CRC32C of one message. A long one is cut into blocks whose CRCs are computed
    together and combined; the initial register is folded into the first 4 bytes (equivalent
    for a reflected CRC) and zero bytes padded in front leave a zero register unchanged."""
    b = np.frombuffer(data, np.uint8)
    if b.size < _BLOCK:
        return int(masked_crc_columns(b[:, None])[0])
    head = b.copy()
    head[:4] ^= 0xFF
    blocks = np.concatenate([np.zeros(-b.size % _BLOCK, np.uint8), head]).reshape(-1, _BLOCK)
    z0, z1, z2, z3 = _shift_tables()
    acc = 0
    for r in _feed(np.ascontiguousarray(blocks.T), np.zeros(len(blocks), np.uint32)).tolist():
        acc = z0[acc & 255] ^ z1[(acc >> 8) & 255] ^ z2[(acc >> 16) & 255] ^ z3[acc >> 24] ^ r
    return int(_mask(np.uint32(acc ^ 0xFFFFFFFF)))


# --- framing ---------------------------------------------------------------------------------
def _lengths_at(arr: np.ndarray, headers: np.ndarray) -> np.ndarray:
    return arr[headers[:, None] + np.arange(8)].view("<u8").ravel()


def _frame(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Header offsets and lengths of the whole records in ``arr``, and where they end."""
    buf, n = arr.data, arr.size
    heads: list[np.ndarray] = []
    lens: list[np.ndarray] = []
    one_h: list[int] = []  # records found one at a time, since the last gallop
    one_l: list[int] = []
    pos = 0
    while pos + HEADER <= n:
        length = _U64.unpack_from(buf, pos)[0]
        if pos + length + HEADER + FOOTER > n:
            break
        one_h.append(pos)
        one_l.append(length)
        pos += length + HEADER + FOOTER
        if len(one_l) % 16 == 0:
            heads.append(np.array(one_h, np.int64))
            lens.append(np.array(one_l, np.int64))
            pos = _gallop(arr, pos, one_l[-16:], heads, lens)
            one_h, one_l = [], []
    heads.append(np.array(one_h, np.int64))
    lens.append(np.array(one_l, np.int64))
    return np.concatenate(heads), np.concatenate(lens), pos


def _gallop(arr: np.ndarray, pos: int, recent: list[int], heads: list[np.ndarray],
            lens: list[np.ndarray]) -> int:
    """Accept the records that repeat the period of ``recent`` from ``pos`` on, checked in
    windows growing fourfold; returns the position after the last one accepted."""
    period = next((p for p in range(1, 9) if recent[-p:] == recent[-2 * p:-p]), 0)
    if not period:
        return pos
    pattern = np.array(recent[-period:], np.int64)
    sizes = pattern + HEADER + FOOTER
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    stride = int(sizes.sum())
    window = 64
    while True:
        blocks = min(window, (arr.size - pos) // stride)
        if blocks == 0:
            return pos
        cand = (pos + stride * np.arange(blocks)[:, None] + offsets).ravel()
        same = _lengths_at(arr, cand) == np.tile(pattern, blocks).astype(np.uint64)
        k = int(same.size if same.all() else np.argmin(same))
        heads.append(cand[:k].astype(np.int64))
        lens.append(np.tile(pattern, blocks)[:k])
        if k < same.size:
            return int(cand[k])
        pos += blocks * stride
        window = min(window * 4, 1 << 16)


# --- protobuf wire format --------------------------------------------------------------------
def _varint(b: bytes, p: int) -> tuple[int, int]:
    x = b[p]
    if x < 0x80:
        return x, p + 1
    result, shift = x & 0x7F, 7
    while True:
        p += 1
        x = b[p]
        result |= (x & 0x7F) << shift
        if x < 0x80:
            return result, p + 1
        shift += 7


def _fields(b: bytes, p: int, end: int):  # type: ignore[no-untyped-def]
    """(field number, varint value or None, start, end of the payload) of one message."""
    while p < end:
        key, p = _varint(b, p)
        wire = key & 7
        if wire == 0:
            start = p
            value, p = _varint(b, p)
            yield key >> 3, value, start, p
            continue
        if wire == 1:
            size = 8
        elif wire == 5:
            size = 4
        elif wire == 2:
            size, p = _varint(b, p)
        else:
            raise Malformed(f"wire type {wire}")
        if p + size > end:
            raise Malformed("field past the end of its message")
        yield key >> 3, None, p, p + size
        p += size
    if p != end:
        raise Malformed("varint past the end of its message")


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


# TensorProto dtypes read as scalars, and how their single value is stored in tensor_content
# (the *_val fields are decoded below).
_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64, _DT_HALF, _DT_STRING = 1, 2, 3, 9, 19, 7
_CONTENT = {_DT_FLOAT: "<f4", _DT_DOUBLE: "<f8", _DT_INT32: "<i4", _DT_INT64: "<i8", _DT_HALF: "<f2"}


@dataclass
class _Value:
    """One ``Summary.Value``: a scalar candidate, an image, or the hparams of a session."""

    tag: str = ""
    plugin: str = ""
    scalar: float | None = None
    tensor: bool = False  # the scalar came from a tensor: a scalar only if the tag's plugin says so
    at: int | None = None  # where its bytes are in the record, and their format (for shapes)
    fmt: str = ""
    images: list[bytes] = field(default_factory=list)
    hparams: dict[str, str] | None = None


def _tensor(b: bytes, s: int, e: int, v: _Value) -> None:
    dtype, dims, strings, first_int = 0, 0, [], None
    content = floats = None
    for num, val, a, z in _fields(b, s, e):
        if num == 1:
            dtype = val or 0
        elif num == 2:  # tensor_shape: repeated dim = 2
            dims = sum(1 for f in _fields(b, a, z) if f[0] == 2)
        elif num == 4:
            content = (a, z, _CONTENT.get(dtype, ""))
        elif num in (5, 6) and val is None:  # float_val / double_val, packed or not
            floats = (a, z, "<f4" if num == 5 else "<f8")
        elif num in (7, 10, 13) and first_int is None:  # int_val, int64_val, half_val: varints
            first_int = val if val is not None else next((x for _, x in _varints(b, a, z)), None)
            if first_int is not None:
                first_int = _half(first_int) if num == 13 else float(_signed(first_int))
        elif num == 8:
            strings.append(bytes(b[a:z]))
    if dtype == _DT_STRING:
        v.images = strings[2:]  # the images plugin: width, height, then the encoded images
        return
    if dims:
        return  # not a scalar
    v.tensor = True
    for span in (content, floats):
        if span is not None and span[2] and span[1] - span[0] == np.dtype(span[2]).itemsize:
            v.scalar = float(np.frombuffer(b, span[2], 1, span[0])[0])
            if span[2] in ("<f4", "<f8"):  # integers and halves are rare: parsed one by one
                v.at, v.fmt = span[0], span[2]
            return
    v.scalar = first_int


def _half(bits: int) -> float:
    return float(np.array([bits], np.uint16).view("<f2")[0])


def _varints(b: bytes, p: int, end: int):  # type: ignore[no-untyped-def]
    while p < end:
        start = p
        value, p = _varint(b, p)
        yield start, value


def _hparams(b: bytes, s: int, e: int) -> dict[str, str]:
    """``HParamsPluginData.session_start_info.hparams`` (a map of google.protobuf.Value)."""
    out: dict[str, str] = {}
    for num, _, a, z in _fields(b, s, e):
        if num != 3:  # session_start_info
            continue
        for n2, _, a2, z2 in _fields(b, a, z):
            if n2 != 1:
                continue
            key, text = "", ""
            for n3, _, a3, z3 in _fields(b, a2, z2):
                if n3 == 1:
                    key = bytes(b[a3:z3]).decode("utf-8", "replace")
                elif n3 == 2:
                    text = _pb_value(b, a3, z3)
            out[key] = text
    return out


def _pb_value(b: bytes, s: int, e: int) -> str:
    text = ""
    for num, val, a, z in _fields(b, s, e):
        if num == 2:  # number_value: a float for every number (an int 32 reads 32.0)
            x = _F64.unpack_from(b, a)[0]
            text = str(int(x)) if x.is_integer() and abs(x) < 2**53 else repr(x)
        elif num == 3:
            text = bytes(b[a:z]).decode("utf-8", "replace")
        elif num == 4:
            text = str(bool(val))
    return text


def _summary_value(b: bytes, s: int, e: int) -> _Value:
    v = _Value()
    content = None
    for num, _, a, z in _fields(b, s, e):
        if num == 1:
            v.tag = bytes(b[a:z]).decode("utf-8", "replace")
        elif num == 2:
            v.scalar, v.at, v.fmt = _F32.unpack_from(b, a)[0], a, "<f4"
        elif num == 4:  # Summary.Image: height, width, colorspace, encoded_image_string
            v.images = [bytes(b[a4:z4]) for n4, _, a4, z4 in _fields(b, a, z) if n4 == 4]
        elif num == 8:
            _tensor(b, a, z, v)
        elif num == 9:  # metadata.plugin_data {plugin_name, content}
            for n2, _, a2, z2 in _fields(b, a, z):
                if n2 == 1:
                    for n3, _, a3, z3 in _fields(b, a2, z2):
                        if n3 == 1:
                            v.plugin = bytes(b[a3:z3]).decode("utf-8", "replace")
                        elif n3 == 2:
                            content = (a3, z3)
    if v.plugin == "hparams" and content is not None:
        v.hparams = _hparams(b, *content) or None
    return v


@dataclass
class _Event:
    wall: float = 0.0
    wall_at: int | None = None
    step: int = 0
    step_span: tuple[int, int] | None = None
    values: list[_Value] = field(default_factory=list)


def _event(b: bytes, s: int, e: int) -> _Event:
    ev = _Event()
    for num, val, a, z in _fields(b, s, e):
        if num == 1:
            ev.wall, ev.wall_at = _F64.unpack_from(b, a)[0], a
        elif num == 2:
            ev.step, ev.step_span = _signed(val or 0), (a, z)
        elif num == 5:
            ev.values.extend(_summary_value(b, a2, z2) for n2, _, a2, z2 in _fields(b, a, z) if n2 == 1)
    return ev


# --- reading a run of records ----------------------------------------------------------------
@dataclass
class Events:
    """What the whole records at the start of a buffer hold, in the order they were written."""

    end: int = 0  # bytes consumed: whole records (read on from here next time)
    corrupt: bool = False  # a length failed its checksum at ``end``: nothing after it can be read
    bad_records: int = 0  # records dropped for a bad data checksum (those after them are read)
    bad_at: int | None = None  # offset in the buffer of the first bad checksum
    next_length: int | None = None  # the record going on past the buffer (its header is intact)
    first_wall: float | None = None
    last_wall: float | None = None
    scalars: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    hparams: dict[str, str] = field(default_factory=dict)
    images: list[tuple[str, int, bytes]] = field(default_factory=list)


class _Collect:
    """Per-record results, gathered out of order (by length) and put back in record order."""

    def __init__(self, count: int) -> None:
        self.walls = np.full(count, np.nan)
        self.series: dict[tuple[str, bool], list[tuple[np.ndarray, ...]]] = {}
        self.plugins: dict[str, str] = {}
        self.extras: list[tuple[int, _Event]] = []

    def add(self, tag: str, tensor: bool, idx: np.ndarray, steps: np.ndarray, values: np.ndarray,
            walls: np.ndarray) -> None:
        self.series.setdefault((tag, tensor), []).append((idx, steps, values, walls))

    def event(self, i: int, ev: _Event) -> None:
        self.walls[i] = ev.wall
        for v in ev.values:
            if v.plugin:
                self.plugins[v.tag] = v.plugin
            if v.scalar is not None and v.tag:
                self.add(v.tag, v.tensor, np.array([i]), np.array([ev.step]), np.array([v.scalar]),
                         np.array([ev.wall]))
        if any(v.images or v.hparams for v in ev.values):
            self.extras.append((i, ev))


def read_events(data: bytes, plugins: dict[str, str]) -> Events:
    """Decode the whole, intact records at the start of ``data``. ``plugins`` (tag -> plugin
    name, kept per run across calls: TF2 writes a tag's metadata with its first value only) is
    updated."""
    arr = np.frombuffer(data, np.uint8)
    heads, lens, end = _frame(arr)
    out = Events(end=end)
    bad_len = _bad_length_crc(arr, heads, lens)
    if bad_len is not None:  # no framing after it: the rest of the file cannot be read
        out.corrupt, out.end = True, int(heads[bad_len])
        heads, lens = heads[:bad_len], lens[:bad_len]
    elif end + HEADER <= arr.size:  # a header whose record goes on past the buffer
        if masked_crc(data[end:end + 8]) == _U32.unpack_from(data, end + 8)[0]:
            out.next_length = _U64.unpack_from(data, end)[0]  # being written: wait for it
        else:
            out.corrupt = True
    if out.corrupt:
        out.bad_at = out.end
    collect = _Collect(heads.size)
    good = np.ones(heads.size, bool)
    for length in np.unique(lens).tolist():
        idx = np.flatnonzero(lens == length)
        good[idx] = _read_length(data, arr, heads[idx] + HEADER, length, idx, collect)
    if not good.all():
        out.bad_records = int((~good).sum())
        out.bad_at = int(heads[np.argmin(good)])  # before any bad length: framing stopped there
    _finish(collect, plugins, out)
    return out


def _bad_length_crc(arr: np.ndarray, heads: np.ndarray, lens: np.ndarray) -> int | None:
    """Index of the first record whose length field fails its checksum, or None."""
    if heads.size == 0:
        return None
    stored = arr[(heads + 8)[:, None] + np.arange(4)].view("<u4").ravel()
    expected = np.empty(heads.size, np.uint32)
    for length in np.unique(lens).tolist():
        expected[lens == length] = masked_crc(_U64.pack(length))
    bad = stored != expected
    return int(np.argmax(bad)) if bad.any() else None


def _read_length(data: bytes, arr: np.ndarray, starts: np.ndarray, length: int, idx: np.ndarray,
                 collect: _Collect) -> np.ndarray:
    """Check and decode the records of one length; which of them had an intact checksum."""
    stored = arr[(starts + length)[:, None] + np.arange(4)].view("<u4").ravel()
    if length > _SHORT:
        ok = np.array([masked_crc(data[s:s + length]) for s in starts.tolist()], np.uint32) == stored
        for i, s in zip(idx[ok].tolist(), starts[ok].tolist()):
            _one(data, s, length, i, collect)
        return ok
    cols = np.empty((length, starts.size), np.uint8)
    for j in range(length):
        cols[j] = arr[starts + j]
    ok = masked_crc_columns(cols) == stored
    rest = np.flatnonzero(ok)
    for _ in range(_MAX_SHAPES):
        if rest.size == 0:
            return ok
        s = int(starts[rest[0]])
        ev = _one(data, s, length, int(idx[rest[0]]), collect)
        same = _same_shape(ev, s, cols, rest)
        if same is None:
            rest = rest[1:]
            continue
        _decode_shape(ev, s, cols, rest[same][1:], idx, collect)  # type: ignore[arg-type]
        rest = rest[~same]
    for i in rest.tolist():
        _one(data, int(starts[i]), length, int(idx[i]), collect)
    return ok


def _one(data: bytes, start: int, length: int, i: int, collect: _Collect) -> _Event | None:
    try:
        ev = _event(data, start, start + length)
    except (Malformed, IndexError, struct.error):
        return None  # intact checksum but not an Event: nothing TensorBoard would show either
    collect.event(i, ev)
    return ev


def _spans(ev: _Event, start: int) -> list[tuple[int, int]] | None:
    """Where a plain scalar event varies (wall time, step, value), relative to the record."""
    if ev is None or len(ev.values) != 1:
        return None
    v = ev.values[0]
    if v.at is None or not v.tag or v.images or v.hparams:
        return None
    spans = [(v.at - start, v.at - start + np.dtype(v.fmt).itemsize)]
    if ev.wall_at is not None:
        spans.append((ev.wall_at - start, ev.wall_at - start + 8))
    if ev.step_span is not None:
        spans.append((ev.step_span[0] - start, ev.step_span[1] - start))
    return spans


def _same_shape(ev: _Event | None, start: int, cols: np.ndarray, rest: np.ndarray) -> np.ndarray | None:
    """Which records ``rest`` (columns of ``cols``) have the shape of ``ev`` (the first of them):
    equal bytes outside its spans and a step varint of the same length."""
    spans = _spans(ev, start) if ev is not None else None
    if spans is None:
        return None
    fixed = np.ones(cols.shape[0], bool)
    for a, z in spans:
        fixed[a:z] = False
    def pick(rows: np.ndarray) -> np.ndarray:
        return rows if rest.size == rows.shape[-1] else rows[..., rest]

    sub = pick(cols[fixed])
    same = (sub == sub[:, :1]).all(axis=0)
    if ev.step_span is not None:  # type: ignore[union-attr]
        a, z = ev.step_span[0] - start, ev.step_span[1] - start  # type: ignore[union-attr]
        same &= (pick(cols[a:z - 1]) >= 0x80).all(axis=0) & (pick(cols[z - 1]) < 0x80)
    return same


def _decode_shape(ev: _Event, start: int, cols: np.ndarray, sel: np.ndarray, idx: np.ndarray,
                  collect: _Collect) -> None:
    """The wall times, steps and values of records ``sel`` (columns of ``cols``) of ``ev``'s
    shape, as arrays."""
    if sel.size == 0:
        return
    v = ev.values[0]

    def read(at: int, width: int) -> np.ndarray:
        return np.ascontiguousarray(cols[at - start:at - start + width][:, sel].T)

    values = read(v.at, np.dtype(v.fmt).itemsize).view(v.fmt).ravel().astype(np.float64)  # type: ignore[arg-type]
    walls = read(ev.wall_at, 8).view("<f8").ravel() if ev.wall_at is not None else np.zeros(sel.size)
    steps = np.zeros(sel.size, np.uint64)
    if ev.step_span is not None:
        for k, row in enumerate(cols[ev.step_span[0] - start:ev.step_span[1] - start]):
            steps |= (row[sel] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
    collect.walls[idx[sel]] = walls
    collect.add(v.tag, v.tensor, idx[sel], steps.view(np.int64), values, walls)


def _finish(collect: _Collect, plugins: dict[str, str], out: Events) -> None:
    plugins.update(collect.plugins)
    seen = np.flatnonzero(~np.isnan(collect.walls))
    if seen.size:
        out.first_wall, out.last_wall = float(collect.walls[seen[0]]), float(collect.walls[seen[-1]])
    merged: dict[str, list[tuple[np.ndarray, ...]]] = {}
    for (tag, tensor), parts in collect.series.items():
        if not tensor or plugins.get(tag) == "scalars":
            merged.setdefault(tag, []).extend(parts)
    for tag, parts in merged.items():
        idx, steps, values, walls = (np.concatenate(x) for x in zip(*parts))
        order = np.argsort(idx, kind="stable")
        out.scalars[tag] = (steps[order].astype(np.int64), values[order].astype(np.float64),
                            np.rint(walls[order] * 1000.0).astype(np.int64))
    for _, ev in sorted(collect.extras, key=lambda x: x[0]):
        for v in ev.values:
            if v.hparams:
                out.hparams.update(v.hparams)
            out.images.extend((v.tag, ev.step, img) for img in v.images)
