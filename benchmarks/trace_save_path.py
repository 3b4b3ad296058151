"""Where the time goes between the last post-frame and the saved photo in the real window.

    python benchmarks/trace_save_path.py [--fps 30] [--bursts 5] [--scorer NAME]

Runs MainWindow offscreen on the synthetic scene, presses the shutter every 2 s and stamps each
hop of the burst with a direct-connected slot (it runs on the emitting thread, so it sees the
moment of the emit, not when the receiver gets to it):

  captured  capture thread: last post-frame added, burst handed to the scoring thread
  ranked    scoring thread: scores + rank + previews/thumbs done, BurstReview emitted
  shown     GUI thread: filmstrip filled, review shown, save submitted
  written   save thread: save_best returned (photo + sidecar on disk)
  saved     GUI thread: photo_saved emitted
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--bursts", type=int, default=5)
    ap.add_argument("--scorer", default=None)
    args = ap.parse_args()

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from viewfinder.bench import LIVE_SIZE, live_scorer
    from viewfinder.camera import SyntheticSource
    from viewfinder.config import AppConfig, SaveConfig
    from viewfinder.ui.main_window import MainWindow
    from viewfinder.ui.settings import open_settings

    app = QApplication([sys.argv[0]])
    name, scorer = live_scorer(args.scorer)
    tmp = Path(tempfile.mkdtemp(prefix="vf-trace-"))
    config = AppConfig(source="synthetic", save=SaveConfig(folder=tmp / "photos"), mirror=False)
    (tmp / "photos").mkdir()
    w = MainWindow(config, scorer, settings=open_settings(tmp / "s.ini"),
                   source=SyntheticSource(size=LIVE_SIZE, fps=args.fps), interactive=False)
    w.show()
    rows: list[dict] = []
    cur: dict = {}
    direct = Qt.ConnectionType.DirectConnection

    def stamp(key):
        def slot(*_):
            cur[key] = time.perf_counter()
            if key == "saved":
                rows.append(dict(cur))
                cur.clear()
                if len(rows) >= args.bursts:
                    app.quit()
        return slot

    w.capture.burst_captured.connect(stamp("captured"), direct)
    w.scoring.burst_ranked.connect(stamp("ranked"), direct)
    w.review_shown.connect(stamp("shown"))
    w.saver.finished_job.connect(stamp("written"), direct)
    w.photo_saved.connect(stamp("saved"))
    presser = QTimer(interval=2000)
    presser.timeout.connect(w.press_shutter)
    QTimer.singleShot(1500, lambda: (w.press_shutter(), presser.start()))
    app.exec()
    presser.stop()
    w.close()
    w.shutdown()
    hops = ["captured", "ranked", "shown", "written", "saved"]
    print(f"scorer {name}, {LIVE_SIZE[0]}x{LIVE_SIZE[1]} at {args.fps:g} fps; ms from the previous hop")
    print("burst  " + "  ".join(f"{h:>8}" for h in hops[1:]) + "     total")
    for i, r in enumerate(rows):
        if not all(h in r for h in hops):
            continue
        d = [(r[b] - r[a]) * 1000 for a, b in zip(hops, hops[1:])]
        print(f"{i:5d}  " + "  ".join(f"{x:8.1f}" for x in d) + f"  {sum(d):8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
