"""Run colours: stable, distinct, readable on both themes."""

import os
import re
import subprocess
import sys

import pytest

from app.core.colors import (
    DARK_BG,
    LIGHT_BG,
    PALETTE,
    contrast_ratio,
    palette_for,
    run_color,
)

HEX = re.compile(r"^#[0-9a-f]{6}$")


def test_contrast_ratio_known_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)


def test_palette_readable_on_both_backgrounds_and_distinct():
    assert 10 <= len(PALETTE) <= 20
    assert len(set(PALETTE)) == len(PALETTE)
    for c in PALETTE:
        assert HEX.match(c)
        assert contrast_ratio(c, LIGHT_BG) >= 3.0, c
        assert contrast_ratio(c, DARK_BG) >= 3.0, c


def test_generated_colours_readable():
    colors = palette_for(f"run-{i}" for i in range(300))
    for c in colors.values():
        assert HEX.match(c)
        assert contrast_ratio(c, LIGHT_BG) >= 3.0, c
        assert contrast_ratio(c, DARK_BG) >= 3.0, c


def test_palette_for_assigns_in_order_then_hashes():
    ids = [f"r{i}" for i in range(len(PALETTE) + 5)]
    colors = palette_for(ids)
    assert [colors[i] for i in ids[: len(PALETTE)]] == list(PALETTE)
    extra = [colors[i] for i in ids[len(PALETTE) :]]
    assert len(set(extra)) == len(extra)
    assert extra == [run_color(i, len(PALETTE) + k) for k, i in enumerate(ids[len(PALETTE) :])]
    assert palette_for(["a", "b", "a"]) == {"a": PALETTE[0], "b": PALETTE[1]}
    assert palette_for([]) == {}


def test_run_color_by_index_and_by_hash():
    assert run_color("x", 0) == PALETTE[0]
    assert run_color("x", 3) == PALETTE[3]
    assert run_color("abc") in PALETTE
    assert run_color("abc") == run_color("abc")
    # Hashing spreads runs over the palette.
    assert len({run_color(f"run-{i}") for i in range(200)}) == len(PALETTE)


def test_colour_stable_across_processes():
    # str hashes are salted per process; the run colour must not be.
    code = "from app.core.colors import run_color as c; print(c('run-42'), c('run-42', 99))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
    assert outs.pop().split() == [run_color("run-42"), run_color("run-42", 99)]
