"""The labels database: round trips, schema version, foreign keys, choices, export read by eval."""
import json
import sqlite3
from datetime import datetime

import cv2
import numpy as np
import pytest

from viewfinder.cli import main
from viewfinder.dataset import load_dataset, read_image
from viewfinder.frames import Burst, Frame, Score
from viewfinder.labels import (DB_NAME, SCHEMA_VERSION, LabelsError, LabelStore, default_data_dir,
                               latest_pairs, record_choice)
from viewfinder.metrics import burst_labels, evaluate_burst

NOW = datetime(2026, 3, 1, 12, 30, 5, 250000)


def make_burst(n=5, t0=0, seed=0):
    """Textured frames blurred more and more: frame 0 sharpest."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur((rng.random((48, 64, 3)) * 255).astype(np.uint8), (0, 0), 0.8)
    frames = tuple(Frame(index=i, t_ns=t0 + i * 100_000_000,
                         pixels=base if i == 0 else cv2.GaussianBlur(base, (0, 0), 0.7 * i))
                   for i in range(n))
    scores = [Score(float(n - i), {"sharpness": 1.0 - 0.1 * i, "eyes_open": 0.9}) for i in range(n)]
    scores[-1] = None  # an unscored frame
    return Burst(frames, shutter_pos=n // 2, press_t_ns=t0 + 200_000_000), scores


def keep(store, n=5, t0=0, **kw):
    b, s = make_burst(n, t0)
    return store.add_burst(b, s, scorer_name="fused", scorer_version="1+faces", pick_pos=0,
                           source="Camera 0", now=kw.pop("now", NOW), **kw)


def test_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VIEWFINDER_DATA_DIR", str(tmp_path / "vf"))
    assert default_data_dir() == tmp_path / "vf"
    monkeypatch.delenv("VIEWFINDER_DATA_DIR")
    assert default_data_dir().name.lower() == "viewfinder"


def test_a_kept_burst_round_trips_through_the_database(tmp_path):
    with LabelStore(tmp_path) as store:
        uid = keep(store)
        assert uid == "20260301_123005_250"
        store.add_label(uid, 0, 2, 2)
        store.add_label(uid, 1, 0, 0)
    assert sorted(p.name for p in (tmp_path / "bursts" / uid).iterdir()) == [
        f"frame_0{i}.jpg" for i in range(5)]  # no temp files left
    with LabelStore(tmp_path) as store:  # reopened: everything is still there
        assert store.schema_version == SCHEMA_VERSION
        b = store.burst(uid)
        assert (b.source, b.scorer, b.scorer_version, b.shutter_pos, b.pick_pos) == (
            "Camera 0", "fused", "1+faces", 2, 0)
        assert [f.pos for f in b.frames] == [0, 1, 2, 3, 4]
        assert b.frames[1].score == 4.0 and b.frames[4].score is None
        assert b.frames[1].attributes == {"sharpness": 0.9, "eyes_open": 0.9}
        assert b.frames[4].attributes == {}
        assert b.frames[3].t_ns == 300_000_000
        original, _ = make_burst()
        px = store.pixels(uid, 0)
        assert px.shape == (48, 64, 3)
        for pos in (0, 3):  # the JPEG (quality 95) of that very frame
            ok, jpeg = cv2.imencode(".jpg", original.frames[pos].pixels, [cv2.IMWRITE_JPEG_QUALITY, 95])
            assert np.array_equal(store.pixels(uid, pos), cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
        assert [(lab.a, lab.b, lab.label, lab.kind) for lab in store.labels(uid)] == [
            (0, 2, 2, "compare"), (1, 0, 0, "compare")]
        s = store.stats()
        assert (s["bursts"], s["frames"], s["labels"], s["labelled_bursts"]) == (1, 5, 2, 1)


def test_keeping_the_same_burst_twice_keeps_it_once(tmp_path):
    with LabelStore(tmp_path) as store:
        b, s = make_burst()
        uid = store.add_burst(b, s, scorer_name="x", scorer_version="1", positions=[1, 3])
        assert [f.pos for f in store.burst(uid).frames] == [1, 3]
        assert store.add_burst(b, s, scorer_name="x", scorer_version="1") == uid
        assert [f.pos for f in store.burst(uid).frames] == [0, 1, 2, 3, 4]
        other = keep(store, t0=10**9)
        assert other != uid and len(store.bursts()) == 2


def test_foreign_keys_are_enforced(tmp_path):
    with LabelStore(tmp_path) as store:
        uid = keep(store, n=3)
        with pytest.raises(LabelsError, match="no kept frame at position 7"):
            store.add_label(uid, 0, 7, 1)
        with pytest.raises(LabelsError, match="no burst"):
            store.add_label("nope", 0, 1, 1)
        with pytest.raises(LabelsError, match="not 0, 1 or 2"):
            store.add_label(uid, 0, 1, 3)
        with pytest.raises(LabelsError, match="itself"):
            store.add_label(uid, 1, 1, 1)
        store.add_label(uid, 0, 1, 1)
        store.delete_burst(uid)  # cascades to frames and labels
        assert store.labels() == [] and store.bursts() == []
        assert not (tmp_path / "bursts" / uid).exists()
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO frames (burst_id, pos, file, t_ns, attributes) "
                   "VALUES (42, 0, 'f.jpg', 0, '{}')")
    db.close()


def test_a_database_from_a_newer_app_or_not_ours_is_refused(tmp_path):
    LabelStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    with db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.close()
    with pytest.raises(LabelsError, match=f"schema version {SCHEMA_VERSION + 1}.*update viewfinder"):
        LabelStore(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    db = sqlite3.connect(other / DB_NAME)
    db.execute("CREATE TABLE photos (x)")
    db.close()
    with pytest.raises(LabelsError, match="not a labels database"):
        LabelStore(other)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / DB_NAME).write_bytes(b"this is no database" * 100)
    with pytest.raises(LabelsError, match="not a usable labels database"):
        LabelStore(junk)


def test_undo_removes_the_latest_label_of_its_kind(tmp_path):
    with LabelStore(tmp_path) as store:
        uid = keep(store)
        store.add_label(uid, 0, 1, 1)
        store.add_label(uid, 2, 1, 2)
        store.add_label(uid, 3, 0, 1, kind="choice")
        assert store.undo(uid).b == 1 and store.undo(uid).a == 0
        assert store.undo(uid) is None
        assert [lab.kind for lab in store.labels(uid)] == ["choice"]


def test_choosing_another_frame_than_the_pick_is_a_label(tmp_path):
    with LabelStore(tmp_path) as store:
        b, s = make_burst()
        kw = dict(pick_pos=0, scorer_name="fused", scorer_version="1", source="Camera 0")
        assert record_choice(store, b, s, chosen_pos=0, **kw) is None  # agreeing: nothing kept
        assert store.bursts() == []
        uid = record_choice(store, b, s, chosen_pos=3, keep_burst=False, **kw)
        assert [f.pos for f in store.burst(uid).frames] == [0, 3]  # only the two frames
        assert [(x.a, x.b, x.label, x.kind) for x in store.labels()] == [(3, 0, 1, "choice")]
        assert record_choice(store, b, s, chosen_pos=2, **kw) == uid  # changed their mind
        assert [(x.a, x.b, x.label) for x in store.labels()] == [(2, 0, 1)]
        assert len(store.burst(uid).frames) == 5
        assert record_choice(store, b, s, chosen_pos=0, **kw) == uid  # back to the pick
        assert store.labels() == []


def test_a_pair_labelled_twice_keeps_the_latest_label(tmp_path):
    with LabelStore(tmp_path) as store:
        uid = keep(store)
        store.add_label(uid, 0, 1, 2)
        store.add_label(uid, 2, 3, 1)
        store.add_label(uid, 1, 0, 1)
        assert [(x.a, x.b, x.label) for x in latest_pairs(store.labels())] == [(2, 3, 1), (1, 0, 1)]


def test_the_export_is_a_dataset_that_eval_reads(tmp_path, capsys):
    data = tmp_path / "data"
    with LabelStore(data) as store:
        u1 = keep(store)  # frame 0 sharpest ... frame 4 blurriest
        u2 = keep(store, n=4, t0=10**10, now=datetime(2026, 3, 2))
        keep(store, n=3, t0=2 * 10**10)  # kept, never labelled: not exported
        store.add_label(u1, 0, 1, 2)
        store.add_label(u1, 2, 1, 1)  # frame 2 better than 1: sharpness gets this wrong
        store.add_label(u1, 0, 3, 0)  # equal: not scored
        store.add_label(u2, 1, 2, 1)
        store.add_label(u2, 2, 1, 2)  # the user changed their mind: 2 >> 1 wins
    out = tmp_path / "export"
    assert main(["labels", "export", str(out), "--data-dir", str(data)]) == 0
    assert "exported 4 labelled pairs of 2 bursts (9 frames)" in capsys.readouterr().out
    ds = load_dataset(out)
    assert [b.id for b in ds.bursts] == [u1, u2]
    assert (out / "pairs.csv").read_text().splitlines() == [
        "burst,a,b,label", f"{u1},frame_00.jpg,frame_01.jpg,2", f"{u1},frame_02.jpg,frame_01.jpg,1",
        f"{u1},frame_00.jpg,frame_03.jpg,0", f"{u2},frame_02.jpg,frame_01.jpg,2"]
    labels = {b.burst: b for b in burst_labels(ds)}
    r1 = evaluate_burst(labels[u1], [5, 4, 3, 2, 1])  # the stored scores: frame 0 best
    assert (r1.correct, r1.n_pairs, r1.hits[0]) == (1, 2, 1.0)
    r2 = evaluate_burst(labels[u2], [4, 3, 2, 1])
    assert (r2.correct, r2.n_pairs, r2.hits[0]) == (0, 1, 1.0)  # frame 0 has no label against it
    assert read_image(out / "bursts" / u1 / "frame_02.jpg").shape == (48, 64, 3)
    # and `python -m viewfinder eval` reads it: sharpness ranks frame 0 > 1 > 2 in both bursts
    assert main(["eval", str(out), "--scorer", "sharpness", "--json", "--bootstrap", "20"]) == 0
    sharp = json.loads(capsys.readouterr().out)["scorers"]["sharpness"]
    assert (sharp["n_bursts"], sharp["n_pairs"]) == (2, 3)
    assert sharp["pairwise"] == pytest.approx(1 / 3)
    # never into a folder that holds something, and not without labels
    assert main(["labels", "export", str(out), "--data-dir", str(data)]) == 1
    assert "exists and is not empty" in capsys.readouterr().err
    with LabelStore(tmp_path / "empty") as store:
        keep(store)
        with pytest.raises(LabelsError, match="nothing to export"):
            store.export(tmp_path / "e2")
    assert not (tmp_path / "e2").exists()


def test_labels_stats_on_the_command_line(tmp_path, capsys):
    assert main(["labels", "stats", "--data-dir", str(tmp_path / "none")]) == 1
    assert "no labels yet" in capsys.readouterr().err
    with LabelStore(tmp_path) as store:
        uid = keep(store, n=3)
        store.add_label(uid, 0, 1, 1)
        store.add_label(uid, 1, 2, 1, kind="choice")
    assert main(["labels", "stats", "--data-dir", str(tmp_path), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["bursts"], s["labels"], s["labels_by_kind"]) == (1, 2, {"compare": 1, "choice": 1})
    assert s["ranker"] == "shipped ranker"
    assert s["comparisons_left"] >= 1 and s["finished_bursts"] == 0
    assert main(["labels", "stats", "--data-dir", str(tmp_path)]) == 0
    assert "comparisons left" in capsys.readouterr().out
