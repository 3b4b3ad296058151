"""The user's own labels: kept bursts, their frames on disk, and pairwise judgements, in SQLite.

Stage: beside the flow, after ranking. The app keeps a burst (frames + each frame's scorer value
and attributes, so personalisation needs no re-scoring), the labelling screen adds pairwise
labels, and choosing a different frame than the app's pick records one too (`record_choice`).
`export` writes the burst dataset format of docs/cli.md, so `python -m viewfinder eval` and the
training read the user's labels like any other data set.

Pure Python (sqlite3, OpenCV for JPEG), no Qt. A LabelStore belongs to the thread that opened
it (sqlite3's rule); open another store on another thread. Every problem raises LabelsError with
one line naming the file.

On disk, in the app's data folder (`default_data_dir()`):
    labels.db                      schema_version, bursts, frames, labels (foreign keys ON)
    bursts/<uid>/frame_NN.jpg      the kept frames, written atomically (temp, fsync, rename)
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from viewfinder.frames import Burst, Score

SCHEMA_VERSION = 1
DB_NAME = "labels.db"
FRAMES_DIR = "bursts"
JPEG_QUALITY = 95
KINDS = ("compare", "choice")  # from the labelling screen / from picking another frame

_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE bursts (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,            -- folder name under bursts/ and burst id in exports
    key TEXT NOT NULL UNIQUE,            -- identifies the in-memory Burst (source, frame times)
    created TEXT NOT NULL,               -- ISO 8601, local time
    source TEXT NOT NULL,                -- e.g. "Camera 0"
    scorer TEXT NOT NULL,
    scorer_version TEXT NOT NULL,
    shutter_pos INTEGER NOT NULL,
    pick_pos INTEGER                     -- the app's best frame (burst position)
);
CREATE TABLE frames (
    burst_id INTEGER NOT NULL REFERENCES bursts(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL CHECK (pos >= 0),  -- position in the burst (capture order)
    file TEXT NOT NULL,                  -- file name inside bursts/<uid>/
    t_ns INTEGER NOT NULL,
    score REAL,                          -- the scorer's value; NULL when unscored
    attributes TEXT NOT NULL,            -- JSON object name -> number
    PRIMARY KEY (burst_id, pos)
);
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    burst_id INTEGER NOT NULL REFERENCES bursts(id) ON DELETE CASCADE,
    a INTEGER NOT NULL,                  -- at least as good as b (burst positions)
    b INTEGER NOT NULL,
    label INTEGER NOT NULL CHECK (label IN (0, 1, 2)),  -- 0 equal, 1 marginally, 2 significantly
    kind TEXT NOT NULL CHECK (kind IN ('compare', 'choice')),
    created TEXT NOT NULL,
    CHECK (a != b),
    FOREIGN KEY (burst_id, a) REFERENCES frames(burst_id, pos) ON DELETE CASCADE,
    FOREIGN KEY (burst_id, b) REFERENCES frames(burst_id, pos) ON DELETE CASCADE
);
CREATE INDEX labels_by_burst ON labels(burst_id, id);
"""


class LabelsError(RuntimeError):
    """A one-line, actionable message naming the database, folder or burst at fault."""


def default_data_dir() -> Path:
    """The app's data folder: $VIEWFINDER_DATA_DIR, else the platform's per-user data folder
    (~/.local/share/viewfinder on Linux, honouring $XDG_DATA_HOME)."""
    env = os.environ.get("VIEWFINDER_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "Viewfinder"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Viewfinder"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "viewfinder"


@dataclass(frozen=True)
class StoredFrame:
    pos: int  # position in the burst
    path: Path
    t_ns: int
    score: float | None
    attributes: Mapping[str, float]


@dataclass(frozen=True)
class StoredBurst:
    uid: str
    created: str
    source: str
    scorer: str
    scorer_version: str
    shutter_pos: int
    pick_pos: int | None
    frames: tuple[StoredFrame, ...]  # capture order; a subset of the burst's positions is possible

    def frame(self, pos: int) -> StoredFrame:
        for f in self.frames:
            if f.pos == pos:
                return f
        raise LabelsError(f"burst {self.uid} has no frame at position {pos}")


@dataclass(frozen=True)
class Label:
    id: int
    burst: str  # uid
    a: int  # at least as good as b (burst positions)
    b: int
    label: int  # 0 equal, 1 a marginally better, 2 a significantly better
    kind: str  # "compare" or "choice"
    created: str


def _now(now: datetime | None) -> str:
    return (now or datetime.now()).isoformat(timespec="milliseconds")


def _finite(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _burst_key(burst: Burst, source: str) -> str:
    times = ",".join(str(f.t_ns) for f in burst.frames)
    return f"{source}|{burst.press_t_ns}|{times}"


def _write_atomic(path: Path, data: bytes) -> None:
    """temp file in the same folder, flushed, fsynced, then renamed over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _jpeg(pixels: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise LabelsError(f"cannot encode a {pixels.shape} frame as JPEG")
    return buf.tobytes()


class LabelStore:
    """The labels database and the kept frames in one data folder."""

    def __init__(self, data_dir: Path | None = None):
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.path = self.data_dir / DB_NAME
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=5.0)
        except (OSError, sqlite3.Error) as e:
            raise LabelsError(f"cannot open labels database {self.path}: {e}") from None
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            # WAL: a commit per answer without an fsync each (a crash of the app loses nothing;
            # a power cut may lose the last answers, never the database)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise LabelsError(f"{self.path} is not a usable labels database: {e}") from None
        except LabelsError:
            self._db.close()
            raise

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _migrate(self) -> None:
        has = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
        if not has:
            tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise LabelsError(f"{self.path} is an SQLite file but not a labels database")
            self._db.executescript(f"BEGIN; {_SCHEMA} INSERT INTO schema_version VALUES "
                                   f"({SCHEMA_VERSION}); COMMIT;")
            return
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else None
        if version != SCHEMA_VERSION:
            raise LabelsError(f"{self.path} has schema version {version}, this app reads "
                              f"version {SCHEMA_VERSION}" + (": update viewfinder" if
                                                             (version or 0) > SCHEMA_VERSION else ""))

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("SELECT version FROM schema_version").fetchone()[0])

    def frames_dir(self, uid: str) -> Path:
        return self.data_dir / FRAMES_DIR / uid

    # -- writing ----------------------------------------------------------------------------
    def _burst_row(self, uid: str) -> int:
        row = self._db.execute("SELECT id FROM bursts WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            raise LabelsError(f"no burst {uid!r} in {self.path}")
        return row[0]

    def find_burst(self, burst: Burst, source: str = "") -> str | None:
        """The uid of this in-memory burst if it was kept already."""
        row = self._db.execute("SELECT uid FROM bursts WHERE key = ?",
                               (_burst_key(burst, source),)).fetchone()
        return row[0] if row else None

    def add_burst(self, burst: Burst, scores: Sequence[Score | None], *, scorer_name: str,
                  scorer_version: str, pick_pos: int | None = None, source: str = "",
                  positions: Sequence[int] | None = None, now: datetime | None = None) -> str:
        """Keep a burst: its frames (all, or those at `positions`) as JPEG files and one row per
        frame with the scorer's value and attributes. Returns the burst's uid. Keeping the same
        burst again returns the uid it already has (adding frames that were not kept yet)."""
        n = len(burst.frames)
        if len(scores) != n:
            raise LabelsError(f"{len(scores)} scores for a burst of {n} frames")
        keep = sorted(set(range(n) if positions is None else positions))
        if not keep or keep[0] < 0 or keep[-1] >= n:
            raise LabelsError(f"frame positions {list(positions or [])} are outside a burst of {n}")
        if pick_pos is not None and not 0 <= pick_pos < n:
            raise LabelsError(f"pick position {pick_pos} is outside a burst of {n} frames")
        uid = self.find_burst(burst, source)
        if uid is None:
            uid = self._new_uid(now)
            with self._db:
                self._db.execute(
                    "INSERT INTO bursts (uid, key, created, source, scorer, scorer_version, "
                    "shutter_pos, pick_pos) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (uid, _burst_key(burst, source), _now(now), source, scorer_name,
                     scorer_version, burst.shutter_pos, pick_pos))
        burst_id = self._burst_row(uid)
        have = {r[0] for r in self._db.execute("SELECT pos FROM frames WHERE burst_id = ?",
                                               (burst_id,))}
        todo = [p for p in keep if p not in have]
        if not todo:
            return uid
        folder = self.frames_dir(uid)
        width = max(2, len(str(n - 1)))
        written: list[Path] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            rows = []
            for p in todo:
                path = folder / f"frame_{p:0{width}d}.jpg"
                _write_atomic(path, _jpeg(burst.frames[p].pixels))
                written.append(path)
                s = scores[p]
                attrs = {} if s is None else {k: v for k, v in
                                              ((k, _finite(v)) for k, v in s.attributes.items())
                                              if v is not None}
                rows.append((burst_id, p, path.name, int(burst.frames[p].t_ns),
                             None if s is None else _finite(s.value), json.dumps(attrs)))
            with self._db:
                self._db.executemany("INSERT INTO frames (burst_id, pos, file, t_ns, score, "
                                     "attributes) VALUES (?, ?, ?, ?, ?, ?)", rows)
        except (OSError, sqlite3.Error) as e:
            for path in written:
                path.unlink(missing_ok=True)
            if not have:  # nothing of this burst survives: forget it entirely
                with self._db:
                    self._db.execute("DELETE FROM bursts WHERE id = ?", (burst_id,))
            raise LabelsError(f"cannot keep burst {uid} in {folder}: {e}") from None
        return uid

    def _new_uid(self, now: datetime | None) -> str:
        stem = (now or datetime.now()).strftime("%Y%m%d_%H%M%S_%f")[:-3]
        for n in range(1, 1000):
            uid = stem if n == 1 else f"{stem}-{n}"
            taken = self._db.execute("SELECT 1 FROM bursts WHERE uid = ?", (uid,)).fetchone()
            if not taken and not self.frames_dir(uid).exists():
                return uid
        raise LabelsError(f"no free burst name for {stem} in {self.data_dir / FRAMES_DIR}")

    def add_label(self, uid: str, a: int, b: int, label: int, kind: str = "compare",
                  now: datetime | None = None) -> Label:
        """Frame `a` is at least as good as frame `b` (burst positions); label 0 equal,
        1 marginally better, 2 significantly better."""
        if label not in (0, 1, 2):
            raise LabelsError(f"label {label} is not 0, 1 or 2")
        if kind not in KINDS:
            raise LabelsError(f"label kind {kind!r} is not one of {', '.join(KINDS)}")
        if a == b:
            raise LabelsError(f"burst {uid}: a frame cannot be compared with itself ({a})")
        burst_id = self._burst_row(uid)
        created = _now(now)
        try:
            with self._db:
                cur = self._db.execute("INSERT INTO labels (burst_id, a, b, label, kind, created) "
                                       "VALUES (?, ?, ?, ?, ?, ?)",
                                       (burst_id, a, b, label, kind, created))
        except sqlite3.IntegrityError:
            kept = {r[0] for r in self._db.execute("SELECT pos FROM frames WHERE burst_id = ?",
                                                   (burst_id,))}
            missing = ", ".join(str(p) for p in (a, b) if p not in kept)
            raise LabelsError(f"burst {uid} has no kept frame at position {missing}") from None
        return Label(cur.lastrowid, uid, a, b, label, kind, created)

    def undo(self, uid: str, kind: str = "compare") -> Label | None:
        """Remove the burst's latest label of this kind; returns it (None when there is none)."""
        labels = self.labels(uid, kind)
        if not labels:
            return None
        with self._db:
            self._db.execute("DELETE FROM labels WHERE id = ?", (labels[-1].id,))
        return labels[-1]

    def delete_burst(self, uid: str) -> None:
        """Forget a burst, its labels and its frame files."""
        burst_id = self._burst_row(uid)
        with self._db:
            self._db.execute("DELETE FROM bursts WHERE id = ?", (burst_id,))
        shutil.rmtree(self.frames_dir(uid), ignore_errors=True)

    # -- reading ----------------------------------------------------------------------------
    def bursts(self) -> list[StoredBurst]:
        """Every kept burst, oldest first."""
        return [self._read_burst(row) for row in self._db.execute(
            "SELECT id, uid, created, source, scorer, scorer_version, shutter_pos, pick_pos "
            "FROM bursts ORDER BY id")]

    def burst(self, uid: str) -> StoredBurst:
        row = self._db.execute("SELECT id, uid, created, source, scorer, scorer_version, "
                               "shutter_pos, pick_pos FROM bursts WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            raise LabelsError(f"no burst {uid!r} in {self.path}")
        return self._read_burst(row)

    def _read_burst(self, row) -> StoredBurst:
        burst_id, uid = row[0], row[1]
        folder = self.frames_dir(uid)
        frames = tuple(
            StoredFrame(pos, folder / file, t_ns, score, json.loads(attrs))
            for pos, file, t_ns, score, attrs in self._db.execute(
                "SELECT pos, file, t_ns, score, attributes FROM frames WHERE burst_id = ? "
                "ORDER BY pos", (burst_id,)))
        return StoredBurst(uid, *row[2:], frames=frames)

    def labels(self, uid: str | None = None, kind: str | None = None) -> list[Label]:
        """Labels in the order they were given (of one burst and/or one kind if asked)."""
        sql = ("SELECT labels.id, bursts.uid, a, b, label, kind, labels.created FROM labels "
               "JOIN bursts ON bursts.id = labels.burst_id WHERE 1")
        args: list = []
        if uid is not None:
            sql += " AND bursts.uid = ?"
            args.append(uid)
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        return [Label(*r) for r in self._db.execute(sql + " ORDER BY labels.id", args)]

    def pixels(self, uid: str, pos: int) -> np.ndarray:
        """(H, W, 3) uint8 BGR of a kept frame."""
        path = self.burst(uid).frame(pos).path
        data = np.fromfile(str(path), np.uint8) if path.is_file() else np.zeros(0, np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if img is None:
            raise LabelsError(f"kept frame is missing or unreadable: {path}")
        return img

    def stats(self) -> dict:
        one = lambda sql: self._db.execute(sql).fetchone()[0]  # noqa: E731
        by_kind = dict(self._db.execute("SELECT kind, count(*) FROM labels GROUP BY kind"))
        by_value = dict(self._db.execute("SELECT label, count(*) FROM labels GROUP BY label"))
        return {"data_dir": str(self.data_dir), "schema_version": self.schema_version,
                "bursts": one("SELECT count(*) FROM bursts"),
                "frames": one("SELECT count(*) FROM frames"),
                "labelled_bursts": one("SELECT count(DISTINCT burst_id) FROM labels"),
                "labels": sum(by_kind.values()),
                "labels_by_kind": {k: by_kind.get(k, 0) for k in KINDS},
                "labels_by_value": {str(v): by_value.get(v, 0) for v in (0, 1, 2)},
                "pairs": len(latest_pairs(self.labels()))}

    # -- export -----------------------------------------------------------------------------
    def export(self, dest: Path) -> dict:
        """Write the labelled bursts as a burst dataset (docs/cli.md): DEST/bursts/<uid>/<frames>
        and DEST/pairs.csv. DEST must not exist or be empty; it appears complete or not at all.
        A pair labelled more than once keeps its latest label. Returns counts."""
        dest = Path(dest)
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise LabelsError(f"export folder {dest} exists and is not empty: choose a new one")
        pairs = latest_pairs(self.labels())
        if not pairs:
            raise LabelsError(f"no labels yet in {self.path}: nothing to export")
        uids = sorted({p.burst for p in pairs})
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        except OSError as e:
            raise LabelsError(f"cannot create export folder {dest}: {e.strerror or e}") from None
        try:
            files = {}
            for uid in uids:
                b = self.burst(uid)
                out = tmp / "bursts" / uid
                out.mkdir(parents=True)
                for f in b.frames:
                    if not f.path.is_file():
                        raise LabelsError(f"kept frame is missing: {f.path}")
                    shutil.copyfile(f.path, out / f.path.name)
                files[uid] = {f.pos: f.path.name for f in b.frames}
            text = io.StringIO()
            w = csv.writer(text, lineterminator="\n")
            w.writerow(["burst", "a", "b", "label"])
            for p in pairs:
                w.writerow([p.burst, files[p.burst][p.a], files[p.burst][p.b], p.label])
            (tmp / "pairs.csv").write_text(text.getvalue(), encoding="utf-8")
            if dest.exists():
                dest.rmdir()
            os.replace(tmp, dest)
        except OSError as e:
            raise LabelsError(f"cannot export to {dest}: {e.strerror or e}") from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return {"bursts": len(uids), "frames": sum(len(v) for v in files.values()),
                "pairs": len(pairs), "path": str(dest)}


def latest_pairs(labels: Sequence[Label]) -> list[Label]:
    """One label per unordered pair of a burst, the latest given (labels in the order given)."""
    latest: dict[tuple[str, frozenset], Label] = {}
    for lab in labels:
        key = (lab.burst, frozenset((lab.a, lab.b)))
        latest.pop(key, None)  # re-insert: keeps the order of the latest judgements
        latest[key] = lab
    return list(latest.values())


def record_choice(store: LabelStore, burst: Burst, scores: Sequence[Score | None], *,
                  chosen_pos: int, pick_pos: int, scorer_name: str, scorer_version: str,
                  source: str = "", keep_burst: bool = True) -> str | None:
    """The user kept another frame than the app's pick: a label "chosen marginally better than
    pick" (1). Keeps the burst first if needed (all frames, or only these two when `keep_burst`
    is False). One choice per burst: a new choice replaces the earlier one, and choosing the
    pick again withdraws it. Returns the burst's uid (None when nothing was recorded)."""
    uid = store.find_burst(burst, source)
    if uid is None and chosen_pos == pick_pos:
        return None
    positions = None if keep_burst else sorted({chosen_pos, pick_pos})
    uid = store.add_burst(burst, scores, scorer_name=scorer_name, scorer_version=scorer_version,
                          pick_pos=pick_pos, source=source, positions=positions)
    while store.undo(uid, kind="choice") is not None:
        pass
    if chosen_pos != pick_pos:
        store.add_label(uid, chosen_pos, pick_pos, 1, kind="choice")
    return uid
