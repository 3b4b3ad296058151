"""`python -m viewfinder train` and `python -m viewfinder export`.

Imported by viewfinder/cli.py at start-up, so nothing here imports torch at module level: the
handlers import the training modules when they run, and say so in one line when torch is missing.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_MODEL = REPO / "models" / "ranker.onnx"


def _need_torch() -> None:
    try:
        import torch  # noqa: F401, PLC0415
    except ImportError:
        raise SystemExit("viewfinder: training needs PyTorch: pip install -e '.[train]'") from None


def add_subcommands(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train the burst ranker (needs torch)",
        description="Train the paper's ranker on synthetic bursts + graded bursts. Resumable: run "
                    "the same command again to continue from the last checkpoint in --out.")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="the shared data folder: photos/, videos/, bursts-train/, bursts-dev/")
    p.add_argument("--out", type=Path, default=REPO / "runs" / "ranker",
                   help="run folder: checkpoints, logs, metrics (default runs/ranker)")
    p.add_argument("--backbone", default="sqnet4", choices=("sqnet", "sqnet4", "sqnet6"))
    p.add_argument("--head", default="C", choices=("A", "B", "C", "baseline"))
    p.add_argument("--attributes", type=int, default=5, help="C', head C's latent attributes (5)")
    p.add_argument("--no-g", action="store_true", help="head C without the generator G")
    p.add_argument("--size", type=int, default=128, help="square input size in px (128)")
    p.add_argument("--steps", type=int, default=3000, help="mini-batches (3000)")
    p.add_argument("--batch", type=int, default=32, help="pairs per mini-batch (32)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--real-fraction", type=float, default=0.5,
                   help="share of each batch from bursts-train pairs; 0 = synthetic only (0.5)")
    p.add_argument("--no-synthetic", action="store_true", help="train on the graded pairs only")
    p.add_argument("--cv", type=int, default=0, metavar="K",
                   help="first run K person folds (dev numbers person-disjoint), then the full model")
    p.add_argument("--cv-steps", type=int, default=None, help="steps per fold (default --steps)")
    p.add_argument("--fold", type=int, default=None, metavar="I",
                   help="run only fold I of --cv K (e.g. to run folds on several machines)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--export", type=Path, default=None, metavar="ONNX",
                   help=f"export the full model here when done (e.g. {DEFAULT_MODEL.relative_to(REPO)})")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("export", help="export a trained ranker to ONNX (needs torch)",
                              description="Checkpoint -> ONNX with metadata, checked against torch.")
    p.add_argument("checkpoint", type=Path, help="final.pt or checkpoint.pt of a run")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="default models/ranker.onnx")
    p.add_argument("--version", default=None, help="version string stored in the model")
    p.set_defaults(func=cmd_export)


def cmd_train(args) -> int:
    _need_torch()
    from dataclasses import replace  # noqa: PLC0415

    from viewfinder.training.data import DataError, get_data  # noqa: PLC0415
    from viewfinder.training.model import ModelConfig  # noqa: PLC0415
    from viewfinder.training.train import TrainConfig, fold_config, train  # noqa: PLC0415

    try:
        model = ModelConfig(args.backbone, args.head, args.attributes, args.size, args.size)
        cfg = TrainConfig(model=model, steps=args.steps, batch_pairs=args.batch, lr=args.lr,
                          real_fraction=args.real_fraction, synthetic=not args.no_synthetic,
                          use_g=not args.no_g, data_root=str(args.data), seed=args.seed)
        if args.steps < 1 or args.batch < 2 or not 0 <= args.real_fraction <= 1:
            raise ValueError("--steps >= 1, --batch >= 2 and 0 <= --real-fraction <= 1")
        if args.fold is not None and not 0 <= args.fold < max(args.cv, 1):
            raise ValueError("--fold I needs --cv K with 0 <= I < K")
        data = get_data(args.data, cfg.spec, REPO / "runs")
    except (ValueError, DataError) as e:
        print(f"viewfinder train: error: {e}", file=sys.stderr)
        return 1
    results = {}
    if args.cv:
        if data.dev is None:
            print(f"viewfinder train: error: --cv needs bursts-dev under {args.data}", file=sys.stderr)
            return 1
        folds = [args.fold] if args.fold is not None else range(args.cv)
        for i in folds:
            fcfg = fold_config(replace(cfg, steps=args.cv_steps or cfg.steps), data, i, args.cv)
            print(f"== fold {i + 1}/{args.cv}: holding out {', '.join(fcfg.exclude_persons)}")
            results[f"fold{i}"] = train(fcfg, args.out / f"fold{i}", data=data, threads=args.threads)
        if args.fold is not None:
            return 0
    out = args.out / "full" if args.cv else args.out
    print("== full model (all data)")
    results["full"] = train(cfg, out, data=data, threads=args.threads)
    if args.export:
        from viewfinder.training.export import ExportError, export  # noqa: PLC0415

        try:
            meta = export(out / "final.pt", args.export)
        except ExportError as e:
            print(f"viewfinder train: error: {e}", file=sys.stderr)
            return 1
        print(f"exported {args.export} ({args.export.stat().st_size} bytes, version {meta['version']})")
    print(json.dumps(results, indent=1))
    return 0


def cmd_export(args) -> int:
    _need_torch()
    from viewfinder.training.export import ExportError, export  # noqa: PLC0415

    try:
        meta = export(args.checkpoint, args.out, version=args.version)
    except ExportError as e:
        print(f"viewfinder export: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {json.dumps(meta)}")
    return 0


def main(argv=None) -> int:  # `python -m viewfinder.training.cli` without the app's CLI
    parser = argparse.ArgumentParser(prog="python -m viewfinder.training.cli")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
