"""The `eval --report DIR` page: the metrics table, then every burst as a filmstrip in capture
order with the labelled best and each scorer's predicted best outlined, so a person can see
each mistake.

End of the `eval` flow; pure Python + OpenCV (thumbnails), any thread. One self-contained
index.html (thumbnails inlined as JPEG data URIs), written atomically.
"""
from __future__ import annotations

import base64
import html
import os
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from viewfinder.metrics import BurstLabels, BurstResult, Estimate, TOP_K

THUMB_WIDTH = 160

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table.m{border-collapse:collapse;margin-bottom:1.5em}
table.m td,table.m th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
table.m td:first-child,table.m th:first-child{text-align:left}
.burst{margin:1.2em 0}.burst h3{margin:.2em 0;font-size:1em}
.strip{display:flex;gap:6px;flex-wrap:wrap}
figure{margin:0;padding:3px;border:3px solid transparent;font-size:11px;width:%dpx}
figure img{width:100%%;display:block}
figure.best{border-color:#1a8f2e}
figure.pick{outline:3px dashed #e07b00;outline-offset:2px}
.tag{display:inline-block;padding:0 4px;margin:1px;border-radius:3px;color:#fff}
.hit{background:#1a8f2e}.miss{background:#c0392b}
.legend span{margin-right:1.5em}
""" % THUMB_WIDTH


def thumbnail(pixels: np.ndarray, width: int = THUMB_WIDTH) -> bytes:
    """A small JPEG of a BGR frame, for the report."""
    h, w = pixels.shape[:2]
    scale = min(1.0, width / w)
    small = cv2.resize(pixels, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return buf.tobytes() if ok else b""


def _fmt(e: Estimate) -> str:
    if np.isnan(e.value):
        return "n/a"
    if np.isnan(e.lo):
        return f"{e.value:.3f}"
    return f"{e.value:.3f} [{e.lo:.3f}, {e.hi:.3f}]"


def render(title: str, summaries: Mapping[str, Mapping[str, Estimate]],
           results: Mapping[str, Sequence[BurstResult]], labels: Sequence[BurstLabels],
           thumbs: Mapping[str, Sequence[bytes]],
           scores: Mapping[str, Mapping[str, Sequence[float]]]) -> str:
    """The page as a string. results/scores are keyed by scorer, then (scores) by burst id."""
    e = html.escape
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
           f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>"]
    cols = ["pairwise", *(f"top{k}" for k in TOP_K)]
    out.append("<table class='m'><tr><th>scorer</th>"
               + "".join(f"<th>{c}</th>" for c in cols) + "<th>bursts</th><th>pairs</th></tr>")
    for name, summary in summaries.items():
        rs = results[name]
        out.append(f"<tr><td>{e(name)}</td>" + "".join(f"<td>{_fmt(summary[c])}</td>" for c in cols)
                   + f"<td>{len(rs)}</td><td>{sum(r.n_pairs for r in rs)}</td></tr>")
    out.append("</table><p class='legend'><span style='border:3px solid #1a8f2e'>&nbsp;labelled best"
               "&nbsp;</span><span style='outline:3px dashed #e07b00'>&nbsp;predicted best&nbsp;</span>"
               "<span>tags: scorers that picked the frame (green: top-1 hit, red: miss); "
               "'k better': frames labelled better than it. <code>random</code> picks no frame.</span></p>")
    by_burst = {name: {r.burst: r for r in rs} for name, rs in results.items()}
    for lab in labels:
        n_better = lab.n_better
        picks: dict[int, list[tuple[str, bool]]] = {}
        missed = []
        for name in summaries:
            r = by_burst[name].get(lab.burst)
            if r is None or r.pick is None:
                continue
            hit = n_better[r.pick] == 0
            picks.setdefault(r.pick, []).append((name, hit))
            if not hit:
                missed.append(name)
        note = f" &mdash; missed by {e(', '.join(missed))}" if missed else ""
        out.append(f"<div class='burst'><h3>{e(lab.burst)}{note}</h3><div class='strip'>")
        for i, frame in enumerate(lab.frames):
            cls = " ".join(c for c, on in (("best", n_better[i] == 0), ("pick", i in picks)) if on)
            data = base64.b64encode(thumbs[lab.burst][i]).decode("ascii") if lab.burst in thumbs else ""
            tags = "".join(f"<span class='tag {'hit' if hit else 'miss'}'>{e(name)}</span>"
                           for name, hit in picks.get(i, []))
            vals = " ".join(f"{e(name)} {scores[name][lab.burst][i]:.4g}" for name in summaries
                            if lab.burst in scores.get(name, {}))
            out.append(f"<figure class='{cls}' title='{e(vals)}'><img alt='{e(frame)}' "
                       f"src='data:image/jpeg;base64,{data}'><figcaption>{e(frame)}<br>"
                       f"{n_better[i]} better<br>{tags}</figcaption></figure>")
        out.append("</div></div>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(folder: Path, page: str) -> Path:
    """Write folder/index.html atomically (temp file in the folder, fsync, rename)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "index.html"
    fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".html.tmp", dir=folder)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for sharing
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
