"""CI smoke test of training: a few steps on tiny procedural bursts, no shared data needed."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from viewfinder.preprocess import InputSpec  # noqa: E402
from viewfinder.training.data import TrainingData, synthetic_from_bases  # noqa: E402
from viewfinder.training.model import ModelConfig  # noqa: E402
from viewfinder.training.train import TrainConfig, load_model, phase, train  # noqa: E402

SIZE = 32


def scene(seed: int) -> np.ndarray:
    """A textured 'photo': smooth colour blobs plus fine detail, so blur and noise change it."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 255, (6, 8, 3)).astype(np.uint8)
    import cv2

    img = cv2.resize(low, (320, 240), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    img += rng.integers(-40, 40, (240, 320, 1)).astype(np.int16)  # texture: blur removes it
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny_data() -> TrainingData:
    bases = [(f"scene{i}", "", scene(i), True) for i in range(6)]
    syn = synthetic_from_bases(bases, InputSpec(SIZE, SIZE), seed=0, frames_per_burst=5)
    syn["val"] = np.arange(6) >= 4  # two bursts held out
    return TrainingData(syn, None, None)


def tiny_config(head="C", steps=12, **kw) -> TrainConfig:
    return TrainConfig(model=ModelConfig("sqnet6", head, 3, SIZE, SIZE), steps=steps,
                       batch_pairs=8, lr=3e-3, **kw)


def test_schedule_follows_the_paper():
    cfg = tiny_config(steps=1000)
    assert phase(cfg, 0) == "ranker" and phase(cfg, 399) == "ranker"
    assert phase(cfg, 400) == "g" and phase(cfg, 499) == "g"
    assert {phase(cfg, s) for s in range(500, 850)} == {"ranker_g1", "g"}
    assert phase(cfg, 500) == phase(cfg, 524) != phase(cfg, 525)  # switches every 25 batches
    assert phase(cfg, 900) == "ranker_g0"
    assert phase(tiny_config(head="A", steps=1000), 450) == "ranker"


@pytest.mark.parametrize("head", ["C", "A", "baseline"])
def test_few_steps_train_save_and_reload(tmp_path, tiny_data, head):
    cfg = tiny_config(head=head, steps=12)
    result = train(cfg, tmp_path, data=tiny_data, log=lambda *_: None, log_every=4)
    assert set(result["synthetic_val"]) == {"pairwise", "top1", "top2", "top3"}
    model, cfg2, _ = load_model(tmp_path / "final.pt")
    assert cfg2 == cfg
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["step"] == 12 and "tie_share" in lines[-1]


def test_head_c_with_equal_pairs_does_not_collapse_to_ties(tmp_path, tiny_data):
    """The trap of eq. 2: the equal-pair term can flatten head C to one constant score with every
    attribute ReLU dead. After training, scores must still differ across frames."""
    cfg = tiny_config(head="C", steps=40, use_g=True)
    result = train(cfg, tmp_path, data=tiny_data, log=lambda *_: None, log_every=10)
    assert result["synthetic_val_tie_share"] < 0.5
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert all(rec.get("dead_attr", 0.0) < 1.0 for rec in lines)
    assert lines[-1]["tie_share"] < 0.5
    model, _, _ = load_model(tmp_path / "final.pt")
    assert (model.attr.bn.bias >= 0).all()  # every attribute's ReLU kept open


def test_rerun_resumes_from_checkpoint_and_refuses_another_config(tmp_path, tiny_data):
    cfg = tiny_config(head="B", steps=6)
    train(cfg, tmp_path, data=tiny_data, log=lambda *_: None, log_every=2)
    n_lines = len((tmp_path / "log.jsonl").read_text().splitlines())
    msgs: list[str] = []
    train(cfg, tmp_path, data=tiny_data, log=msgs.append, log_every=2)
    assert any("resumed" in m and "step 6" in m for m in msgs)
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == n_lines  # no step was retrained
    with pytest.raises(ValueError, match="another config"):
        train(tiny_config(head="A", steps=6), tmp_path, data=tiny_data, log=lambda *_: None)
