"""The personal ranker: the fused scorer's linear aggregation refitted to the user's own labels.

Stage: beside the flow. labels.db (frames' stored attributes + pairwise labels) -> new weights ->
`personal_ranker.json` beside the database -> the app scores with `FusedScorer(weights=...)`,
the same kind of object as the shipped ranker (same attribute names, personal weights). Pure
numpy, no torch, no re-scoring (the attributes were stored when the bursts were kept); any thread.

Fit: pairwise logistic regression on attribute differences (as viewfinder/training/fuse.py),
    P(a better than b) = sigmoid(v . (z_a - z_b)),   z = (x - mean) / scale,
with the L2 penalty pulling v towards the shipped weights, so a few labels nudge the shipped
ranker rather than replace it. A part of the labelled bursts (30 %) is held out: pairwise and
top-1 accuracy of the shipped and the personal weights are measured there; when either got
worse the personal ranker is not written and not switched on, and the result says so. When it
passes, the weights saved are refitted on all labels.

Without models/fused.json the "shipped" ranker is whatever scored the bursts (their stored
values), and the personal ranker starts from zero weights over the attributes the fused scorer
computes (faces + sharpness) that every labelled frame has.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from viewfinder.labels import LabelsError, LabelStore, _write_atomic, default_data_dir, latest_pairs
from viewfinder.metrics import BurstLabels, evaluate_burst

PERSONAL_FILE = "personal_ranker.json"
HOLDOUT = 0.3
L2 = 1.0
MIN_PAIRS = 10  # non-equal labelled pairs needed before a fit is worth trying
# attributes the fused scorer computes without the ranker (viewfinder/scoring/fused.py)
FUSED_INPUTS = ("face", "face_size", "centring", "eyes_open", "smile", "frontal", "face_sharpness",
                "sharpness")


@dataclass(frozen=True)
class LinearRanker:
    """value = weights . (x - mean) / scale over named attributes: one fused.json weight set."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. ranker, ranker_sha256

    def z(self, attrs: Sequence[Mapping[str, float]]) -> np.ndarray:
        x = np.array([[a[f] for f in self.features] for a in attrs], np.float64)
        return (x - self.mean) / self.scale  # (n, k)

    def values(self, attrs: Sequence[Mapping[str, float]]) -> np.ndarray:
        return self.z(attrs) @ self.weights

    def weight_set(self, name: str) -> dict:
        return {"name": name, **self.extra, "features": list(self.features),
                "mean": [round(float(v), 6) for v in self.mean],
                "scale": [round(float(v), 6) for v in self.scale],
                "weights": [round(float(v), 6) for v in self.weights]}


def shipped_ranker(weights: Path | None = None, models_dir: Path | None = None) -> LinearRanker | None:
    """The weight set the shipped fused scorer uses (the first usable one, as FusedScorer picks
    it), or None when there is no models/fused.json."""
    from viewfinder.scoring import MODELS_DIR  # noqa: PLC0415
    from viewfinder.scoring.fused import WEIGHTS_FILE, file_sha256, load_weights  # noqa: PLC0415

    models_dir = Path(models_dir) if models_dir is not None else MODELS_DIR
    weights = Path(weights) if weights is not None else models_dir / WEIGHTS_FILE
    if not weights.is_file():
        return None
    for s in load_weights(weights):
        extra = {}
        if s.get("ranker"):
            path = models_dir / s["ranker"]
            if not path.is_file() or file_sha256(path) != s.get("ranker_sha256"):
                continue
            extra = {"ranker": s["ranker"], "ranker_sha256": s["ranker_sha256"]}
        return LinearRanker(tuple(s["features"]), np.array(s["mean"], np.float64),
                            np.array(s["scale"], np.float64), np.array(s["weights"], np.float64),
                            extra)
    return None


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class LabelledBurst:
    uid: str
    attrs: tuple[Mapping[str, float], ...]  # the kept frames, capture order
    stored: np.ndarray  # (n,) the stored scorer values (NaN when unscored)
    pairs: tuple[tuple[int, int, int], ...]  # (a, b, label) as indices into attrs

    def labels(self) -> BurstLabels:
        return BurstLabels(self.uid, tuple(str(i) for i in range(len(self.attrs))), self.pairs)


def labelled_bursts(store: LabelStore, features: Sequence[str] | None) -> tuple[list[LabelledBurst], int]:
    """Bursts with at least one non-equal labelled pair among frames that have every feature
    (all frames' attributes when `features` is None), and the number of pairs dropped because a
    frame lacked a feature."""
    by_burst: dict[str, list] = {}
    for lab in latest_pairs(store.labels()):
        by_burst.setdefault(lab.burst, []).append(lab)
    out, dropped = [], 0
    for uid, labs in by_burst.items():
        b = store.burst(uid)
        index = {f.pos: i for i, f in enumerate(b.frames)}
        attrs = tuple(dict(f.attributes) for f in b.frames)
        ok = [features is None or all(k in a for k in features) for a in attrs]
        pairs = []
        for lab in labs:
            i, j = index[lab.a], index[lab.b]
            if ok[i] and ok[j]:
                pairs.append((i, j, lab.label))
            else:
                dropped += 1
        if any(p[2] > 0 for p in pairs):
            stored = np.array([np.nan if f.score is None else f.score for f in b.frames])
            out.append(LabelledBurst(uid, attrs, stored, tuple(pairs)))
    return out, dropped


# ---------------------------------------------------------------- fit


def fit_pairwise(d: np.ndarray, w: np.ndarray, v0: np.ndarray, l2: float = L2,
                 iters: int = 50) -> np.ndarray:
    """argmin_v sum_i w_i log(1 + exp(-v . d_i)) + l2/2 |v - v0|^2, by Newton's method.
    d: (N, k) attribute differences (better - worse), w: (N,) pair weights."""
    k = d.shape[1]
    v = v0.astype(np.float64).copy()

    def loss(v):
        return float(w @ np.logaddexp(0.0, -(d @ v)) + 0.5 * l2 * np.sum((v - v0) ** 2))

    f = loss(v)
    for _ in range(iters):
        m = d @ v  # (N,)
        p = 0.5 * (1.0 - np.tanh(0.5 * m))  # sigmoid(-m), overflow-free
        grad = -(d * (w * p)[:, None]).sum(axis=0) + l2 * (v - v0)
        hess = (d * (w * p * (1 - p))[:, None]).T @ d + l2 * np.eye(k)
        step = np.linalg.solve(hess, grad)
        t = 1.0  # backtracking: a full Newton step can overshoot far from the optimum
        while t > 1e-6 and loss(v - t * step) > f - 1e-4 * t * float(grad @ step):
            t *= 0.5
        v = v - t * step
        f = loss(v)
        if np.abs(t * step).max() < 1e-9:
            break
    return v


def _standardiser(bursts: Sequence[LabelledBurst], features: Sequence[str]):
    """Mean over frames; scale = std of the within-burst deviations (what pair differences see)."""
    xs = [np.array([[a[f] for f in features] for a in b.attrs], np.float64) for b in bursts]
    x = np.concatenate(xs)
    dev = np.concatenate([v - v.mean(axis=0) for v in xs])
    return x.mean(axis=0), np.maximum(dev.std(axis=0), 1e-3)


def fit_personal(bursts: Sequence[LabelledBurst], base: LinearRanker | None,
                 features: Sequence[str], l2: float = L2) -> LinearRanker:
    """The personal weights: the shipped set refitted on these bursts' pairs (label 2 counts
    twice label 1; equal pairs carry no order). Without a shipped set, from zero weights."""
    if base is not None:
        mean, scale, v0, extra = base.mean, base.scale, base.weights, base.extra
    else:
        mean, scale = _standardiser(bursts, features)
        v0, extra = np.zeros(len(features)), {}
    model = LinearRanker(tuple(features), mean, scale, v0, extra)
    d, w = [], []
    for b in bursts:
        z = model.z(b.attrs)
        for i, j, label in b.pairs:
            if label > 0:
                d.append(z[i] - z[j])
                w.append(float(label))
    d, w = np.array(d).reshape(-1, len(features)), np.array(w)
    w = w * len(w) / w.sum()  # l2 is relative to the mean pair weight
    return LinearRanker(tuple(features), mean, scale, fit_pairwise(d, w, v0, l2), extra)


def accuracy(bursts: Sequence[LabelledBurst], values_of) -> dict[str, float]:
    """Pooled pairwise accuracy and top-1 over bursts (the paper's metrics, viewfinder.metrics)."""
    results = [evaluate_burst(b.labels(), values_of(b)) for b in bursts]
    n = sum(r.n_pairs for r in results)
    return {"pairwise": sum(r.correct for r in results) / n if n else float("nan"),
            "top1": float(np.mean([r.hits[0] for r in results])) if results else float("nan"),
            "bursts": len(results), "pairs": n}


# ---------------------------------------------------------------- the whole step


@dataclass(frozen=True)
class PersonalResult:
    activated: bool
    message: str  # one line for the user: what was measured and what happened
    before: dict  # held-out pairwise / top1 of the shipped ranker
    after: dict  # held-out pairwise / top1 of the personal ranker (fitted without them)
    label_count: int  # labelled pairs used (latest label per pair)
    features: tuple[str, ...]
    dropped: int  # pairs left out because a frame lacked an attribute
    path: Path | None  # the personal weights written (None when refused)


def personal_path(data_dir: Path | None = None) -> Path:
    return (Path(data_dir) if data_dir is not None else default_data_dir()) / PERSONAL_FILE


def _pct(m: dict) -> str:
    return f"pairwise {m['pairwise']:.3f}, top-1 {m['top1']:.3f}"


def personalize(store: LabelStore, *, base_weights: Path | None = None,
                models_dir: Path | None = None, holdout: float = HOLDOUT, seed: int = 0,
                l2: float = L2, held_out: Sequence[str] | None = None,
                now: datetime | None = None) -> PersonalResult:
    """Fit the personal ranker from the store's labels, measure it on held-out bursts against
    the shipped ranker, and write + switch on the personal weights unless they got worse.
    `held_out`: the burst uids to measure on (default: a `holdout` fraction drawn with `seed`).
    Raises LabelsError when there are too few labels to try."""
    base = shipped_ranker(base_weights, models_dir)
    if base is not None:
        features = base.features
        bursts, dropped = labelled_bursts(store, features)
    else:
        bursts, dropped = labelled_bursts(store, None)
        have = [set(a) for b in bursts for a in b.attrs]
        features = tuple(f for f in FUSED_INPUTS if have and all(f in h for h in have))
        if bursts and not features:
            raise LabelsError("the labelled frames carry none of the attributes the fused scorer "
                              f"computes ({', '.join(FUSED_INPUTS)}): keep bursts scored by it")
    n_pairs = sum(1 for b in bursts for p in b.pairs if p[2] > 0)
    if len(bursts) < 2 or n_pairs < MIN_PAIRS:
        raise LabelsError(f"too few labels to personalise: {n_pairs} non-equal pairs in "
                          f"{len(bursts)} bursts; label at least {MIN_PAIRS} pairs in 2 bursts"
                          + (f" ({dropped} pairs lack attributes of the shipped ranker)"
                             if dropped else ""))
    if held_out is None:
        order = np.random.default_rng(seed).permutation(len(bursts))
        n_test = min(len(bursts) - 1, max(1, round(holdout * len(bursts))))
        held_out = {bursts[i].uid for i in order[:n_test]}
    test = [b for b in bursts if b.uid in held_out]
    train = [b for b in bursts if b.uid not in held_out]
    if not test or not train:
        raise LabelsError("the held-out bursts must leave labelled bursts on both sides")
    if base is not None:
        before = accuracy(test, lambda b: base.values(b.attrs))
    else:
        before = accuracy(test, lambda b: b.stored)
    model = fit_personal(train, base, features, l2)
    after = accuracy(test, lambda b: model.values(b.attrs))
    label_count = sum(len(b.pairs) for b in bursts)
    worse = [k for k in ("pairwise", "top1")
             if not after[k] >= before[k] and not math.isnan(before[k])]
    measured = (f"held out {after['bursts']} bursts ({after['pairs']} pairs): shipped "
                f"{_pct(before)}; personal {_pct(after)}")
    if worse:
        return PersonalResult(False, f"{measured}. Not switched: the personal ranker is worse at "
                              f"{' and '.join(worse)}; the shipped ranker stays.",
                              before, after, label_count, tuple(features), dropped, None)
    final = fit_personal(bursts, base, features, l2)  # all labels for the weights in use
    created = (now or datetime.now()).isoformat(timespec="seconds")
    doc = {"version": "1", "kind": "personal", "active": True, "created": created,
           "label_count": label_count, "bursts": len(bursts),
           "base": "shipped fused weights" if base is not None else "stored scorer values",
           "heldout": {"before": before, "after": after, "seed": seed, "holdout": holdout},
           "sets": [final.weight_set("personal")]}
    path = personal_path(store.data_dir)
    _write_json(path, doc)
    return PersonalResult(True, f"{measured}. Switched to the personal ranker ({label_count} "
                          f"labels, {created[:10]}); `personalize --reset` switches back.",
                          before, after, label_count, tuple(features), dropped, path)


# ---------------------------------------------------------------- which ranker is active


@dataclass(frozen=True)
class RankerInfo:
    personal: bool  # the personal ranker is switched on
    created: str | None  # ISO date-time of the personal weights (None when there are none)
    label_count: int | None
    path: Path

    @property
    def available(self) -> bool:
        return self.created is not None

    def describe(self) -> str:
        if not self.personal:
            extra = (f" (personal ranker of {self.created[:10]}, {self.label_count} labels, "
                     "switched off)") if self.available else ""
            return "shipped ranker" + extra
        return f"personal ranker ({self.created[:10]}, {self.label_count} labels)"


def _read(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LabelsError(f"bad personal ranker file {path}: {e}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "personal" or "sets" not in doc:
        raise LabelsError(f"bad personal ranker file {path}: not written by `personalize`")
    return doc


def _write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))


def active_ranker(data_dir: Path | None = None) -> RankerInfo:
    """Which ranker the app should use: shipped, or personal (with its date and label count)."""
    path = personal_path(data_dir)
    doc = _read(path)
    if doc is None:
        return RankerInfo(False, None, None, path)
    return RankerInfo(bool(doc.get("active")), str(doc.get("created")),
                      int(doc.get("label_count", 0)), path)


def set_active(active: bool, data_dir: Path | None = None) -> RankerInfo:
    """Switch the personal ranker on (`active`) or back to the shipped one. Switching on needs
    personal weights from an earlier `personalize`; switching off keeps them for later."""
    path = personal_path(data_dir)
    doc = _read(path)
    if doc is None:
        if active:
            raise LabelsError(f"no personal ranker yet ({path}): run `python -m viewfinder "
                              "personalize` first")
        return active_ranker(data_dir)
    if bool(doc.get("active")) != active:
        doc["active"] = active
        _write_json(path, doc)
    return active_ranker(data_dir)


def make_active_scorer(data_dir: Path | None = None, models_dir: Path | None = None):
    """The scorer the app should run: the fused scorer with the personal weights when they are
    switched on, else the shipped default. Returns (scorer, RankerInfo)."""
    from viewfinder.scoring import make_scorer  # noqa: PLC0415
    from viewfinder.scoring.fused import FusedScorer  # noqa: PLC0415

    info = active_ranker(data_dir)
    if not info.personal:
        return make_scorer("default"), info
    scorer = FusedScorer(models_dir, weights=info.path)
    scorer.name = "personal"
    scorer.version = f"personal {info.created} ({info.label_count} labels)"
    return scorer, info
