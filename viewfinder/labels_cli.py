"""`python -m viewfinder labels export DIR | labels stats` and `python -m viewfinder personalize`.

The command-line side of the user's labels (viewfinder/labels.py) and the personal ranker
(viewfinder/personalize.py); registered through SUBCOMMAND_MODULES in viewfinder/cli.py.
No Qt, no torch. Errors: one line on stderr, exit 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from viewfinder.labels import LabelsError, LabelStore, default_data_dir
from viewfinder.pair_selection import Comparison, PairSelector


def _data_dir(args) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def _fail(args, e: Exception) -> int:
    print(f"viewfinder {args.command}: error: {e}", file=sys.stderr)
    return 1


def _open(args) -> LabelStore:
    path = _data_dir(args)
    if not (path / "labels.db").is_file():
        raise LabelsError(f"no labels yet in {path}: keep and label bursts in the app first")
    return LabelStore(path)


def cmd_export(args) -> int:
    try:
        with _open(args) as store:
            done = store.export(Path(args.dir))
    except LabelsError as e:
        return _fail(args, e)
    print(f"exported {done['pairs']} labelled pairs of {done['bursts']} bursts "
          f"({done['frames']} frames) to {done['path']}")
    print(f"measure the scorers on them: python -m viewfinder eval {done['path']}")
    return 0


def _burst_progress(store: LabelStore) -> tuple[int, int]:
    """(bursts whose adaptive labelling is finished, comparisons still to come in all)."""
    finished = left = 0
    for b in store.bursts():
        sel = PairSelector(len(b.frames), [f.score for f in b.frames],
                           labels=_comparisons(store, b))
        if sel.done:
            finished += 1
        else:
            left += sel.remaining
    return finished, left


def _comparisons(store: LabelStore, b) -> list[Comparison]:
    index = {f.pos: i for i, f in enumerate(b.frames)}
    return [Comparison(index[lab.a], index[lab.b], lab.label)
            for lab in store.labels(b.uid, kind="compare")]


def cmd_stats(args) -> int:
    try:
        with _open(args) as store:
            s = store.stats()
            s["finished_bursts"], s["comparisons_left"] = _burst_progress(store)
    except LabelsError as e:
        return _fail(args, e)
    from viewfinder.personalize import active_ranker  # noqa: PLC0415

    try:
        s["ranker"] = active_ranker(_data_dir(args)).describe()
    except LabelsError as e:
        s["ranker"] = f"unknown ({e})"
    if args.json:
        print(json.dumps(s, indent=1))
        return 0
    v = s["labels_by_value"]
    print(f"data folder      {s['data_dir']} (schema {s['schema_version']})")
    print(f"bursts kept      {s['bursts']} ({s['frames']} frames), {s['labelled_bursts']} labelled, "
          f"{s['finished_bursts']} finished")
    print(f"labels           {s['labels']}: {s['labels_by_kind']['compare']} compared, "
          f"{s['labels_by_kind']['choice']} from picking another frame")
    print(f"                 {v['2']} significantly better, {v['1']} marginally, {v['0']} equal")
    print(f"distinct pairs   {s['pairs']}")
    print(f"comparisons left {s['comparisons_left']}")
    print(f"active ranker    {s['ranker']}")
    return 0


def cmd_personalize(args) -> int:
    from viewfinder.personalize import personalize, set_active  # noqa: PLC0415

    data_dir = _data_dir(args)
    try:
        if args.activate or args.reset:
            info = set_active(bool(args.activate), data_dir)
            print(f"active ranker: {info.describe()}")
            return 0
        with _open(args) as store:
            result = personalize(store, base_weights=args.weights, holdout=args.holdout,
                                 seed=args.seed)
    except LabelsError as e:
        return _fail(args, e)
    if args.json:
        print(json.dumps({"activated": result.activated, "message": result.message,
                          "before": result.before, "after": result.after,
                          "label_count": result.label_count, "features": result.features,
                          "dropped_pairs": result.dropped,
                          "path": str(result.path) if result.path else None}, indent=1))
    else:
        print(result.message)
    return 0 if result.activated else 3


def _holdout(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"{v} is not between 0 and 1")
    return v


def add_subcommands(subparsers) -> None:
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data-dir", metavar="DIR",
                      help=f"the app's data folder (default: {default_data_dir()}, "
                           "or $VIEWFINDER_DATA_DIR)")

    p = subparsers.add_parser("labels", help="your labelled bursts: export, stats",
                              description="The bursts you kept and labelled in the app.")
    sub = p.add_subparsers(dest="labels_command", metavar="ACTION", required=True)
    e = sub.add_parser("export", parents=[data], help="write them as a burst dataset",
                       description="Write the labelled bursts as DIR/bursts/<burst>/<frames> + "
                                   "DIR/pairs.csv (the format `eval` reads). DIR must be new or empty.")
    e.add_argument("dir", help="a new or empty folder")
    e.set_defaults(func=cmd_export)
    s = sub.add_parser("stats", parents=[data], help="how many bursts and labels there are",
                       description="Counts of kept bursts, labels and comparisons left.")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_stats)

    p = subparsers.add_parser(
        "personalize", parents=[data], help="fit your personal ranker from your labels",
        description="Refit the fused ranker's weights to your labels, measure pairwise and top-1 "
                    "accuracy on held-out bursts before and after, and switch to it unless it got "
                    "worse (exit 3 when not switched). --activate / --reset switch between the "
                    "personal and the shipped ranker without fitting.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--activate", action="store_true", help="switch to the personal ranker")
    mode.add_argument("--reset", action="store_true", help="switch back to the shipped ranker")
    p.add_argument("--holdout", type=_holdout, default=0.3,
                   help="fraction of labelled bursts held out for the measurement (0.3)")
    p.add_argument("--seed", type=int, default=0, help="which bursts are held out (0)")
    p.add_argument("--weights", type=Path, default=None,
                   help="the shipped weights to start from (default: models/fused.json)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_personalize)
