"""Synthetic but believable training data for ``runwatch demo``: pure NumPy, no SDK, no I/O.

The curves follow the shape of real image-classifier training so that the app's features have
something worth showing: smoothing needs noise, extreme-keeping decimation needs spikes, the
compare views need hyperparameters that matter, and a NaN run exercises the failure paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DATASET = "cifar10-small"
#: Cross-entropy of a uniform guess over 10 classes: where every real run starts.
LOSS_AT_START = math.log(len(CLASSES))
#: The learning rate at which each optimizer does best; distance from it costs loss.
BEST_LR = {"adam": 3e-3, "sgd": 3e-2}


@dataclass
class Trial:
    """One point of the sweep: its hyperparameters and, once simulated, its curves."""

    index: int
    optimizer: str
    lr: float
    batch_size: int
    dropout: float
    seed: int
    depth: int
    width: int
    diverges: bool = False
    curves: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"trial-{self.index:02d}-{self.optimizer}-lr{self.lr:.0e}".replace("e-0", "e-")

    @property
    def config(self) -> dict:
        opt: dict = {"name": self.optimizer, "lr": float(f"{self.lr:.3g}"), "weight_decay": 5e-4}
        if self.optimizer == "sgd":
            opt["momentum"] = 0.9
        else:
            opt["betas"] = "0.9,0.999"
        return {"optimizer": opt,
                "model": {"arch": "resnet", "depth": self.depth, "width": self.width, "dropout": self.dropout},
                "data": {"dataset": DATASET, "batch_size": self.batch_size, "augment": True},
                "schedule": {"name": "cosine", "warmup_frac": 0.05},
                "seed": self.seed}

    @property
    def lr_ratio(self) -> float:
        return self.lr / BEST_LR[self.optimizer]


def make_trials(n: int, rng: np.random.Generator) -> list[Trial]:
    """A random-search-like sweep: log-spaced learning rates, alternating optimizers.

    Exactly one trial (the one furthest above its optimizer's best rate) diverges.
    """
    lrs = np.logspace(-4, -0.5, n) if n > 1 else np.array([3e-3])
    trials = [Trial(index=i + 1, optimizer="adam" if i % 2 == 0 else "sgd", lr=float(lrs[i]),
                    batch_size=int(rng.choice([32, 64, 128, 256])),
                    dropout=float(rng.choice([0.0, 0.1, 0.2, 0.3])), seed=1000 + i,
                    depth=int(rng.choice([18, 34])), width=int(rng.choice([32, 64, 128])))
              for i in range(n)]
    if n >= 3:  # a sweep of one or two trials has no room for a casualty
        max(trials, key=lambda t: t.lr_ratio).diverges = True
    return trials


def lr_schedule(base: float, steps: int, warmup_frac: float = 0.05) -> np.ndarray:
    """Linear warm-up, then cosine decay to 1% of the base rate (the common recipe)."""
    t = np.arange(steps, dtype=np.float64)
    warm = max(1, int(steps * warmup_frac))
    cos = 0.5 * (1 + np.cos(np.pi * np.clip(t - warm, 0, None) / max(1, steps - warm)))
    out = base * (0.01 + 0.99 * cos)
    out[:warm] = base * (t[:warm] + 1) / warm
    return out


def accuracy_from_loss(loss: np.ndarray) -> np.ndarray:
    """Accuracy that tracks cross-entropy: 10% at a uniform guess, saturating near 97%."""
    with np.errstate(invalid="ignore", over="ignore"):
        acc = 0.1 + 0.87 * (1 - np.exp(-1.6 * np.clip(LOSS_AT_START - loss, 0, None)))
    return np.where(np.isfinite(loss), acc, np.nan)


def simulate(trial: Trial, steps: int, val_every: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-step train/loss, train/acc, lr; val/loss and val/acc every ``val_every`` steps.

    Loss decays with the *integrated* learning rate (so the schedule shows in the curve), towards
    a floor that grows with the distance from the optimizer's best rate. High rates overfit
    (validation turns up late) and are noisier; small batches are noisier too.
    """
    r = trial.lr_ratio
    lr = lr_schedule(trial.lr, steps)
    progress = np.cumsum(lr) / lr.sum()
    speed = 7.0 * min(r, 4.0) ** 0.6
    floor = 0.10 + 0.10 * math.log10(r) ** 2 + 0.15 * trial.dropout + 20.0 / (trial.width * trial.depth)
    smooth = floor + (LOSS_AT_START - floor) * np.exp(-speed * progress)
    overfit = max(0.0, math.log10(r) + 0.3) * 0.5 + max(0.0, 0.2 - trial.dropout) * 0.6
    smooth = smooth * (1 - 0.35 * overfit * progress ** 2)  # training loss keeps sinking...
    sigma = 0.05 * math.sqrt(64 / trial.batch_size) * (1 + 0.3 * max(0.0, math.log10(r)))
    train = smooth * np.exp(rng.normal(0.0, sigma, steps))
    for pos in rng.integers(steps // 10, steps, size=rng.poisson(1.0 + 2 * max(0.0, math.log10(r)))):
        tail = np.arange(steps - pos)  # a bad batch: a jump that fades over a few dozen steps
        train[pos:] += smooth[pos] * rng.uniform(0.4, 1.5) * np.exp(-tail / rng.uniform(5, 25))
    vsteps = np.arange(val_every - 1, steps, val_every, dtype=np.int64)
    # ...while validation loss bottoms out and climbs back once the model starts to overfit.
    gap = 0.04 + 0.25 * overfit * np.clip(progress[vsteps] - 0.35, 0, None) ** 1.3 * 3
    val = (smooth[vsteps] / (1 - 0.35 * overfit * progress[vsteps] ** 2) + gap) * np.exp(
        rng.normal(0.0, 0.015, vsteps.size))
    end = steps
    if trial.diverges:  # loss explodes a while after warm-up: inf, then NaN, then the job dies
        start = int(steps * rng.uniform(0.25, 0.4))
        # Fast enough to blow past 1e6 well before the end, however short the run.
        tau = min(rng.uniform(12, 20), 0.3 * steps / 20)
        grow = np.exp((np.arange(steps - start)) / tau)
        train[start:] = train[start:] * grow
        with np.errstate(over="ignore", invalid="ignore"):
            blown = np.flatnonzero(train > 1e6)
        end = int(blown[0]) + 6 if blown.size else steps
        end = min(end, steps)
        train[blown[:1]] = np.inf
        train[blown[1:]] = np.nan
        val_i = vsteps >= start
        val[val_i] = val[val_i] * grow[np.clip(vsteps[val_i] - start, 0, None)]
        val[np.isin(vsteps, blown)] = np.nan
    p = np.nan_to_num(accuracy_from_loss(train), nan=0.1)
    acc = rng.binomial(trial.batch_size, np.clip(p, 0, 1)) / trial.batch_size  # one batch's hit rate
    acc = np.where(np.isfinite(train), acc, np.nan)
    keep = vsteps < end
    with np.errstate(invalid="ignore"):
        return {"steps": np.arange(end, dtype=np.int64), "train/loss": train[:end],
                "train/acc": np.clip(acc, 0.0, 1.0)[:end], "lr": lr[:end], "val_steps": vsteps[keep],
                "val/loss": val[keep], "val/acc": np.clip(accuracy_from_loss(val[keep]), 0, 1)}


def final(curves: dict[str, np.ndarray], key: str) -> float:
    values = curves[key]
    return float(values[-1]) if values.size else float("nan")


def predictions(accuracy: float, n: int, rng: np.random.Generator) -> list[tuple[int, str, str, float]]:
    """(index, label, predicted, confidence) rows whose hit rate is about ``accuracy``.

    Mistakes go mostly to a look-alike class (cat↔dog, automobile↔truck) as in real confusions.
    """
    lookalike = {0: 8, 1: 9, 2: 0, 3: 5, 4: 7, 5: 3, 6: 2, 7: 4, 8: 0, 9: 1}
    rows = []
    acc = accuracy if math.isfinite(accuracy) else 0.1
    for i in range(n):
        label = int(rng.integers(len(CLASSES)))
        hit = rng.random() < acc
        pred = label if hit else (lookalike[label] if rng.random() < 0.6 else int(rng.integers(len(CLASSES))))
        conf = rng.uniform(0.55, 0.99) if pred == label else rng.uniform(0.3, 0.8)
        rows.append((i, CLASSES[label], CLASSES[pred], round(float(conf), 4)))
    return rows


def confusion_matrix(rows: list[tuple[int, str, str, float]]) -> np.ndarray:
    index = {c: i for i, c in enumerate(CLASSES)}
    cm = np.zeros((len(CLASSES), len(CLASSES)), dtype=np.int64)
    for _, label, pred, _ in rows:
        cm[index[label], index[pred]] += 1
    return cm


# Anchor colours of a perceptual light-to-dark blue ramp (like matplotlib's "Blues").
_RAMP = np.array([[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]], float)


def confusion_image(cm: np.ndarray, cell: int = 24) -> np.ndarray:
    """An RGB uint8 picture of a row-normalised confusion matrix: one shaded square per cell,
    white grid lines, and a strip on the right giving each class's recall (green ↔ red).
    """
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros(cm.shape, float), where=rows > 0)
    pos = np.clip(frac, 0, 1) * (len(_RAMP) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_RAMP) - 2)
    t = (pos - lo)[..., None]
    rgb = _RAMP[lo] * (1 - t) + _RAMP[lo + 1] * t
    recall = np.diag(frac)[:, None, None]
    strip = np.concatenate([255 * (1 - recall), 200 * recall, 80 * np.ones_like(recall)], axis=2)
    gap = np.full((cm.shape[0], 1, 3), 255.0)
    rgb = np.concatenate([rgb, gap, strip], axis=1)
    img = np.repeat(np.repeat(rgb.astype(np.uint8), cell, axis=0), cell, axis=1)
    img[::cell, :, :] = 255  # grid lines between cells
    img[:, ::cell, :] = 255
    m = cell // 2  # a white margin, as a plotted figure has
    pad = np.full((img.shape[0] + 2 * m, img.shape[1] + 2 * m, 3), 255, dtype=np.uint8)
    pad[m: m + img.shape[0], m: m + img.shape[1]] = img
    return pad
