"""The personal ranker on the synthetic scene: a user who likes head turns teaches it their taste.

Frames are scored by the real fused scorer (face models in models/, attributes stored when the
burst is kept); the shipped weights are models/fused.json when it exists, else a fixed
eyes-open / frontal rule in that file's format. The simulated user labels with the labelling
screen's plan (viewfinder.pair_selection) from the synthetic ground truth.
"""
import json
import shutil
from datetime import datetime

import numpy as np
import pytest

from viewfinder.camera.synthetic import SyntheticSource
from viewfinder.cli import main
from viewfinder.frames import Burst
from viewfinder.labels import LabelsError, LabelStore
from viewfinder.pair_selection import Comparison, PairSelector
from viewfinder.personalize import (FUSED_INPUTS, PERSONAL_FILE, active_ranker, make_active_scorer,
                                    personalize, set_active, shipped_ranker)
from viewfinder.scoring import MODELS_DIR
from viewfinder.scoring.fused import FusedScorer

SIZE = (320, 240)
N_LABELLED, N_UNSEEN = 20, 8
NOW = datetime(2026, 3, 1, 9, 0)


def turn_lover(t):
    """Likes a head turned away, as long as the eyes are open."""
    return t["head_turn"] - 0.5 * t["eyes_closed"]


def frontal_lover(t):
    return -t["head_turn"] - 0.5 * t["eyes_closed"]


def windows(n):
    """(seed, first frame) of bursts of 11 frames (every 3rd frame at 30 fps) where the head is
    turned in some frames and not in others."""
    out, seed = [], 0
    while len(out) < n:
        src, start = SyntheticSource(seed=seed, size=SIZE), 0
        while start < 900 and len(out) < n:
            turned = sum(src.truth_at(start + 3 * i)["head_turn"] > 0.3 for i in range(11))
            if 3 <= turned <= 8:
                out.append((seed, start))
                start += 33
            else:
                start += 6
        seed += 1
    return out


def label_burst(store, uid, truths, taste):
    b = store.burst(uid)
    sel = PairSelector(len(b.frames), [f.score for f in b.frames])
    while (pair := sel.next_pair()) is not None:
        i, j = pair
        d = taste(truths[i]) - taste(truths[j])
        label = 0 if abs(d) < 0.05 else 2 if abs(d) > 0.3 else 1
        c = Comparison(i, j, label) if d >= 0 else Comparison(j, i, label)
        sel.add(c)
        store.add_label(uid, c.a, c.b, c.label)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """Labelled bursts kept in a store (unlabelled yet) + unseen bursts' attributes and truth."""
    base = MODELS_DIR / "fused.json"
    if not base.is_file():
        base = tmp_path_factory.mktemp("models") / "fused.json"
        rule = {"eyes_open": 2.0, "frontal": 1.0, "smile": 0.5, "face_sharpness": 0.5}
        base.write_text(json.dumps({"version": "2", "sets": [{
            "name": "faces", "features": list(FUSED_INPUTS), "mean": [0.0] * len(FUSED_INPUTS),
            "scale": [1.0] * len(FUSED_INPUTS),
            "weights": [rule.get(f, 0.0) for f in FUSED_INPUTS]}]}))
    scorer = FusedScorer(MODELS_DIR, weights=base)
    data = tmp_path_factory.mktemp("data")
    kept, unseen = [], []
    with LabelStore(data) as store:
        for k, (seed, start) in enumerate(windows(N_LABELLED + N_UNSEEN)):
            src = SyntheticSource(seed=seed, size=SIZE)
            frames = tuple(src.frame_at(start + 3 * i) for i in range(11))
            scores = [scorer.score(f.pixels) for f in frames]
            truths = [f.truth for f in frames]
            if k < N_LABELLED:
                burst = Burst(frames, shutter_pos=7, press_t_ns=frames[7].t_ns)
                uid = store.add_burst(burst, scores, scorer_name="fused", scorer_version="test",
                                      source=src.name, now=NOW)
                kept.append((uid, truths))
            else:
                unseen.append(([dict(s.attributes) for s in scores], truths))
    return {"data": data, "base": base, "kept": kept, "unseen": unseen}


def labelled_copy(scene, tmp_path, taste_of=lambda uid: turn_lover):
    data = tmp_path / "data"
    shutil.copytree(scene["data"], data)
    store = LabelStore(data)
    for uid, truths in scene["kept"]:
        label_burst(store, uid, truths, taste_of(uid))
    return store


def test_a_user_who_likes_head_turns_gets_a_ranker_that_picks_them(scene, tmp_path):
    with labelled_copy(scene, tmp_path) as store:
        n_labels = len(store.labels())
        assert n_labels <= 2 * 11 * N_LABELLED
        result = personalize(store, base_weights=scene["base"], now=NOW)
    assert result.activated, result.message
    assert result.after["top1"] > result.before["top1"]
    assert result.after["pairwise"] > result.before["pairwise"] + 0.2
    assert "Switched to the personal ranker" in result.message
    doc = json.loads((tmp_path / "data" / PERSONAL_FILE).read_text())
    assert doc["created"] == "2026-03-01T09:00:00" and doc["label_count"] == result.label_count
    assert 0 < result.label_count <= n_labels
    weights = dict(zip(doc["sets"][0]["features"], doc["sets"][0]["weights"]))
    assert weights["frontal"] < 0  # it learned that turned away is what this user likes

    # the app's scorer is now the fused scorer with these weights; on bursts it never saw,
    # it picks turned heads where the shipped ranker picks frontal ones
    scorer, info = make_active_scorer(tmp_path / "data", MODELS_DIR)
    assert (scorer.name, info.personal) == ("personal", True)
    assert info.describe() == f"personal ranker (2026-03-01, {result.label_count} labels)"
    shipped = FusedScorer(MODELS_DIR, weights=scene["base"])
    hits = {"shipped": 0, "personal": 0}
    for attrs, truths in scene["unseen"]:
        liked = max(turn_lover(t) for t in truths)
        for name, s in (("shipped", shipped), ("personal", scorer)):
            pick = int(np.argmax([s.value(a) for a in attrs]))
            hits[name] += turn_lover(truths[pick]) >= liked - 0.15
    assert hits["personal"] > N_UNSEEN / 2 and hits["personal"] >= hits["shipped"] + 3, hits
    px = SyntheticSource(seed=0, size=SIZE).render(0)
    assert np.isfinite(scorer.score(px).value)


def test_a_ranker_that_got_worse_is_not_switched_on(scene, tmp_path):
    held = {uid for uid, _ in scene["kept"][:6]}  # these bursts: the user now likes frontal faces
    taste = lambda uid: frontal_lover if uid in held else turn_lover  # noqa: E731
    with labelled_copy(scene, tmp_path, taste) as store:
        result = personalize(store, base_weights=scene["base"], held_out=held)
    assert not result.activated and result.path is None
    assert "Not switched: the personal ranker is worse at pairwise" in result.message
    assert result.after["pairwise"] < result.before["pairwise"]
    assert not (tmp_path / "data" / PERSONAL_FILE).exists()
    assert active_ranker(tmp_path / "data").describe() == "shipped ranker"


def test_personalize_and_switch_back_from_the_command_line(scene, tmp_path, capsys):
    labelled_copy(scene, tmp_path).close()
    d = str(tmp_path / "data")
    assert main(["personalize", "--data-dir", d, "--weights", str(scene["base"])]) == 0
    out = capsys.readouterr().out
    assert "shipped pairwise" in out and "Switched to the personal ranker" in out
    assert main(["personalize", "--reset", "--data-dir", d]) == 0
    assert "active ranker: shipped ranker (personal ranker of" in capsys.readouterr().out
    scorer, info = make_active_scorer(tmp_path / "data", MODELS_DIR)
    assert not info.personal and scorer.name != "personal"
    assert main(["personalize", "--activate", "--data-dir", d]) == 0
    assert "active ranker: personal ranker (" in capsys.readouterr().out
    assert active_ranker(tmp_path / "data").personal


def test_without_shipped_weights_it_fits_from_the_stored_attributes(tmp_path):
    """No models/fused.json: 'before' is the stored scorer values, features what every frame has."""
    from viewfinder.frames import Frame, Score

    rng = np.random.default_rng(0)
    with LabelStore(tmp_path) as store:
        for k in range(12):
            frames = tuple(Frame(i, k * 10**10 + i, np.zeros((8, 8, 3), np.uint8)) for i in range(6))
            attrs = [{"eyes_open": float(rng.random()), "frontal": float(rng.random()),
                      "sharpness": float(rng.random()), "other": 1.0} for _ in frames]
            scores = [Score(a["eyes_open"], a) for a in attrs]  # the app ranked by eyes_open
            uid = store.add_burst(Burst(frames, 3, 0), scores, scorer_name="x", scorer_version="1")
            taste = [a["sharpness"] for a in attrs]  # the user only cares about sharpness
            for i in range(6):
                for j in range(i + 1, 6):
                    a, b = (i, j) if taste[i] > taste[j] else (j, i)
                    store.add_label(uid, a, b, 1)
        result = personalize(store, base_weights=tmp_path / "absent.json")
        assert shipped_ranker(tmp_path / "absent.json") is None
    assert result.features == ("eyes_open", "frontal", "sharpness")
    assert result.activated and result.after["pairwise"] > 0.9 > result.before["pairwise"]


def test_too_few_labels_is_one_clear_line(tmp_path, capsys):
    with LabelStore(tmp_path):
        pass
    assert main(["personalize", "--data-dir", str(tmp_path)]) == 1
    assert "too few labels to personalise: 0 non-equal pairs in 0 bursts" in capsys.readouterr().err
    with pytest.raises(LabelsError, match="no personal ranker yet"):
        set_active(True, tmp_path)
    assert main(["personalize", "--activate", "--data-dir", str(tmp_path)]) == 1
    assert main(["personalize", "--reset", "--data-dir", str(tmp_path)]) == 0
