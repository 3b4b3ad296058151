"""Ranker thread: personalise the ranker, or switch between the shipped and the personal one.

MainWindow -> [RankerThread] -> MainWindow -> ScoringThread.set_scorer. viewfinder.personalize
reads the label database and writes personal_ranker.json, and building the fused scorer loads
its ONNX models: neither belongs on the GUI thread. One job at a time on a short-lived thread
(`start_*` refuses while one runs); the LabelStore it needs is opened on that thread (sqlite's
rule). The result, with the scorer to use next, comes back by signal.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from viewfinder.labels import LabelsError, LabelStore
from viewfinder.personalize import (PersonalResult, RankerInfo, active_ranker,
                                    make_active_scorer, personalize, set_active)
from viewfinder.scoring import Scorer


@dataclass(frozen=True, eq=False)
class RankerJobResult:
    kind: str  # "personalise" or "switch"
    message: str  # one line for the user
    personal: PersonalResult | None = None  # personalise: what was measured, switched or not
    info: RankerInfo | None = None  # which ranker is active now (None when unreadable)
    scorer: Scorer | None = None  # the scorer to use from now on (None: keep the current one)
    error: str = ""  # one line, when the job could not run


class RankerThread(QObject):
    finished_job = Signal(object)  # RankerJobResult

    def __init__(self, data_dir: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir  # None: viewfinder.labels.default_data_dir()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_personalise(self) -> bool:
        """Fit, measure on held-out labels, switch if not worse. False if a job is running."""
        return self._start(self._personalise)

    def start_switch(self, personal: bool) -> bool:
        """Switch to the personal ranker (`personal`) or back to the shipped one."""
        return self._start(lambda: self._switch(personal))

    def stop(self, timeout: float = 1.0) -> bool:
        """Wait for a running job (it cannot be interrupted; it takes well under a second)."""
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)
        return not self.busy

    def _start(self, job) -> bool:
        if self.busy:
            return False
        self._thread = threading.Thread(target=self._run, args=(job,), name="viewfinder-ranker")
        self._thread.start()
        return True

    # --- ranker thread -------------------------------------------------------------------
    def _run(self, job) -> None:
        try:
            result = job()
        except Exception as exc:  # noqa: BLE001 - a bug here must not leave the window waiting
            result = RankerJobResult("error", f"Ranker job failed: {_line(exc)}", error=_line(exc))
        self.finished_job.emit(result)

    def _personalise(self) -> RankerJobResult:
        try:
            with LabelStore(self.data_dir) as store:
                result = personalize(store)
        except LabelsError as exc:
            return RankerJobResult("personalise", f"Not personalised: {_line(exc)}",
                                   error=_line(exc))
        if not result.activated:
            return RankerJobResult("personalise", result.message, result, self._info())
        scorer, info, error = self._scorer()
        message = result.message if not error else f"{result.message} But {error}."
        return RankerJobResult("personalise", message, result, info, scorer, error)

    def _switch(self, personal: bool) -> RankerJobResult:
        try:
            set_active(personal, self.data_dir)
        except LabelsError as exc:
            return RankerJobResult("switch", f"Not switched: {_line(exc)}", info=self._info(),
                                   error=_line(exc))
        scorer, info, error = self._scorer()
        if scorer is None:
            return RankerJobResult("switch", f"Not switched: {error}", info=info, error=error)
        return RankerJobResult("switch", f"Now using the {info.describe()}", info=info,
                               scorer=scorer)

    def _scorer(self) -> tuple[Scorer | None, RankerInfo | None, str]:
        """(the scorer for the active ranker, its info, error) — a ranker that cannot be built
        leaves the current scorer in place."""
        try:
            scorer, info = make_active_scorer(self.data_dir)
        except Exception as exc:  # noqa: BLE001 - broken model or weights: keep what runs
            return None, self._info(), f"the ranker could not be loaded: {_line(exc)}"
        return scorer, info, ""

    def _info(self) -> RankerInfo | None:
        try:
            return active_ranker(self.data_dir)
        except LabelsError:
            return None


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
