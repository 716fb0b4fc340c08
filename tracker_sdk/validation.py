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


def check_key(key: Any, what: str = "metric") -> str:
    if not isinstance(key, str):
        raise ValidationError(f"{what} keys must be strings, got {type(key).__name__} {key!r}")
    if not key or key != key.strip():
        raise ValidationError(f"{what} key {key!r} is empty or has surrounding spaces")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"{what} key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY_LENGTH}")
    if key.startswith("/") or "//" in key or ".." in key.split("/"):
        raise ValidationError(f"{what} key {key!r} has an empty or '..' path segment; use names like 'train/loss'")
    return key


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"a name must be non-empty text, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"name is {len(name)} characters; the limit is {MAX_NAME_LENGTH}")
    return name.strip()


def check_metric_value(key: str, value: Any) -> None:
    """Accept Python/NumPy numbers and 0-d tensors; reject the rest with the fix."""
    if isinstance(value, numbers.Real):  # int, float, bool, numpy scalars
        return
    if getattr(value, "ndim", None) == 0 or getattr(value, "shape", None) == ():
        return  # a 0-d array or tensor: converted with float() by the writer
    if hasattr(value, "shape"):
        raise ValidationError(
            f"metric {key!r} got an array of shape {tuple(value.shape)}; log one number per key"
            " (e.g. value.mean().item()), or an image with run.log_image")
    raise ValidationError(
        f"metric {key!r} must be a number, got {type(value).__name__} {str(value)[:40]!r};"
        " use log_text/log_dict for other values")


def param_value(key: str, value: Any) -> str:
    text = value if isinstance(value, str) else _render(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise ValidationError(f"param {key!r} value is {len(text)} characters; the limit is {MAX_PARAM_VALUE_LENGTH}")
    return text


def _render(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return repr(value)  # keep "1.0" distinct from "1"
    return str(value)


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"model": {"depth": 4}} -> {"model.depth": 4}; the store keeps flat, dotted keys."""
    out: dict[str, Any] = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
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
        out[k] = text
    return out
