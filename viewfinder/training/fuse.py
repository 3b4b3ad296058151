"""Fit the fused scorer's linear weights on pairs, select with leave-one-person-out CV on
bursts-dev, and write models/fused.json; `--report` also measures every scorer and the latency.

Training side of viewfinder/scoring/fused.py. numpy only (no torch): the model is a linear
pairwise logistic model (a soft RankSVM) on attribute differences,
    P(a better than b) = sigmoid(w . (z_a - z_b)),   z = (x - mean) / scale,
fitted by Newton's method with an L2 penalty that shrinks towards the hand-set rule of the
`faces` scorer (so little data means "the rule", much data may move away from it), on:
  - human-graded pairs of bursts-train (label 1 marginal, 2 significant; equal pairs unused),
  - the other people's bursts-dev pairs inside each CV fold (person = burst id minus "_N" or "_tN"),
  - synthetic-scene pairs (a "good" frame beats a closed-eye / blurred / turned one), weighted.
Hyperparameters (L2 strength, label weighting, synthetic weight) are chosen by leave-one-person-
out CV on bursts-dev; the reported dev numbers are nested CV: for each held-out person the
hyperparameters are chosen by LOPO on the remaining people, and that person's bursts are in
no fit (neither their bursts-train nor bursts-dev bursts).

    python -m viewfinder.training.fuse --data ../shared/data --out models/fused.json --report
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from viewfinder.dataset import DatasetError, load_dataset, read_image
from viewfinder.metrics import burst_labels, evaluate_burst, summarize
from viewfinder.scoring import MODELS_DIR
from viewfinder.scoring.faces import FaceAnalyzer, FaceScorer, frame_attributes
from viewfinder.scoring.fused import WEIGHTS_FILE, file_sha256
from viewfinder.scoring.sharpness import SharpnessScorer
from viewfinder.personalize import fit_pairwise

FACE_FEATURES = ("face", "face_size", "centring", "eyes_open", "smile", "frontal", "face_sharpness",
                 "sharpness")
RANKER_FILE = "ranker.onnx"
GRID = {"l2": (10.0, 100.0, 1e3, 1e4, 1e5), "label_weight": ("flat", "graded"), "synthetic": (0.0, 0.3)}
SYNTH_BURSTS = 24


def person_of(burst_id: str) -> str:
    return re.sub(r"_t?\d+$", "", burst_id)


# ---------------------------------------------------------------- features

class Extractor:
    """Frame -> every attribute any fused set may use, plus the baselines' values."""

    def __init__(self, models_dir: Path, ranker: bool):
        self.faces = FaceAnalyzer(models_dir)
        self.sharp = SharpnessScorer()
        self.ranker = None
        if ranker and (models_dir / RANKER_FILE).is_file():
            from viewfinder.scoring.onnx_ranker import OnnxRankerScorer  # noqa: PLC0415

            self.ranker = OnnxRankerScorer(models_dir / RANKER_FILE)

    def __call__(self, pixels: np.ndarray) -> dict[str, float]:
        faces = self.faces.faces(pixels)
        a = frame_attributes(faces, (pixels.shape[1], pixels.shape[0]))
        s = self.sharp.score(pixels)
        a["sharpness"] = s.attributes["sharpness"]
        if self.ranker is not None:
            r = self.ranker.score(pixels)
            a.update(r.attributes)
            a["ranker_value"] = r.value
        return a


@dataclass
class BurstFeatures:
    id: str
    person: str
    names: list[str]
    attrs: list[dict[str, float]]
    pairs: list[tuple[int, int, int]]  # (better, worse, label>0)


def _cache_key(models_dir: Path, use_ranker: bool) -> str:
    h = hashlib.sha256()
    for name in ("eyes.onnx", "smile.onnx", "face_detection_yunet.onnx",
                 *((RANKER_FILE,) if use_ranker else ())):
        p = models_dir / name
        h.update(file_sha256(p).encode() if p.is_file() else b"-")
    h.update((Path(__file__).resolve().parent.parent / "scoring" / "faces.py").read_bytes())
    return h.hexdigest()[:16]


def dataset_features(root: Path, ex: Extractor, cache_dir: Path, key: str, log) -> list[BurstFeatures]:
    cache = cache_dir / f"{root.name}_{key}.json"
    if cache.is_file():
        raw = json.loads(cache.read_text())
        return [BurstFeatures(**r) for r in raw]
    ds = load_dataset(root)
    labels = {b.burst: b for b in burst_labels(ds)}
    out = []
    t0 = time.perf_counter()
    for b in ds.bursts:
        if b.id not in labels:
            continue
        attrs = [ex(read_image(p)) for p in b.frames]
        pairs = [(a, bb, lab) for a, bb, lab in labels[b.id].pairs]
        out.append(BurstFeatures(b.id, person_of(b.id), list(b.names), attrs, pairs))
    log(f"{root.name}: {sum(len(b.attrs) for b in out)} frames in {time.perf_counter() - t0:.0f} s")
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([b.__dict__ for b in out]))
    return out


def synthetic_features(ex: Extractor, n_bursts: int, cache_dir: Path, key: str, log) -> list[BurstFeatures]:
    """Bursts of 11 frames at 10 frames/s from the synthetic scene (640x480, 30 fps), seeds
    1000+; pairs: each good frame beats each bad frame (label 2)."""
    cache = cache_dir / f"synthetic{n_bursts}_{key}.json"
    if cache.is_file():
        return [BurstFeatures(**r) for r in json.loads(cache.read_text())]
    from viewfinder.camera.synthetic import SyntheticSource  # noqa: PLC0415

    out = []
    for k in range(n_bursts):
        src = SyntheticSource(seed=1000 + k, size=(640, 480), fps=30.0)
        start = int(np.random.default_rng(k).integers(0, 240))
        idx = [start + 3 * i for i in range(11)]
        truth = [src.truth_at(i) for i in idx]
        good = [t["good"] for t in truth]
        if all(good) or not any(good):
            continue
        attrs = [ex(src.render(i)) for i in idx]
        pairs = [(a, b, 2) for a in range(11) for b in range(11) if good[a] and not good[b]]
        out.append(BurstFeatures(f"synthetic_{k}", "synthetic", [str(i) for i in idx], attrs, pairs))
    log(f"synthetic: {len(out)} bursts with good and bad frames")
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([b.__dict__ for b in out]))
    return out


# ---------------------------------------------------------------- model

def standardiser(bursts: list[BurstFeatures], features: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """mean over frames; scale = std of the within-burst deviations (what pair differences see)."""
    x = np.array([[a[f] for f in features] for b in bursts for a in b.attrs])
    dev = np.concatenate([np.array([[a[f] for f in features] for a in b.attrs])
                          - np.mean([[a[f] for f in features] for a in b.attrs], axis=0) for b in bursts])
    return x.mean(axis=0), np.maximum(dev.std(axis=0), 1e-3)


def pair_matrix(bursts: list[BurstFeatures], features, mean, scale, label_weight: str, weight: float):
    d, w = [], []
    for b in bursts:
        z = (np.array([[a[f] for f in features] for a in b.attrs]) - mean) / scale
        for a, bb, lab in b.pairs:
            if lab > 0:
                d.append(z[a] - z[bb])
                w.append(weight * (lab if label_weight == "graded" else 1.0))
    k = len(features)
    return (np.array(d).reshape(-1, k), np.array(w))


def fit_logistic(d: np.ndarray, w: np.ndarray, l2: float, prior: np.ndarray | None = None,
                 iters: int = 30) -> np.ndarray:
    """argmin_v sum_i w_i log(1 + exp(-v . d_i)) + l2/2 |v - prior|^2: the same damped Newton
    fit the personal ranker uses (viewfinder.personalize.fit_pairwise)."""
    v0 = np.zeros(d.shape[1]) if prior is None else np.asarray(prior, np.float64)
    return fit_pairwise(d, w, v0, l2, iters)


def rule_prior(d: np.ndarray, w: np.ndarray, features, scale: np.ndarray) -> np.ndarray:
    """The hand-set FaceScorer rule in standardised units, its overall size fitted on the pairs
    (a one-parameter logistic fit): the point the L2 penalty shrinks towards."""
    rule = np.array([FaceScorer.WEIGHTS.get(f, 0.0) for f in features]) * scale
    if not rule.any():
        return np.zeros(len(features))
    alpha = fit_logistic((d @ rule)[:, None], w, 1e-3)[0]
    return max(alpha, 0.0) * rule


@dataclass(frozen=True)
class Fitted:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    def values(self, b: BurstFeatures) -> np.ndarray:
        z = (np.array([[a[f] for f in self.features] for a in b.attrs]) - self.mean) / self.scale
        return z @ self.weights


def fit(real: list[BurstFeatures], synth: list[BurstFeatures], features, hp: dict) -> Fitted:
    mean, scale = standardiser(real, features)
    d1, w1 = pair_matrix(real, features, mean, scale, hp["label_weight"], 1.0)
    parts_d, parts_w = [d1], [w1]
    if hp["synthetic"] > 0 and synth:
        d2, w2 = pair_matrix(synth, features, mean, scale, hp["label_weight"], 1.0)
        # the synthetic pairs as a whole weigh `synthetic` x the real ones
        parts_d.append(d2)
        parts_w.append(w2 * hp["synthetic"] * w1.sum() / max(w2.sum(), 1e-9))
    d, w = np.concatenate(parts_d), np.concatenate(parts_w)
    w = w * len(w) / w.sum()  # l2 is relative to the mean pair weight
    prior = rule_prior(d, w, features, scale)
    return Fitted(tuple(features), mean, scale, fit_logistic(d, w, hp["l2"], prior))


def metrics_of(bursts: list[BurstFeatures], values_of) -> dict:
    from viewfinder.metrics import BurstLabels  # noqa: PLC0415

    results = [evaluate_burst(BurstLabels(b.id, tuple(b.names), tuple(map(tuple, b.pairs))),
                              values_of(b)) for b in bursts]
    return {k: e.value for k, e in summarize(results, n_boot=200).items()}


def _objective(m: dict) -> float:
    return m["pairwise"] + m["top1"]


def lopo(train: list[BurstFeatures], dev: list[BurstFeatures], synth, features, hp,
         people: list[str]) -> dict:
    """Leave-one-person-out over the dev `people`: each person's dev bursts are scored by a model
    fitted without any of their bursts; metrics pooled over the held-out bursts."""
    preds: dict[str, np.ndarray] = {}
    for p in people:
        model = fit([b for b in train + dev if b.person != p], synth, features, hp)
        for b in dev:
            if b.person == p:
                preds[b.id] = model.values(b)
    held = [b for b in dev if b.id in preds]
    return metrics_of(held, lambda b: preds[b.id])


def grid():
    keys = list(GRID)
    for combo in itertools.product(*(GRID[k] for k in keys)):
        yield dict(zip(keys, combo))


def select(train, dev, synth, features, people) -> tuple[dict, dict]:
    best = None
    for hp in grid():
        m = lopo(train, dev, synth, features, hp, people)
        if best is None or _objective(m) > _objective(best[1]):
            best = (hp, m)
    return best


def nested_cv(train, dev, synth, features, log) -> dict:
    """Outer LOPO over dev people; inner LOPO selects the hyperparameters without the outer person."""
    people = sorted({b.person for b in dev})
    preds = {}
    for p in people:
        inner = [q for q in people if q != p]
        hp, _ = select([b for b in train if b.person != p], [b for b in dev if b.person != p],
                       synth, features, inner)
        model = fit([b for b in train + dev if b.person != p], synth, features, hp)
        for b in dev:
            if b.person == p:
                preds[b.id] = model.values(b)
    return metrics_of(dev, lambda b: preds[b.id])


# ---------------------------------------------------------------- output

def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def weight_set(name: str, m: Fitted, hp: dict, cv: dict, ranker_sha: str | None = None) -> dict:
    s = {"name": name}
    if ranker_sha:
        s.update({"ranker": RANKER_FILE, "ranker_sha256": ranker_sha})
    s.update({"features": list(m.features), "mean": [round(float(v), 6) for v in m.mean],
              "scale": [round(float(v), 6) for v in m.scale],
              "weights": [round(float(v), 6) for v in m.weights], "hyperparameters": hp,
              "dev_lopo_cv": {k: round(v, 4) for k, v in cv.items()}})
    return s


def latency(models_dir: Path, repeats: int = 30) -> dict:
    """Median ms per frame of the full fused scorer on one core, at 640x480 and 1280x720."""
    from viewfinder.camera.synthetic import SyntheticSource  # noqa: PLC0415
    from viewfinder.scoring.fused import FusedScorer  # noqa: PLC0415

    cv2.setNumThreads(1)
    scorer = FusedScorer(models_dir)
    out = {"weight_set": scorer.set_name}
    for w, h in ((640, 480), (1280, 720)):
        src = SyntheticSource(seed=0, size=(w, h))
        frames = [src.render(i) for i in range(5)]
        scorer.score(frames[0])
        times = []
        for i in range(repeats):
            t = time.perf_counter()
            scorer.score(frames[i % len(frames)])
            times.append((time.perf_counter() - t) * 1000)
        out[f"{w}x{h}_ms_median"] = round(float(np.median(times)), 1)
        out[f"{w}x{h}_ms_p90"] = round(float(np.percentile(times, 90)), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m viewfinder.training.fuse", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"),
                    help="folder holding bursts-train/ and bursts-dev/")
    ap.add_argument("--models", type=Path, default=MODELS_DIR)
    ap.add_argument("--out", type=Path, default=None, help=f"default: MODELS/{WEIGHTS_FILE}")
    ap.add_argument("--report", action="store_true",
                    help="also measure every scorer on bursts-dev (person-disjoint) and the latency")
    ap.add_argument("--no-ranker", action="store_true", help="ignore models/ranker.onnx")
    ap.add_argument("--face-pairs-oof", type=Path, default=None,
                    help="experiment: out-of-fold face-pair net scores from `python -m "
                         "viewfinder.training.face_models face-pairs`, measured, never shipped")
    ap.add_argument("--cache", type=Path, default=Path("runs") / "fuse_cache")
    a = ap.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    out = a.out or a.models / WEIGHTS_FILE
    use_ranker = not a.no_ranker and (a.models / RANKER_FILE).is_file()
    try:
        ex = Extractor(a.models, use_ranker)
        key = _cache_key(a.models, use_ranker)
        train = dataset_features(a.data / "bursts-train", ex, a.cache, key, log)
        dev = dataset_features(a.data / "bursts-dev", ex, a.cache, key, log)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    synth = synthetic_features(ex, SYNTH_BURSTS, a.cache, key, log)
    people = sorted({b.person for b in dev})

    feature_sets = {"faces": FACE_FEATURES}
    ranker_sha = None
    if use_ranker:
        latent = tuple(ex.ranker.attribute_names)
        feature_sets = {"with_ranker": FACE_FEATURES + latent, "faces": FACE_FEATURES}
        ranker_sha = file_sha256(a.models / RANKER_FILE)

    sets, report = [], {"dev_people": len(people), "dev_bursts": len(dev), "train_bursts": len(train),
                        "synthetic_bursts": len(synth), "rows": {}}
    for name, feats in feature_sets.items():
        hp, sel = select(train, dev, synth, feats, people)
        log(f"{name}: selected {hp} (LOPO {sel})")
        cv = nested_cv(train, dev, synth, feats, log) if a.report else sel
        model = fit(train + dev, synth, feats, hp)
        sets.append(weight_set(name, model, hp, cv, ranker_sha if name == "with_ranker" else None))
        report["rows"][f"fused ({name}), nested LOPO CV"] = cv
    write_json(out, {"version": "1", "fitted_on": "bursts-train + bursts-dev pairs + synthetic scene",
                     "sets": sets})
    log(f"wrote {out}")

    if a.report:
        rows = report["rows"]
        rows["sharpness (Laplacian)"] = metrics_of(
            dev, lambda b: np.array([x["sharpness"] for x in b.attrs]))
        rows["faces, fixed rule (scorer 'faces')"] = metrics_of(
            dev, lambda b: np.array([sum(w * x[k] for k, w in FaceScorer.WEIGHTS.items()) for x in b.attrs]))
        rows["eyes_open alone"] = metrics_of(dev, lambda b: np.array([x["eyes_open"] for x in b.attrs]))
        if use_ranker:
            rows["ranker alone"] = metrics_of(dev, lambda b: np.array([x["ranker_value"] for x in b.attrs]))
        if a.face_pairs_oof:
            oof = json.loads(a.face_pairs_oof.read_text())
            for b in train + dev:
                for x, v in zip(b.attrs, oof[b.id]):
                    x["face_pairs"] = v
            rows["face-pair net alone (experiment, out-of-fold)"] = metrics_of(
                dev, lambda b: np.array([x["face_pairs"] for x in b.attrs]))
            rows["fused (faces + face-pair net, experiment), nested LOPO CV"] = nested_cv(
                train, dev, [], FACE_FEATURES + ("face_pairs",), log)  # no synthetic scores
        report["faces_detected_dev"] = float(np.mean([x["face"] for b in dev for x in b.attrs]))
        report["latency_one_core"] = latency(a.models)
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
