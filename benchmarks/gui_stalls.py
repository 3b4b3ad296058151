"""GUI-thread stalls of the live window, each checked against the machine.

    python benchmarks/gui_stalls.py [--fps 30] [--seconds 20] [--press-every 2] [--scorer NAME]

Runs MainWindow offscreen on the synthetic scene (shutter every 2 s, auto-save) with a 5 ms
heartbeat timer on the GUI thread, like `python -m viewfinder bench --only live`, and at the same
time one idle process per CPU, pinned to it, that only sleeps 5 ms in a loop. A GUI stall that
every idle process also saw (within 30 ms) is the machine: on a shared virtual machine the CPUs
are now and then taken away for ~100 ms, and no code in this process can avoid that. One that
only one CPU's sleeper saw is likely that CPU being taken away under the GUI thread, or under
another of the app's threads holding the GIL. Prints the stalls over 20 ms, split so.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HEARTBEAT_MS = 5
STALL_MS = 20.0
SLEEPER = """
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[2])})
end = time.perf_counter() + float(sys.argv[1])
last = time.perf_counter()
while last < end:
    time.sleep(0.005)
    now = time.perf_counter()
    if (now - last) * 1000 - 5 > 20:
        print(f"{last:.4f} {now:.4f}", flush=True)
    last = now
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--press-every", type=float, default=2.0)
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
    tmp = Path(tempfile.mkdtemp(prefix="vf-stalls-"))
    (tmp / "photos").mkdir()
    config = AppConfig(source="synthetic", save=SaveConfig(folder=tmp / "photos"), mirror=False)
    w = MainWindow(config, scorer, settings=open_settings(tmp / "s.ini"),
                   source=SyntheticSource(size=LIVE_SIZE, fps=args.fps), interactive=False)
    w.resize(1280, 800)
    w.show()
    warmup = 1.5
    # perf_counter is CLOCK_MONOTONIC on Linux: the two processes' times compare directly
    cpus = sorted(os.sched_getaffinity(0))
    sleepers = [subprocess.Popen([sys.executable, "-c", SLEEPER, str(args.seconds + warmup + 1),
                                  str(cpu)], stdout=subprocess.PIPE, text=True) for cpu in cpus]
    stalls: list[tuple[float, float]] = []
    last = [0.0]
    measuring = [False]

    def beat() -> None:
        now = time.perf_counter()
        if measuring[0] and (now - last[0]) * 1000 - HEARTBEAT_MS > STALL_MS:
            stalls.append((last[0], now))
        last[0] = now

    def start() -> None:
        measuring[0] = True
        last[0] = time.perf_counter()
        if args.press_every > 0:
            w.press_shutter()
            presser.start()

    heartbeat = QTimer(interval=HEARTBEAT_MS, timerType=Qt.TimerType.PreciseTimer)
    heartbeat.timeout.connect(beat)
    presser = QTimer(interval=round(max(args.press_every, 0.1) * 1000))
    presser.timeout.connect(w.press_shutter)
    heartbeat.start()
    QTimer.singleShot(round(warmup * 1000), start)
    QTimer.singleShot(round((warmup + args.seconds) * 1000), app.quit)
    app.exec()
    heartbeat.stop()
    presser.stop()
    w.close()
    w.shutdown()
    per_cpu = [[tuple(map(float, line.split())) for line in p.communicate()[0].splitlines()
                if line.strip()] for p in sleepers]
    return report(stalls, per_cpu, args, name)


def report(stalls, per_cpu, args, name) -> int:
    def saw(sleeper, a: float, b: float) -> bool:
        return any(ma < b + 0.03 and mb > a - 0.03 for ma, mb in sleeper)

    def ms(a: float, b: float) -> float:
        return (b - a) * 1000 - HEARTBEAT_MS

    every = [s for s in stalls if all(saw(c, *s) for c in per_cpu)]
    some = [s for s in stalls if any(saw(c, *s) for c in per_cpu) and s not in every]
    ours = [ms(*s) for s in stalls if s not in every and s not in some]
    longest = max((ms(*s) for s in stalls), default=0)
    print(f"scorer {name}, {args.fps:g} fps, {args.seconds:g} s, shutter every "
          f"{args.press_every:g} s; idle sleepers pinned to CPUs {len(per_cpu)}, their stalls: "
          f"{', '.join(str(len(c)) for c in per_cpu)}")
    print(f"GUI stalls > {STALL_MS:g} ms: {len(stalls)} (max {longest:.0f} ms)"
          f"; every CPU's idle sleeper stalled too: {len(every)}; one CPU's: {len(some)} "
          f"(max {max((ms(*s) for s in some), default=0):.0f} ms)")
    print(f"with no idle sleeper stalled: {len(ours)}, max {max(ours, default=0):.0f} ms "
          f"({', '.join(f'{x:.0f}' for x in sorted(ours, reverse=True)[:12])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
