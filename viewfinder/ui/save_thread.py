"""Save thread: the only place the app writes photos (storage.save_best), off the GUI thread.

MainWindow -> [SaveThread] -> storage -> MainWindow. Jobs run in order; `stop()` finishes the
queued jobs (a pending save completes) before the thread ends. With "keep the whole burst" on,
every frame of the burst also goes to viewfinder.labels (for labelling and the personal ranker),
and saving another frame than the app's pick records that choice there; the LabelStore is
opened on this thread (sqlite's rule) and closed when it ends.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal

from viewfinder.frames import Burst, Score
from viewfinder.labels import LabelsError, LabelStore, record_choice
from viewfinder.ranking import Ranking
from viewfinder.storage import SavedPhoto, StorageError, save_best


@dataclass(frozen=True, eq=False)
class SaveJob:
    burst: Burst
    ranking: Ranking
    pos: int  # position in the burst of the frame to save
    folder: Path
    fmt: str
    quality: int
    scorer_name: str
    scorer_version: str
    replaces: SavedPhoto | None = None
    pressed_at: float | None = None  # monotonic time of the shutter press, for the timing
    keep_burst: bool = False  # also keep all frames in the label store
    scores: tuple[Score | None, ...] = ()  # by burst position (for the label store)
    source: str = ""  # source name, stored with a kept burst
    data_dir: Path | None = None  # label store folder (None: labels.default_data_dir())

    def to(self, folder: Path) -> "SaveJob":
        return replace(self, folder=folder)


@dataclass(frozen=True, eq=False)
class SaveResult:
    job: SaveJob
    photo: SavedPhoto | None
    error: str = ""  # one line, when photo is None
    shutter_to_saved_ms: float | None = None
    kept_burst: str = ""  # uid in the label store, when the whole burst was kept
    keep_error: str = ""  # one line: the photo was saved but the burst could not be kept


class SaveThread(QObject):
    finished_job = Signal(object)  # SaveResult (saved or failed)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: queue.Queue[SaveJob | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="viewfinder-save")
        self._busy = threading.Event()
        self._store: LabelStore | None = None  # opened on this thread when first needed

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: SaveJob) -> None:
        self._busy.set()
        self._jobs.put(job)

    @property
    def busy(self) -> bool:
        return self._busy.is_set() or not self._jobs.empty()

    def stop(self, timeout: float = 1.5) -> bool:
        """Finish the queued saves, then end. True if done within `timeout`."""
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        Image.preinit()  # the JPEG/PNG plugins load now, not during the first save (~40 ms)
        while True:
            job = self._jobs.get()
            if job is None:
                if self._store is not None:
                    self._store.close()
                return
            self.finished_job.emit(self._save(job))
            if self._jobs.empty():
                self._busy.clear()

    def _save(self, job: SaveJob) -> SaveResult:
        try:
            photo = save_best(job.burst.frames[job.pos], job.ranking, job.burst,
                              folder=job.folder, fmt=job.fmt, quality=job.quality,
                              scorer_name=job.scorer_name, scorer_version=job.scorer_version,
                              replaces=job.replaces)
        except (StorageError, OSError) as exc:
            return SaveResult(job, None, str(exc).splitlines()[0] or type(exc).__name__)
        ms = (time.monotonic() - job.pressed_at) * 1000.0 if job.pressed_at is not None else None
        uid, keep_error = self._keep_burst(job) if job.keep_burst else ("", "")
        return SaveResult(job, photo, "", ms, uid, keep_error)

    def _keep_burst(self, job: SaveJob) -> tuple[str, str]:
        """(uid, error) after keeping the burst and, for a replaced choice, the user's pick."""
        try:
            if self._store is None or (job.data_dir is not None
                                       and self._store.data_dir != job.data_dir):
                if self._store is not None:
                    self._store.close()
                self._store = None
                self._store = LabelStore(job.data_dir)
            pick = job.ranking.best.pos
            if job.replaces is None:
                uid = self._store.add_burst(job.burst, job.scores, scorer_name=job.scorer_name,
                                            scorer_version=job.scorer_version, pick_pos=pick,
                                            source=job.source)
            else:
                uid = record_choice(self._store, job.burst, job.scores, chosen_pos=job.pos,
                                    pick_pos=pick, scorer_name=job.scorer_name,
                                    scorer_version=job.scorer_version, source=job.source) or ""
        except LabelsError as exc:
            return "", str(exc).splitlines()[0]
        return uid, ""
