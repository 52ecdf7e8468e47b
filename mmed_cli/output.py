"""Render outcomes and the catalogue: an aligned text table, JSON or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

from mmed_client.models import FrameResult, ModelList

from mmed_cli.outcome import Outcome, Result


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces (numbers right-aligned)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [
        bool(cells) and all(_is_number(row[i]) for row in cells if row[i] != "-")
        for i in range(len(header))
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row in cells:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _probabilities(frame: FrameResult) -> dict[str, float]:
    return dict(frame.probabilities.additional_properties) if frame.probabilities else {}


def summary_table(outcomes: Sequence[Outcome]) -> str:
    """One row per file: media, frames with a face, the dominant label and its mean probability."""
    rows: list[list[object]] = []
    for o in outcomes:
        r = o.result
        if r is None:
            rows.append([str(o.path), "error", None, None, None, None, o.message])
            continue
        dominant = r.summary.dominant_label
        means = r.summary.mean_probabilities
        mean_p = means.additional_properties.get(dominant) if means and dominant else None
        rows.append(
            [
                str(o.path),
                r.media.kind,
                r.media.frames_sampled,
                r.summary.frames_with_face,
                dominant,
                mean_p,
                f"{r.model.name} v{r.model.version}",
            ]
        )
    header = ["FILE", "KIND", "FRAMES", "FACES", "DOMINANT", "MEAN_P", "MODEL"]
    return table(header, rows)


def frames_table(result: Result) -> str:
    """One row per sampled frame: time, label, confidence, face box and score."""
    rows = []
    for f in result.frames:
        box = f"{f.face.x},{f.face.y} {f.face.w}x{f.face.h}" if f.face else None
        score = f.face.score if f.face else None
        rows.append([f.index, f"{f.timestamp_s:.2f}", f.label, f.confidence, box, score])
    return table(["FRAME", "TIME_S", "LABEL", "CONF", "FACE", "FACE_SCORE"], rows)


def events_table(result: Result) -> str:
    """One row per spotted event; a note instead when events were not computed or none found."""
    events = result.events
    if not isinstance(events, list):
        return (
            "(events not computed: they need a video analysed on every frame, --sample-interval 0)"
        )
    if not events:
        return "(no event spotted)"
    rows = [
        [
            e.kind,
            e.label,
            e.confidence,
            f"{e.onset_s:.2f}",
            f"{e.apex_s:.2f}",
            f"{e.offset_s:.2f}",
            f"{e.onset_index}-{e.offset_index}",
            f"{e.evidence.signal}/{e.evidence.region}",
            e.evidence.score,
        ]
        for e in events
    ]
    header = ["KIND", "LABEL", "CONF", "ONSET_S", "APEX_S", "OFFSET_S", "FRAMES", "EVIDENCE"]
    return table([*header, "SCORE"], rows)


def write_json(outcomes: Sequence[Outcome], out: IO[str]) -> None:
    """A list, one object per file: ``{"file", "result"}`` or ``{"file", "problem"|"error"}``."""
    items: list[dict[str, Any]] = []
    for o in outcomes:
        item: dict[str, Any] = {"file": str(o.path)}
        if o.result is not None:
            item["result"] = o.result.to_dict()
        elif o.problem is not None:
            item["problem"] = o.problem.to_dict()
        else:
            item["error"] = o.error
        items.append(item)
    json.dump(items, out, indent=2)
    out.write("\n")


CSV_FIELDS = [
    "file",
    "model",
    "frame_index",
    "timestamp_s",
    "label",
    "confidence",
    "face_x",
    "face_y",
    "face_w",
    "face_h",
    "face_score",
]


def write_csv(outcomes: Sequence[Outcome], out: IO[str]) -> int:
    """One row per sampled frame of every successful file; ``p_<class>`` columns for the union
    of the models' classes (empty where a frame has no face). Returns the number of rows."""
    classes: list[str] = []
    for o in outcomes:
        if o.result is not None:
            classes += [c for c in o.result.model.classes if c not in classes]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS + [f"p_{c}" for c in classes])
    count = 0
    for o in outcomes:
        r = o.result
        if r is None:
            continue
        for f in r.frames:
            face = f.face
            box = [face.x, face.y, face.w, face.h, face.score] if face else [""] * 5
            probs = _probabilities(f)
            writer.writerow(
                [str(o.path), r.model.name, f.index, f.timestamp_s, f.label or "", f.confidence]
                + box
                + [probs.get(c, "") for c in classes]
            )
            count += 1
    return count


def models_table(catalogue: ModelList) -> str:
    rows = []
    for m in catalogue.models:
        rows.append(
            [
                m.name,
                m.task,
                m.arch,
                m.variant if isinstance(m.variant, str) else None,
                ",".join(str(v) for v in m.versions),
                m.status,
                "yes" if m.default_for_task else "",
                m.face_region,
                m.metrics.accuracy,
                m.metrics.macro_f1,
            ]
        )
    header = ["NAME", "TASK", "ARCH", "VARIANT", "VERSIONS", "STATUS", "DEFAULT", "REGION"]
    return table([*header, "ACCURACY", "MACRO_F1"], rows)
