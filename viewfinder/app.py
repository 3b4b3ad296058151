"""Entry point of the desktop app: arguments -> source, scorer, output folder -> MainWindow.

`python main.py` or the `viewfinder` console script. Opens the default camera, or the
synthetic scene when there is none (and says so in the window). `--demo` starts the conference
demo mode (fullscreen, countdown, result comparison; see docs/demo.md), which never stops on a
missing camera: it falls back to the synthetic scene. Scripted mode
(`--shutter-after S --quit-after-save`) runs the same GUI pipeline, presses the shutter,
prints the saved path and the shutter-to-saved time, and exits. Errors in what the user
typed give one line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from viewfinder.camera.base import quiet_opencv_logs
from viewfinder.config import AppConfig, BufferConfig

EXIT_USAGE = 2  # bad arguments, source or output folder
EXIT_FAILED = 1  # the scripted run did not save


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage + error; we want one line
        self.exit(EXIT_USAGE, f"viewfinder: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _OneLineParser(prog="viewfinder", description=(
        "Live viewfinder that keeps the best moment: frames before and after the shutter are "
        "scored and only the best one is saved."))
    p.add_argument("--source", help="camera index (0, camera:1), 'synthetic[:SEED[:WxH]]', a "
                   "video file or a folder of images (default: the last used, else camera 0, "
                   "else the synthetic scene)")
    p.add_argument("--scorer", help="scorer name (default, sharpness, ...) or an .onnx file "
                   "exported by `python -m viewfinder export`")
    p.add_argument("--output", type=Path, help="folder for saved photos "
                   "(default: <Pictures>/Viewfinder)")
    p.add_argument("--format", choices=("jpeg", "png"), help="photo format (default jpeg)")
    p.add_argument("--quality", type=int, help="JPEG quality 1-100 (default 95)")
    p.add_argument("--before", type=float, metavar="SECONDS",
                   help="seconds of frames kept before the press (default 0.7)")
    p.add_argument("--after", type=float, metavar="SECONDS",
                   help="seconds of frames taken after the press (default 0.3)")
    p.add_argument("--burst-fps", type=float, metavar="FPS",
                   help="frames per second sampled into the burst (default 10)")
    mirror = p.add_mutually_exclusive_group()
    mirror.add_argument("--mirror", dest="mirror", action="store_true", default=None,
                        help="mirror the preview (default for cameras; photos are never mirrored)")
    mirror.add_argument("--no-mirror", dest="mirror", action="store_false")
    p.add_argument("--no-auto-save", action="store_true",
                   help="do not save the best frame immediately; save from the filmstrip")
    p.add_argument("--shutter-after", type=float, metavar="SECONDS",
                   help="scripted: press the shutter this many seconds after start")
    p.add_argument("--quit-after-save", action="store_true",
                   help="scripted: print the saved path and exit after the first save")
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen")
    p.add_argument("--demo", action="store_true",
                   help="conference demo mode: fullscreen, big overlay, 3-2-1 countdown, "
                   "result screen that returns to live; falls back to the synthetic scene")
    p.add_argument("--countdown", type=int, metavar="SECONDS",
                   help="seconds of countdown before the burst, 0 for none (default: off, "
                   "3 in demo mode)")
    return p


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _check_args(args: argparse.Namespace) -> None:
    if args.before is not None and not 0 <= args.before <= 10:
        raise UsageError(f"--before must be between 0 and 10 seconds, got {args.before}")
    if args.after is not None and not 0 <= args.after <= 10:
        raise UsageError(f"--after must be between 0 and 10 seconds, got {args.after}")
    if args.burst_fps is not None and not 0 < args.burst_fps <= 60:
        raise UsageError(f"--burst-fps must be in (0, 60], got {args.burst_fps}")
    if args.quality is not None and not 1 <= args.quality <= 100:
        raise UsageError(f"--quality must be between 1 and 100, got {args.quality}")
    if args.countdown is not None and not 0 <= args.countdown <= 10:
        raise UsageError(f"--countdown must be between 0 and 10 seconds, got {args.countdown}")
    if args.shutter_after is not None and not 0 <= args.shutter_after <= 3600:
        raise UsageError(f"--shutter-after must be between 0 and 3600 s, got {args.shutter_after}")


def apply_args(config: AppConfig, args: argparse.Namespace) -> AppConfig:
    """Command-line options over the stored settings (for this run only)."""
    b = config.buffer
    buffer = BufferConfig(
        seconds_before=b.seconds_before if args.before is None else args.before,
        seconds_after=b.seconds_after if args.after is None else args.after,
        burst_fps=b.burst_fps if args.burst_fps is None else args.burst_fps,
        settle_seconds=b.settle_seconds)
    save = config.save
    if args.output is not None:
        save = replace(save, folder=args.output.expanduser())
    if args.format is not None:
        save = replace(save, fmt=args.format)
    if args.quality is not None:
        save = replace(save, jpeg_quality=args.quality)
    if args.no_auto_save:
        save = replace(save, auto_save=False)
    return replace(config, source=args.source or config.source,
                   scorer=args.scorer or config.scorer, buffer=buffer, save=save,
                   mirror=config.mirror if args.mirror is None else args.mirror)


def check_output_folder(folder: Path) -> None:
    """Create the folder if needed; UsageError if it cannot hold our photos."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output folder {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {folder} is not a writable folder")


def resolve_source(spec: str, *, explicit: bool):
    """(opened source, notice for the window). "auto": camera 0, else the synthetic scene.

    An explicit source that cannot be opened is a UsageError; a remembered one falls back to
    the synthetic scene with a notice.
    """
    from viewfinder.camera import SourceError, open_source  # noqa: PLC0415

    if spec != "auto":
        try:
            source = open_source(spec)
            source.open()
            return source, ""
        except SourceError as exc:
            if explicit:
                raise UsageError(str(exc).splitlines()[0]) from None
            notice = f"Could not open the last source ({exc})"
    else:
        try:
            source = open_source("0")
            source.open()
            return source, ""
        except SourceError:
            notice = "No camera found"
    source = open_source("synthetic")
    source.open()
    return source, f"{notice} — showing the synthetic scene. Pick a source from the Source menu."


def make_scorer_or_fallback(name: str):
    """(scorer, warning). A scorer that cannot be built (unknown name; missing, truncated or
    wrong-shaped model) falls back to sharpness, visibly: the warning names the file."""
    from viewfinder.scoring.guarded import load_scorer_or_fallback  # noqa: PLC0415

    scorer, why = load_scorer_or_fallback(name)
    if why is None:
        return scorer, ""
    print(f"viewfinder: warning: {why}", file=sys.stderr)
    return scorer, f"⚠ scorer fallback: sharpness ({why.split(': ', 1)[-1]})"


def make_app_scorer(name: str, data_dir: Path | None = None):
    """(scorer, warning) for the window: with the default scorer, the personal ranker when it
    is switched on (`python -m viewfinder personalize`, or the app's Personalise button)."""
    if name == "default":
        from viewfinder.personalize import active_ranker, make_active_scorer  # noqa: PLC0415

        try:
            if active_ranker(data_dir).personal:
                return make_active_scorer(data_dir)[0], ""
        except Exception as exc:  # noqa: BLE001 - bad personal file or model: start anyway
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"viewfinder: warning: personal ranker unavailable ({why}); using the "
                  "shipped one", file=sys.stderr)
            scorer, warning = make_scorer_or_fallback(name)
            return scorer, warning or f"⚠ personal ranker unavailable ({why})"
    return make_scorer_or_fallback(name)


def _quiet_qt_messages() -> None:
    """Drop the offscreen/xvfb platform's harmless size-hint chatter; keep everything else."""
    from PySide6.QtCore import qInstallMessageHandler  # noqa: PLC0415

    def handler(mode, context, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_opencv_logs()
    from PySide6.QtCore import QTimer  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from viewfinder.ui.settings import load_config, load_ui_config, open_settings  # noqa: PLC0415

    _quiet_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Viewfinder")
    app.setOrganizationName("viewfinder")
    settings = open_settings()
    try:
        _check_args(args)
        config = apply_args(load_config(settings), args)
        check_output_folder(config.save.folder)
        # Demo mode must run in front of a crowd whatever happens: no source is fatal there.
        source, notice = resolve_source(config.source,
                                        explicit=args.source is not None and not args.demo)
    except UsageError as exc:
        print(f"viewfinder: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    scorer, warning = make_app_scorer(config.scorer)
    ui_config = load_ui_config(settings)
    if args.countdown is not None:
        ui_config = replace(ui_config, countdown_s=args.countdown,
                            demo_countdown_s=args.countdown)

    from viewfinder.ui.main_window import MainWindow  # noqa: PLC0415

    scripted = args.shutter_after is not None or args.quit_after_save
    window = MainWindow(config, scorer, settings=settings, source=source, source_open=True,
                        notice=notice, scorer_warning=warning, interactive=not scripted,
                        demo=args.demo, ui_config=ui_config)
    exit_code = [0]

    if args.quit_after_save:
        def on_saved(result) -> None:
            print(result.photo.path, flush=True)
            if result.shutter_to_saved_ms is not None:
                print(f"shutter to saved: {result.shutter_to_saved_ms:.0f} ms "
                      f"({len(result.job.burst.frames)} frames ranked, best at "
                      f"{(result.job.ranking.best.t_ns - result.job.burst.press_t_ns) / 1e9:+.1f}"
                      " s from the press)", flush=True)
            window.close()

        def on_failed(result) -> None:
            print(f"viewfinder: error: save failed: {result.error}", file=sys.stderr)
            exit_code[0] = EXIT_FAILED
            window.close()

        window.photo_saved.connect(on_saved)
        window.save_failed.connect(on_failed)
    if args.shutter_after is not None:
        def press() -> None:  # in demo mode through the countdown, as a presenter would
            window.shoot() if args.demo else window.press_shutter()

        def retry(reason: str) -> None:  # pressed while the camera was still settling
            if window.mode == "live":
                QTimer.singleShot(100, press)

        window.press_ignored.connect(retry)
        QTimer.singleShot(round(args.shutter_after * 1000), press)
    # Ctrl+C in the terminal closes the window cleanly (Python sees the signal between ticks).
    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer(interval=200)
    tick.timeout.connect(lambda: None)
    tick.start()
    if not args.demo:  # demo mode went fullscreen already
        window.showFullScreen() if args.fullscreen else window.show()
    app.exec()
    tick.stop()
    window.shutdown()
    return exit_code[0]


if __name__ == "__main__":
    raise SystemExit(main())
