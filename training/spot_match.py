"""MEGC's spotting rule: a spotted interval is a true positive when its IoU with a true one is
>= 0.5, each true interval matched at most once; TP/FP/FN pooled over the whole set.

Intervals are inclusive frame ranges ``(onset, offset)``. Matching is one-to-one and greedy by
IoU (highest first), which is what "each true event matched once" asks for: a duplicate
detection of an already matched event is a false positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class Interval:
    onset: int
    offset: int
    label: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.offset < self.onset:
            raise ValueError(f"offset {self.offset} before onset {self.onset}")

    @property
    def length(self) -> int:
        return self.offset - self.onset + 1


def iou(a: Interval, b: Interval) -> float:
    """Intersection over union of two inclusive frame ranges (touching ranges: 0)."""
    inter = min(a.offset, b.offset) - max(a.onset, b.onset) + 1
    if inter <= 0:
        return 0.0
    return inter / (a.length + b.length - inter)


def match(
    truth: Sequence[Interval], spotted: Sequence[Interval], threshold: float = IOU_THRESHOLD
) -> list[tuple[int, int]]:
    """(truth index, spotted index) pairs with IoU >= ``threshold``, each side used once."""
    pairs = sorted(
        (
            (iou(t, s), i, j)
            for i, t in enumerate(truth)
            for j, s in enumerate(spotted)
            if iou(t, s) >= threshold
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    used_t: set[int] = set()
    used_s: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in used_t and j not in used_s:
            used_t.add(i)
            used_s.add(j)
            out.append((i, j))
    return sorted(out)


@dataclass
class Tally:
    """Pooled counts; ``add`` one clip at a time."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    labelled: int = 0  # matched pairs whose labels agree
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [tp_t, n_t, tp_s, n_s]

    def add(self, truth: Sequence[Interval], spotted: Sequence[Interval]) -> list[tuple[int, int]]:
        pairs = match(truth, spotted)
        self.tp += len(pairs)
        self.fp += len(spotted) - len(pairs)
        self.fn += len(truth) - len(pairs)
        self.labelled += sum(truth[i].label == spotted[j].label for i, j in pairs)
        matched_t = {i for i, _ in pairs}
        matched_s = {j for _, j in pairs}
        for i, t in enumerate(truth):  # recall per true kind
            k = self.by_kind.setdefault(t.kind or "any", [0, 0, 0, 0])
            k[0] += i in matched_t
            k[1] += 1
        for j, s in enumerate(spotted):  # precision per spotted kind
            k = self.by_kind.setdefault(s.kind or "any", [0, 0, 0, 0])
            k[2] += j in matched_s
            k[3] += 1
        return pairs

    def report(self) -> dict:
        out = _prf(self.tp, self.tp + self.fp, self.tp + self.fn)
        out.update(tp=self.tp, fp=self.fp, fn=self.fn)
        out["label_accuracy"] = self.labelled / self.tp if self.tp else None
        out["per_kind"] = {
            kind: {**_prf(tp_t, n_s, n_t, tp_s), "true": n_t, "spotted": n_s}
            for kind, (tp_t, n_t, tp_s, n_s) in sorted(self.by_kind.items())
        }
        return out


def _prf(tp: int, n_spotted: int, n_true: int, tp_spotted: int | None = None) -> dict:
    """Precision (of the spotted), recall (of the true) and their F1."""
    tp_s = tp if tp_spotted is None else tp_spotted
    p = tp_s / n_spotted if n_spotted else None
    r = tp / n_true if n_true else None
    if r is None:  # no true event: F1 undefined
        f1 = None
    elif p is None or p + r == 0:  # nothing spotted, or nothing right
        f1 = 0.0
    else:
        f1 = 2 * p * r / (p + r)
    return {"precision": p, "recall": r, "f1": f1}
