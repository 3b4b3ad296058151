"""The model card's table, from one evaluation run: the shipped ranker next to the baselines.

    python -m viewfinder.training.evaluate [--run runs/ranker] [--model models/ranker.onnx]

End of the training flow; no torch needed (onnxruntime + the folds' saved dev scores).
- dev (bursts-dev): person-disjoint cross-validation only. Each fold model (RUN/fold<i>) was
  trained without the fold's persons and scored their dev bursts (dev_scores.npy); the folds'
  bursts are pooled. The shipped model saw every person's bursts-train bursts, so its own dev
  numbers would not be person-disjoint and are not reported.
- synthetic val: the held-out synthetic bursts, scored by the shipped ONNX through the app's
  scorer (OnnxRankerScorer) on the cached frames at input size.
Baselines: sharpness (Laplacian; full-resolution frames on dev, input-size frames on synthetic),
random (exact expectation) and middle frame. `--table1 DIR` prints the head ablation instead.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from viewfinder import metrics
from viewfinder.dataset import load_dataset, read_image
from viewfinder.preprocess import InputSpec
from viewfinder.scoring.baselines import MiddleScorer
from viewfinder.scoring.onnx_ranker import OnnxRankerScorer
from viewfinder.scoring.sharpness import SharpnessScorer
from viewfinder.training.data import folds_of, load_cache, cache_path, synthetic_pairs

REPO = Path(__file__).resolve().parent.parent.parent
COLUMNS = ("pairwise", "top1", "top2", "top3")


def _labels_from_arrays(frame_burst, pairs) -> list[metrics.BurstLabels]:
    out = []
    for b in np.unique(pairs[:, 3]):
        idx = np.flatnonzero(frame_burst == b)
        local = {int(g): i for i, g in enumerate(idx)}
        rows = pairs[pairs[:, 3] == b]
        out.append(metrics.BurstLabels(str(b), tuple(str(i) for i in idx),
                                       tuple((local[int(a)], local[int(c)], int(y)) for a, c, y, _ in rows)))
    return out


def _evaluate(labels, values_of) -> dict[str, metrics.Estimate]:
    return metrics.summarize([metrics.evaluate_burst(lab, values_of(lab)) for lab in labels])


def _random(labels) -> dict[str, metrics.Estimate]:
    return metrics.summarize([metrics.expected_random(lab) for lab in labels])


def _cell(e: metrics.Estimate | None) -> str:
    """0.607 (0.55-0.66): the value and its 95% bootstrap interval over bursts."""
    return "n/a" if e is None else f"{e.value:.3f} ({e.lo:.2f}-{e.hi:.2f})"


def _middle(lab) -> list[float]:
    return [s.value for s in MiddleScorer().score_burst(len(lab.frames))]


def cv_dev_scores(run: Path, dev: dict, k: int) -> dict[str, np.ndarray] | None:
    """Burst id -> fold model's scores of its frames, each burst scored by the fold that held
    its person out. None when a fold is missing."""
    folds = folds_of(dev["persons"], k)
    out = {}
    for i, persons in enumerate(folds):
        f = run / f"fold{i}" / "dev_scores.npy"
        if not f.is_file():
            return None
        scores = np.load(f)
        for b, (bid, person) in enumerate(zip(dev["burst_ids"], dev["persons"])):
            if person in persons:
                out[str(bid)] = scores[dev["frame_burst"] == b]
    return out


def model_card_table(run: Path, model: Path, data_root: Path, k: int = 3) -> str:
    ranker = OnnxRankerScorer(model)
    spec: InputSpec = ranker.spec
    data = load_cache(cache_path(REPO / "runs", spec), spec)
    if data is None:
        raise SystemExit(f"no data cache for {spec.height}x{spec.width} under runs/cache: run training first")
    rows: dict[str, dict[str, dict[str, float]]] = {}

    # dev, person-disjoint CV
    dev_ds = load_dataset(data_root / "bursts-dev")
    dev_labels = metrics.burst_labels(dev_ds)
    frames = {b.id: b.frames for b in dev_ds.bursts}
    cv = cv_dev_scores(run, data.dev, k)
    sharp = SharpnessScorer()
    rows["ranker"] = {"dev": _evaluate(dev_labels, lambda lab: cv[lab.burst]) if cv else {}}
    rows["sharpness"] = {"dev": _evaluate(
        dev_labels, lambda lab: [sharp.score(read_image(p)).value for p in frames[lab.burst]])}
    rows["random"] = {"dev": _random(dev_labels)}
    rows["middle"] = {"dev": _evaluate(dev_labels, _middle)}

    # synthetic validation bursts
    s = data.syn
    pairs = synthetic_pairs(s["frame_burst"], s["quality"], np.flatnonzero(s["val"]))
    syn_labels = _labels_from_arrays(s["frame_burst"], pairs)
    used = np.unique(np.concatenate([np.array([int(i) for i in lab.frames]) for lab in syn_labels]))
    ranked = dict(zip(used.tolist(), (x.value for x in ranker.score_batch(list(s["images"][used])))))
    sharp_v = {int(i): sharp.score(s["images"][i]).value for i in used}
    rows["ranker"]["synthetic"] = _evaluate(syn_labels, lambda lab: [ranked[int(i)] for i in lab.frames])
    rows["sharpness"]["synthetic"] = _evaluate(syn_labels, lambda lab: [sharp_v[int(i)] for i in lab.frames])
    rows["random"]["synthetic"] = _random(syn_labels)
    rows["middle"]["synthetic"] = _evaluate(syn_labels, _middle)

    head = "| scorer | " + " | ".join(f"dev {c}" for c in COLUMNS) + " | " + \
        " | ".join(f"synthetic {c}" for c in COLUMNS) + " |"
    lines = [f"dev: {len(dev_labels)} bursts, {k}-fold person-disjoint CV ({run}); synthetic val: "
             f"{len(syn_labels)} bursts; model {model.name} version {ranker.version}; "
             "in brackets: 95% bootstrap intervals over bursts", "",
             head, "|" + "---|" * (1 + 2 * len(COLUMNS))]
    for name, r in rows.items():
        cells = [_cell(r[part][c]) if r.get(part) else "n/a" for part in ("dev", "synthetic")
                 for c in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def latency_ms(model: Path, frames: int = 200) -> tuple[float, float]:
    """Median (wall, CPU) ms per 1280x720 frame, preprocessing included, onnxruntime on one
    thread. CPU time is what the frame costs; wall time also counts waiting for a busy core."""
    import time  # noqa: PLC0415

    scorer = OnnxRankerScorer(model)
    frame = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    wall, cpu = [], []
    for i in range(frames + 20):
        t, c = time.perf_counter(), time.process_time()
        scorer.score(frame)
        if i >= 20:  # warm-up
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    return 1000 * float(np.median(wall)), 1000 * float(np.median(cpu))


def model_facts(model: Path) -> str:
    meta = OnnxRankerScorer(model).metadata
    return (f"{model.name}: {model.stat().st_size} bytes, backbone {meta['backbone']}, head "
            f"{meta['head']}, C' = {len(meta['attribute_names'])}, input {meta['input_size']}, "
            f"{meta['parameters']} parameters, {meta['flops'] / 1e9:.3f} GFLOPs "
            f"({meta['flops'] / 2e9:.3f} G multiply-adds); per 1280x720 frame incl. preprocessing "
            "(onnxruntime, 1 thread, median of 200): {:.2f} ms wall, {:.2f} ms CPU".format(*latency_ms(model)))


def table1(root: Path, k: int = 3) -> str:
    """Head ablation: every ROOT/<variant>/fold<i>/metrics.json, dev pooled over the folds."""
    lines = ["| variant | synthetic pairwise | synthetic top1 | dev pairwise | dev top1 | dev top2 | dev top3 | train s |",
             "|---|---|---|---|---|---|---|---|"]
    data_root = REPO.parent / "shared" / "data"
    dev_labels = {lab.burst: lab for lab in metrics.burst_labels(load_dataset(data_root / "bursts-dev"))}
    spec = InputSpec(128, 128)  # the ablation runs use the shipped input size
    dev = load_cache(cache_path(REPO / "runs", spec), spec).dev
    variants = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("fold*/metrics.json")))
    # compare like with like: only the folds every variant has finished
    common = set.intersection(*({f.parent.name for f in v.glob("fold*/metrics.json")} for v in variants))
    lines.insert(0, f"folds: {', '.join(sorted(common))} (dev: those folds' held-out persons)\n")
    for variant in variants:
        folds = sorted(f for f in variant.glob("fold*/metrics.json") if f.parent.name in common)
        syn_p, syn_t, secs, results = [], [], 0.0, []
        for f in folds:
            m = json.loads(f.read_text())
            syn_p.append(m["synthetic_val"]["pairwise"])
            syn_t.append(m["synthetic_val"]["top1"])
            secs += m["train_time_s"]
            scores = np.load(f.parent / "dev_scores.npy")
            held_out = folds_of(dev["persons"], k)[int(f.parent.name[len("fold"):])]
            for b, (bid, person) in enumerate(zip(dev["burst_ids"], dev["persons"])):
                if person in held_out and str(bid) in dev_labels:
                    results.append(metrics.evaluate_burst(dev_labels[str(bid)],
                                                          scores[dev["frame_burst"] == b]))
        d = {kk: v.value for kk, v in metrics.summarize(results, n_boot=1).items()}
        lines.append(f"| {variant.name} ({len(folds)} folds) | {np.mean(syn_p):.3f} | {np.mean(syn_t):.3f} | "
                     f"{d['pairwise']:.3f} | {d['top1']:.3f} | {d['top2']:.3f} | {d['top3']:.3f} | {secs:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m viewfinder.training.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, default=REPO / "runs" / "ranker", help="run with fold<i>/ folders")
    p.add_argument("--model", type=Path, default=REPO / "models" / "ranker.onnx")
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--table1", type=Path, default=None, metavar="DIR", help="print the head ablation")
    args = p.parse_args(argv)
    if args.table1:
        print(table1(args.table1, args.folds))
    else:
        print(model_facts(args.model))
        print(model_card_table(args.run, args.model, args.data, args.folds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
