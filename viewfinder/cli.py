"""`python -m viewfinder rank|eval|...`: the scorers' headless front door.

    rank PATH    score every frame of a burst folder, a folder of bursts or a video
    eval DATA    the paper's metrics (section 5.1) for each scorer on a burst dataset

Flow: dataset (disk -> pixels) -> scorers -> metrics / report. No Qt, no torch at import time.
Subcommands live in modules that expose `add_subcommands(subparsers)`; each parser sets
`func(args) -> exit code`. To add one, append its module to SUBCOMMAND_MODULES.

Errors: one line on stderr and exit 1 for bad data; argparse's exit 2 for bad usage.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from viewfinder.camera.base import quiet_opencv_logs
from viewfinder.dataset import (IMAGE_SUFFIXES, DatasetError, cut_video, find_bursts, load_dataset,
                                read_image)
from viewfinder.frames import Burst, Frame, Score
from viewfinder.metrics import (TOP_K, BurstResult, burst_labels, evaluate_burst, expected_random,
                                summarize)
from viewfinder.ranking import Ranking, rank
from viewfinder.scoring import ScorerError, make_scorer, scorer_names
from viewfinder.scoring.baselines import BURST_SCORERS, RandomScorer
from viewfinder.storage import StorageError, save_best

# Modules with `add_subcommands(subparsers)`, imported lazily: a missing optional dependency
# (torch for training) hides only that module's subcommands.
SUBCOMMAND_MODULES = (
    "viewfinder.training.cli",  # train, export
    "viewfinder.bench",  # bench
    "viewfinder.labels_cli",  # labels export|stats, personalize
)


class CliError(RuntimeError):
    """A one-line error for the user (bad argument value, unwritable output, failing scorer)."""


# ---------------------------------------------------------------- scorers


def all_scorer_names() -> list[str]:
    """Registered pixel scorers plus the burst-level baselines."""
    return [*scorer_names(), *BURST_SCORERS]


def build_scorer(name: str):
    """A Scorer (pixels -> Score) or a burst-level baseline (has `score_burst`)."""
    if name in BURST_SCORERS:
        return BURST_SCORERS[name]()
    return make_scorer(name)


def score_frames(name: str, scorer, pixels: Sequence[np.ndarray], where: Sequence[str]) -> list[Score]:
    """One Score per frame, in capture order. `where` names each frame for error messages."""
    if hasattr(scorer, "score_burst"):
        return scorer.score_burst(len(pixels))
    scores = []
    for img, label in zip(pixels, where):
        try:
            scores.append(scorer.score(img))
        except Exception as e:  # a broken model must not end in a traceback
            raise CliError(f"scorer {name!r} failed on {label}: {type(e).__name__}: {e}") from None
    return scores


# ---------------------------------------------------------------- output helpers


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Aligned columns: the first `left` columns left-aligned (names), the rest right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def _num(x: float) -> float | None:
    """JSON has no NaN: unknown numbers become null."""
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


# ---------------------------------------------------------------- rank


def _check_folder_target(folder: Path, what: str) -> None:
    """Fail before any work when `folder` can never be a folder (it or a parent is a file)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise CliError(f"{what} {folder}: {existing} is not a folder")


@dataclass(frozen=True, eq=False)
class _LoadedBurst:
    id: str
    names: tuple[str, ...]
    frames: tuple[Frame, ...]  # index: position (folders) or source frame number (videos)
    where: tuple[str, ...]  # how errors name each frame


def _bursts_for_rank(path: Path, burst_size: int, stride: int) -> Iterator[_LoadedBurst]:
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise DatasetError(f"{path} is a single image: give its burst folder, or a video")
        for vb in cut_video(path, burst_size, stride):
            frames = tuple(Frame(index=i, t_ns=round(i * 1e9 / vb.fps) if vb.fps > 0 else 0, pixels=p)
                           for i, p in zip(vb.indices, vb.pixels))
            yield _LoadedBurst(vb.id, vb.names, frames, tuple(f"{path} {n}" for n in vb.names))
        return
    for b in find_bursts(path):
        frames = tuple(Frame(index=i, t_ns=0, pixels=read_image(p)) for i, p in enumerate(b.frames))
        yield _LoadedBurst(b.id, b.names, frames, tuple(str(p) for p in b.frames))


def cmd_rank(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        raise DatasetError(f"not found: {path}")
    scorer = build_scorer(args.scorer)
    save_dir = Path(args.save_best) if args.save_best else None
    if save_dir is not None:
        _check_folder_target(save_dir, "--save-best")
    out_bursts = []
    for lb in _bursts_for_rank(path, args.burst_size, args.stride):
        scores = score_frames(args.scorer, scorer, [f.pixels for f in lb.frames], lb.where)
        # bursts on disk carry no shutter press: the middle frame stands in for it
        burst = Burst(lb.frames, shutter_pos=len(lb.frames) // 2,
                      press_t_ns=lb.frames[len(lb.frames) // 2].t_ns)
        ranking = rank(burst, scores)
        saved = None
        if save_dir is not None:
            saved = save_best(lb.frames[ranking.best.pos], ranking, burst, folder=save_dir,
                              scorer_name=getattr(scorer, "name", args.scorer),
                              scorer_version=str(getattr(scorer, "version", "")))
        if args.json:
            out = {"burst": lb.id, "frames": [
                {"frame": n, "score": _num(s.value),
                 "attributes": {k: _num(v) for k, v in s.attributes.items()}}
                for n, s in zip(lb.names, scores)]}
            if saved is not None:
                out["saved"] = str(saved.path)
            out_bursts.append(out)
        else:
            _print_ranking(args.scorer, lb, scores, ranking, saved)
    if args.json:
        json.dump({"scorer": args.scorer, "bursts": out_bursts}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    return 0


def _print_ranking(scorer: str, lb: _LoadedBurst, scores: list[Score], ranking: Ranking,
                   saved) -> None:
    attrs: list[str] = []
    for s in scores:
        attrs += [k for k in s.attributes if k not in attrs]
    rows = [[lb.names[rf.pos], str(rf.rank), f"{scores[rf.pos].value:.4f}",
             *(f"{scores[rf.pos].attributes[a]:.3f}" if a in scores[rf.pos].attributes else "-"
               for a in attrs)]
            for rf in ranking.frames]
    print(f"{lb.id}  ({len(scores)} frames, scorer {scorer}; best {lb.names[ranking.best.pos]})")
    print(format_table(["frame", "rank", "score", *attrs], rows))
    if saved is not None:
        print(f"saved {saved.path}")
    print()


# ---------------------------------------------------------------- eval


def cmd_eval(args: argparse.Namespace) -> int:
    dataset = load_dataset(Path(args.dataset))
    labels = burst_labels(dataset)
    if not labels:
        raise DatasetError(f"{dataset.root / 'pairs.csv'} lists no pairs: nothing to evaluate")
    if args.bootstrap < 1:
        raise CliError("--bootstrap must be at least 1")
    if args.report is not None:
        _check_folder_target(Path(args.report), "cannot write report into")
    names = list(dict.fromkeys(args.scorer or default_eval_scorers()))
    scorers = {name: build_scorer(name) for name in names}
    need_pixels = args.report is not None or any(not hasattr(s, "score_burst") for s in scorers.values())
    files = {b.id: b.frames for b in dataset.bursts}

    results: dict[str, list[BurstResult]] = {name: [] for name in names}
    values: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    thumbs: dict[str, list[bytes]] = {}
    progress = sys.stderr.isatty() and not args.json
    for i, lab in enumerate(labels, start=1):
        if progress:
            print(f"\rscoring burst {i}/{len(labels)}", end="", file=sys.stderr, flush=True)
        paths = files[lab.burst]
        # each image is read once and scored once per scorer; nothing is cached on disk
        pixels = [read_image(p) for p in paths] if need_pixels else [None] * len(paths)
        if args.report is not None:
            from viewfinder.report import thumbnail  # noqa: PLC0415

            thumbs[lab.burst] = [thumbnail(p) for p in pixels]
        for name, scorer in scorers.items():
            scores = score_frames(name, scorer, pixels, [str(p) for p in paths])
            v = [s.value for s in scores]
            values[name][lab.burst] = v
            random = isinstance(scorer, RandomScorer)
            results[name].append(expected_random(lab) if random else evaluate_burst(lab, v))
    if progress:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr, flush=True)

    summaries = {name: summarize(results[name], n_boot=args.bootstrap, seed=args.seed)
                 for name in names}
    skipped = len(dataset.bursts) - len(labels)
    if args.json:
        out = {"scorers": {name: {
            **{key: _num(e.value) for key, e in summaries[name].items()},
            "n_bursts": len(results[name]),
            "n_pairs": sum(r.n_pairs for r in results[name]),
            "ci": {key: [_num(e.lo), _num(e.hi)] for key, e in summaries[name].items()},
        } for name in names}}
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        cols = ["pairwise", *(f"top{k}" for k in TOP_K)]
        rows = [[name, *(_fmt_estimate(summaries[name][c]) for c in cols), str(len(results[name])),
                 str(sum(r.n_pairs for r in results[name]))] for name in names]
        print(format_table(["scorer", *cols, "n_bursts", "n_pairs"], rows))
        print(f"95% bootstrap intervals over bursts ({args.bootstrap} resamples); "
              "random: exact expectation")
        if skipped:
            print(f"note: {skipped} burst(s) have no pairs in pairs.csv and were not scored")
    if args.report is not None:
        from viewfinder.report import render, write_report  # noqa: PLC0415

        page = render(f"viewfinder eval: {dataset.root.name}", summaries, results, labels, thumbs, values)
        try:
            target = write_report(Path(args.report), page)
        except OSError as e:
            raise CliError(f"cannot write report into {args.report}: {e.strerror or e}") from None
        print(f"report: {target}", file=sys.stderr)
    return 0


def default_eval_scorers() -> list[str]:
    """Every registered scorer once ("default" is an alias of one of them) and the baselines."""
    return [n for n in all_scorer_names() if n != "default"]


def _fmt_estimate(e) -> str:
    if math.isnan(e.value):
        return "n/a"
    return f"{e.value:.3f} [{e.lo:.3f}, {e.hi:.3f}]"


# ---------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {v}")
    return v


def add_subcommands(subparsers) -> None:
    scorer_help = (f"a scorer name ({', '.join(all_scorer_names())}) "
                   "or a path to an .onnx model exported by our training")
    p = subparsers.add_parser("rank", help="rank the frames of bursts (folders or a video)",
                              description="Score every frame of each burst and print the ranking.")
    p.add_argument("path", help="a burst folder, a folder of burst folders, or a video file")
    p.add_argument("--scorer", default="default", metavar="NAME", help=f"{scorer_help} (default: default)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--save-best", metavar="DIR", help="copy each burst's best frame into DIR")
    p.add_argument("--burst-size", type=_positive_int, default=11, help="video: frames per burst (11)")
    p.add_argument("--stride", type=_positive_int, default=3,
                   help="video: take every STRIDE-th frame (3: 30 fps -> 10 frames/s)")
    p.set_defaults(func=cmd_rank)

    p = subparsers.add_parser("eval", help="the paper's metrics on a burst dataset",
                              description="Pairwise and top-1/2/3 accuracy per scorer, with 95%% "
                                          "bootstrap intervals over bursts.")
    p.add_argument("dataset", help="a folder with bursts/ and pairs.csv")
    p.add_argument("--scorer", action="extend", nargs="+", metavar="NAME",
                   help=f"{scorer_help}; repeatable (default: every registered scorer, random, middle)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--report", metavar="DIR", help="write DIR/index.html showing every burst's pick")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (0)")
    p.set_defaults(func=cmd_eval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m viewfinder",
                                     description="Viewfinder from the command line.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_subcommands(subparsers)
    for module in SUBCOMMAND_MODULES:
        try:
            importlib.import_module(module).add_subcommands(subparsers)
        except ImportError:  # not installed here (e.g. no torch): its commands are absent
            continue
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_opencv_logs()
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except (DatasetError, ScorerError, CliError, StorageError) as e:
        print(f"viewfinder {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"viewfinder {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`
        return 0
    except Exception as e:  # never a traceback for the user; VIEWFINDER_DEBUG=1 shows it
        if os.environ.get("VIEWFINDER_DEBUG"):
            raise
        print(f"viewfinder {args.command}: error: {type(e).__name__}: {e} "
              "(set VIEWFINDER_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
