"""Readable default run names, like MLflow's ("bright-owl-42")."""

from __future__ import annotations

import random

_ADJ = ("amber", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fancy", "gentle",
        "glad", "golden", "happy", "jolly", "keen", "lively", "lucky", "mellow", "merry", "nimble",
        "proud", "quick", "quiet", "rapid", "shiny", "silent", "smooth", "snowy", "sunny", "swift",
        "tidy", "vivid", "warm", "wild", "wise", "zesty")
_NOUN = ("ant", "bat", "bear", "bee", "crane", "deer", "dove", "eagle", "elk", "fox", "frog", "goat",
         "hare", "hawk", "heron", "ibis", "koala", "lark", "lion", "lynx", "mole", "moth", "newt",
         "otter", "owl", "panda", "puma", "quail", "raven", "seal", "shark", "sloth", "swan", "tiger",
         "toad", "wolf", "wren", "yak", "zebra")


def random_name(rng: random.Random | None = None) -> str:
    r = rng or random
    return f"{r.choice(_ADJ)}-{r.choice(_NOUN)}-{r.randint(1, 99)}"
