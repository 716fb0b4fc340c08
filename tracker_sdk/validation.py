"""Checks made at the call, so a mistake raises in the user's line, not in the writer thread."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from tracker_sdk.errors import ValidationError
from tracker_sdk.limits import (
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
)


#: Steps are stored as 64-bit integers.
STEP_MIN, STEP_MAX = -(2**63), 2**63 - 1
#: The smallest int that ``float()`` refuses (it would round up to 2**1024).
INT_FLOAT_LIMIT = 2**1024 - 2**970


def check_text(text: str, what: str) -> str:
    """Refuse text SQLite cannot store: lone surrogates (e.g. undecodable bytes of a file name)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{what} {text[:40]!r} is not valid UTF-8 text (it has a lone surrogate);"
                              " decode it with errors='replace' first") from None
    return text


def check_key(key: Any, what: str = "metric") -> str:
    if not isinstance(key, str):
        raise ValidationError(f"{what} keys must be strings, got {type(key).__name__} {key!r}")
    if not key or key != key.strip():
        raise ValidationError(f"{what} key {key!r} is empty or has surrounding spaces")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"{what} key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY_LENGTH}")
    if key.startswith("/") or "//" in key or ".." in key.split("/"):
        raise ValidationError(f"{what} key {key!r} has an empty or '..' path segment; use names like 'train/loss'")
    return check_text(key, f"{what} key")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"a name must be non-empty text, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"name is {len(name)} characters; the limit is {MAX_NAME_LENGTH}")
    return check_text(name.strip(), "name")


def metric_value(key: str, value: Any) -> Any:
    """The float stored for a logged value: Python/NumPy numbers and 0-d arrays or tensors,
    converted now (a tensor may change or go away before the writer runs).

    Except a scalar tensor on an accelerator: ``float()`` would wait for the GPU inside the
    training loop's ``log()``. It goes to the writer as it is, converted there (a value that
    fails then is dropped alone, with a warning: see ``Writer``).
    """
    if not isinstance(value, numbers.Real):  # int, float, bool, NumPy scalars pass
        if _on_accelerator(value) and getattr(value, "ndim", None) == 0:
            return value
        if getattr(value, "ndim", None) == 0 or getattr(value, "shape", None) == ():
            kind = getattr(getattr(value, "dtype", None), "kind", None)  # NumPy's; tensors have none
            if kind is not None and kind not in ("b", "i", "u", "f"):
                raise ValidationError(f"metric {key!r} got a 0-d array of dtype {value.dtype};"
                                      " log a real number")
        elif hasattr(value, "shape"):
            raise ValidationError(
                f"metric {key!r} got an array of shape {tuple(value.shape)}; log one number per key"
                " (e.g. value.mean().item()), or an image with run.log_image")
        else:
            raise ValidationError(
                f"metric {key!r} must be a number, got {type(value).__name__} {str(value)[:40]!r};"
                " use log_text/log_dict for other values")
    try:
        return float(value)
    except Exception as e:
        if isinstance(value, int):
            raise ValidationError(f"metric {key!r} is an int too large for a float ({value.bit_length()} bits);"
                                  " the largest storable number is about 1.8e308") from None
        reason = (str(e).splitlines() or [""])[0][:80]
        raise ValidationError(f"metric {key!r} cannot be converted to a float ({type(e).__name__}: {reason});"
                              " log a plain number, e.g. value.item()") from None


def _on_accelerator(value: Any) -> bool:
    """A PyTorch/JAX-style tensor whose ``device`` is not the CPU."""
    device = getattr(value, "device", None)
    kind = getattr(device, "type", None)  # torch.device.type: "cuda", "mps", "cpu"
    return kind is not None and kind != "cpu"


def check_step(step: Any) -> int:
    """A step as the int stored (64-bit)."""
    try:
        as_int = int(step)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"step must be a whole number, got {type(step).__name__} {step!r}") from None
    if as_int != step:
        raise ValidationError(f"step must be a whole number, got {step!r}")
    if not STEP_MIN <= as_int <= STEP_MAX:
        raise ValidationError(f"step must be between -2**63 and 2**63-1 (a 64-bit integer), got {as_int}")
    return as_int


def param_value(key: str, value: Any) -> str:
    text = value if isinstance(value, str) else _render(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise ValidationError(f"param {key!r} value is {len(text)} characters; the limit is {MAX_PARAM_VALUE_LENGTH}")
    return check_text(text, f"param {key!r} value")


def _render(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return repr(value)  # keep "1.0" distinct from "1"
    return str(value)


def flatten(config: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """{"model": {"depth": 4}} -> {"model.depth": 4}; the store keeps flat, dotted keys.

    A key given twice that way ({"a": {"b": 1}, "a.b": 2}) is refused: one value would be lost.
    """
    out = {} if out is None else out
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            flatten(v, key + ".", out)
        elif key in out:
            raise ValidationError(f"param {key!r} is given twice (nested and as a dotted key); keep one")
        else:
            out[key] = v
    return out


def check_params(params: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(params, Mapping):
        raise ValidationError(f"params must be a dict, got {type(params).__name__}")
    return {check_key(str(k) if not isinstance(k, str) else k, "param"): param_value(k, v)
            for k, v in flatten(params).items()}


def check_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict, got {type(tags).__name__}")
    out = {}
    for k, v in tags.items():
        check_key(k, "tag")
        text = "" if v is None else str(v)
        if len(text) > MAX_TAG_VALUE_LENGTH:
            raise ValidationError(f"tag {k!r} value is {len(text)} characters; the limit is {MAX_TAG_VALUE_LENGTH}")
        out[k] = check_text(text, f"tag {k!r} value")
    return out
