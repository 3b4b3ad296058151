"""Training loop: pair batches from the data cache -> the ranker (and G) -> checkpoints.

torch only. One process, main thread. Resumable: a checkpoint (config + weights + optimiser +
step) is written atomically every few minutes under the run folder, and a run started again
with the same config continues from it. Uses CUDA when present.

The paper's schedule for head C + G (section 4.1), as fractions of `steps`:
  [0, 0.4)     ranker alone (eq. 2)
  [0.4, 0.5)   G alone, ranker fixed (eq. 4)
  [0.5, 0.85)  alternating every 25 mini-batches: ranker (eq. 3, gamma = 1), G (eq. 4)
  [0.85, 1]    G frozen, ranker fine-tuned with gamma = 0 (eq. 3 keeps B' >= B)
Heads A, B, C without G and the pairwise baseline train the ranker on eq. 2 for all steps.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from viewfinder import metrics
from viewfinder.preprocess import InputSpec, normalize
from viewfinder.training.data import TrainingData, folds_of, get_data, synthetic_pairs
from viewfinder.training.losses import generator_loss, pair_loss, ranker_loss, tie_share
from viewfinder.training.model import Generator, ModelConfig, build_model

ALTERNATE_EVERY = 25
PHASES = (0.4, 0.5, 0.85)  # ends of: ranker alone, G alone, alternating


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 3000
    batch_pairs: int = 32
    real_fraction: float = 0.5  # share of each batch from bursts-train; 0: synthetic only
    synthetic: bool = True  # use the synthetic bursts (False: real pairs only)
    use_g: bool = True  # head C only: the adversarial generator of section 4.1
    lr: float = 2e-3
    weight_decay: float = 5e-4
    equal_ramp: float = 0.15  # eq. 2's equal-pair weight ramps 0.1 -> 1 over this share of steps
    exclude_persons: tuple[str, ...] = ()  # cross-validation: persons held out entirely
    limit: int | None = None  # synthetic base frames (None: all); tiny runs in tests
    data_root: str = "../shared/data"
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d["model"] = ModelConfig(**d["model"])
        d["exclude_persons"] = tuple(d.get("exclude_persons", ()))
        return cls(**d)

    @property
    def spec(self) -> InputSpec:
        return InputSpec(self.model.height, self.model.width)

    @property
    def with_g(self) -> bool:
        return self.use_g and self.model.head == "C"


def phase(cfg: TrainConfig, step: int) -> str:
    """'ranker', 'g' or 'ranker_g0' (fine-tuning with gamma = 0) at a step."""
    if not cfg.with_g:
        return "ranker"
    t = step / cfg.steps
    if t < PHASES[0]:
        return "ranker"
    if t < PHASES[1]:
        return "g"
    if t < PHASES[2]:
        return "g" if (step // ALTERNATE_EVERY) % 2 else "ranker_g1"
    return "ranker_g0"


# ---------------------------------------------------------------- pairs

class PairSampler:
    """Random pair batches (a, b, label) as uint8 image arrays, from synthetic and/or real sets."""

    def __init__(self, data: TrainingData, cfg: TrainConfig, rng: np.random.Generator):
        self.rng, self.cfg, self.sources = rng, cfg, []
        excluded = set(cfg.exclude_persons)
        if cfg.synthetic:
            s = data.syn
            keep = ~s["val"] & ~np.isin(s["persons"], list(excluded))
            pairs = synthetic_pairs(s["frame_burst"], s["quality"], np.flatnonzero(keep))
            self.sources.append(("synthetic", s["images"], pairs))
        if data.train is not None and cfg.real_fraction > 0:
            t = data.train
            keep_burst = ~np.isin(t["persons"], list(excluded))
            pairs = t["pairs"][keep_burst[t["pairs"][:, 3]]]
            if len(pairs):
                self.sources.append(("real", t["images"], pairs))
        if not self.sources:
            raise ValueError("no training pairs: enable synthetic data or real pairs")

    def describe(self) -> str:
        return ", ".join(f"{n}: {len(p)} pairs ({np.mean(p[:, 2] == 0):.0%} equal)"
                         for n, _, p in self.sources)

    def batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.cfg.batch_pairs
        if len(self.sources) == 2:
            counts = [n - round(n * self.cfg.real_fraction), round(n * self.cfg.real_fraction)]
        else:
            counts = [n]
        a, b, y = [], [], []
        for (_, images, pairs), k in zip(self.sources, counts):
            rows = pairs[self.rng.integers(0, len(pairs), k)]
            a.append(images[rows[:, 0]])
            b.append(images[rows[:, 1]])
            y.append(rows[:, 2])
        a, b = np.concatenate(a), np.concatenate(b)
        flip = self.rng.random(len(a)) < 0.5  # mirroring, as the paper augments
        a[flip] = a[flip, :, ::-1]
        flip = self.rng.random(len(b)) < 0.5
        b[flip] = b[flip, :, ::-1]
        return a, b, np.concatenate(y)


def to_tensor(images: np.ndarray, spec: InputSpec, device) -> torch.Tensor:
    """(N, h, w, 3) uint8 BGR at input size -> (N, 3, h, w) float32 via the app's normalize."""
    return torch.from_numpy(normalize(images, spec)).to(device)


# ---------------------------------------------------------------- evaluation

@torch.no_grad()
def predict(model, images: np.ndarray, spec: InputSpec, device, batch: int = 128) -> np.ndarray:
    """Score of every image (N,) with a single-frame ranker in eval mode."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        out.append(model(to_tensor(images[i:i + batch], spec, device))[0].cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


@torch.no_grad()
def predict_baseline(model, images: np.ndarray, frame_burst: np.ndarray, spec, device) -> np.ndarray:
    """The pairwise baseline's burst scores: its number of pairwise wins within each burst."""
    model.eval()
    out = np.zeros(len(images), np.float32)
    for b in np.unique(frame_burst):
        idx = np.flatnonzero(frame_burst == b)
        out[idx] = model.rank_burst(to_tensor(images[idx], spec, device)).cpu().numpy()
    return out


def burst_results(values: np.ndarray, frame_burst: np.ndarray, pairs: np.ndarray,
                  bursts=None) -> list[metrics.BurstResult]:
    """Per-burst metrics (viewfinder.metrics) of scores `values` for pairs (a, b, label, burst)."""
    results = []
    for b in (np.unique(pairs[:, 3]) if bursts is None else bursts):
        idx = np.flatnonzero(frame_burst == b)
        local = {int(g): i for i, g in enumerate(idx)}
        rows = pairs[pairs[:, 3] == b]
        if not len(rows):
            continue
        labels = metrics.BurstLabels(str(b), tuple(str(i) for i in idx),
                                     tuple((local[int(a)], local[int(c)], int(y)) for a, c, y, _ in rows))
        results.append(metrics.evaluate_burst(labels, values[idx]))
    return results


def summary(results) -> dict[str, float]:
    return {k: round(v.value, 4) for k, v in metrics.summarize(results, n_boot=1).items()}


def synthetic_val(data: TrainingData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, frame_burst, pairs) of the held-out synthetic bursts."""
    s = data.syn
    pairs = synthetic_pairs(s["frame_burst"], s["quality"], np.flatnonzero(s["val"]))
    return s["images"], s["frame_burst"], pairs


def scores_for(model, cfg: TrainConfig, images, frame_burst, device) -> np.ndarray:
    if cfg.model.head == "baseline":
        return predict_baseline(model, images, frame_burst, cfg.spec, device)
    return predict(model, images, cfg.spec, device)


# ---------------------------------------------------------------- checkpoints

def save_atomic(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_model(path: Path, device="cpu"):
    """Rebuild a model from a checkpoint (its config is stored beside the weights)."""
    ck = torch.load(path, map_location=device, weights_only=False)
    cfg = TrainConfig.from_dict(ck["config"])
    model = build_model(cfg.model).to(device)
    model.load_state_dict(ck["model"])
    return model.eval(), cfg, ck


# ---------------------------------------------------------------- the loop

def train(cfg: TrainConfig, out: Path, *, runs: Path = Path("runs"), data: TrainingData | None = None,
          checkpoint_every_s: float = 180.0, log_every: int = 50, threads: int | None = None,
          log=print) -> dict:
    """Train (or resume) into `out`; returns the final metrics (also in out/metrics.json)."""
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(cfg.seed)
    if data is None:
        data = get_data(Path(cfg.data_root), cfg.spec, runs, limit=cfg.limit, log=log)
    rng = np.random.default_rng(cfg.seed)
    sampler = PairSampler(data, cfg, rng)
    log(f"device {device}, {torch.get_num_threads()} threads; {sampler.describe()}")

    model = build_model(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = Generator(cfg.model.attributes).to(device) if cfg.with_g else None
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3) if gen is not None else None
    step, elapsed = 0, 0.0
    ckpt = out / "checkpoint.pt"
    if ckpt.is_file():
        ck = torch.load(ckpt, map_location=device, weights_only=False)
        if ck["config"] != cfg.to_dict():
            raise ValueError(f"{ckpt} was trained with another config; use a new --out folder")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if gen is not None:
            gen.load_state_dict(ck["gen"])
            opt_g.load_state_dict(ck["opt_g"])
        step, elapsed = ck["step"], ck["elapsed"]
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        log(f"resumed {ckpt} at step {step}")

    def save(path: Path) -> None:
        save_atomic({"config": cfg.to_dict(), "model": model.state_dict(), "opt": opt.state_dict(),
                     "gen": gen.state_dict() if gen is not None else None,
                     "opt_g": opt_g.state_dict() if opt_g is not None else None, "step": step,
                     "elapsed": elapsed, "rng": rng.bit_generator.state,
                     "torch_rng": torch.get_rng_state()}, path)

    def lr_at(s: int) -> float:  # short warm-up, then cosine to zero
        warm = min(1.0, (s + 1) / 100)
        return cfg.lr * warm * 0.5 * (1 + math.cos(math.pi * s / cfg.steps))

    logf = (out / "log.jsonl").open("a")
    t_last_ckpt = time.monotonic()
    window: dict[str, list[float]] = {}
    t0 = time.monotonic() - elapsed
    while step < cfg.steps:
        ph = phase(cfg, step)
        a, b, y = sampler.batch()
        xa, xb = to_tensor(a, cfg.spec, device), to_tensor(b, cfg.spec, device)
        label = torch.from_numpy(y).to(device)
        equal_w = 0.1 + 0.9 * min(1.0, step / max(1.0, cfg.equal_ramp * cfg.steps))
        n = len(y)
        if ph == "g":  # eq. 4: G learns to lift B above A; the ranker is fixed
            model.eval()
            with torch.no_grad():
                attrs = model.attributes(torch.cat([xa, xb]))  # (2N, C')
            f_a = model.score_from_attributes(attrs[:n])
            x_bp, e = gen(attrs[n:])
            loss = generator_loss(f_a, model.score_from_attributes(x_bp), e)
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            model.zero_grad(set_to_none=True)  # the ranker's grads from this step are discarded
            f_b = model.score_from_attributes(attrs[n:]).detach()
        else:
            model.train()
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            if cfg.model.head == "baseline":
                d = model(xa, xb)  # (N,) how much better a is than b
                f_a, f_b = d, torch.zeros_like(d)
                loss = pair_loss(f_a, f_b, label, equal_w)
            else:
                attrs = model.attributes(torch.cat([xa, xb]))  # (2N, C')
                f = model.score_from_attributes(attrs)
                f_a, f_b = f[:n], f[n:]
                if ph == "ranker":
                    loss = pair_loss(f_a, f_b, label, equal_w)
                else:  # eq. 3 with B' from the (here fixed) generator
                    with torch.no_grad():
                        _, e = gen(attrs[n:])
                    f_bp = model.score_from_attributes(attrs[n:] + e)
                    loss = ranker_loss(f_a, f_b, f_bp, label, 1.0 if ph == "ranker_g1" else 0.0,
                                       equal_w)
                if cfg.model.head == "C":  # attributes off for every image of the batch
                    dead = (attrs.detach() <= 0).all(0).float().mean()
                    window.setdefault("dead_attr", []).append(float(dead))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if hasattr(model, "keep_attributes_alive"):
                model.keep_attributes_alive()
        window.setdefault(f"loss_{ph}", []).append(loss.item())
        window.setdefault("tie_share", []).append(tie_share(f_a.detach(), f_b.detach()))
        step += 1
        elapsed = time.monotonic() - t0
        if step % log_every == 0 or step == cfg.steps:
            rec = {"step": step, "elapsed_s": round(elapsed, 1), "lr": lr_at(step),
                   **{k: round(float(np.mean(v)), 4) for k, v in window.items()}}
            window = {}
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            log(" ".join(f"{k}={v}" for k, v in rec.items()))
        if time.monotonic() - t_last_ckpt > checkpoint_every_s:
            save(ckpt)
            t_last_ckpt = time.monotonic()
    save(ckpt)
    logf.close()

    result = {"steps": cfg.steps, "train_time_s": round(elapsed, 1),
              "exclude_persons": list(cfg.exclude_persons)}
    images, fb, pairs = synthetic_val(data)
    if len(pairs):
        used = np.flatnonzero(np.isin(fb, np.unique(pairs[:, 3])))  # the val bursts' frames only
        vals = np.zeros(len(images), np.float32)
        vals[used] = scores_for(model, cfg, images[used], fb[used], device)
        result["synthetic_val"] = summary(burst_results(vals, fb, pairs))
        result["synthetic_val_tie_share"] = float(np.mean(np.abs(
            vals[pairs[:, 0]] - vals[pairs[:, 1]]) <= 1e-4))
    if data.dev is not None and cfg.exclude_persons:  # person-disjoint dev: the held-out persons
        d = data.dev
        bursts = np.flatnonzero(np.isin(d["persons"], list(cfg.exclude_persons)))
        vals = scores_for(model, cfg, d["images"], d["frame_burst"], device)
        result["dev_heldout"] = summary(burst_results(vals, d["frame_burst"], d["pairs"], bursts))
        np.save(out / "dev_scores.npy", vals)
    final = {"config": cfg.to_dict(), "model": model.state_dict(), "step": step, "metrics": result}
    save_atomic(final, out / "final.pt")
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(out / "metrics.json")
    log(json.dumps(result))
    return result


def fold_config(cfg: TrainConfig, data: TrainingData, fold: int, k: int) -> TrainConfig:
    return replace(cfg, exclude_persons=folds_of(data.dev["persons"], k)[fold])
