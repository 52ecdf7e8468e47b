"""``--plot``: a timeline of per-frame class probabilities, the winning label shaded, spotted
events marked (hatched from onset to offset, dashed at the apex)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mmed_cli.outcome import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_IN, PANEL_HEIGHT_IN, DPI = 10.0, 3.0, 100
"""Figure geometry: ``WIDTH_IN*DPI`` pixels wide, ``PANEL_HEIGHT_IN*DPI`` per file."""


def plot_size(panels: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG for ``panels`` files."""
    return round(WIDTH_IN * DPI), round(PANEL_HEIGHT_IN * DPI * panels)


def _spans(times: Sequence[float]) -> list[tuple[float, float]]:
    """Each sample's interval on the time axis: halfway to its neighbours."""
    if len(times) == 1:
        return [(times[0] - 0.25, times[0] + 0.25)]
    edges = [(a + b) / 2 for a, b in itertools.pairwise(times)]
    first = times[0] - (edges[0] - times[0])
    last = times[-1] + (times[-1] - edges[-1])
    bounds = [first, *edges, last]
    return list(itertools.pairwise(bounds))


def _mark_events(
    ax: Axes, result: Result, colour: dict[str, tuple[float, float, float, float]]
) -> None:
    """Spotted events: a hatched band from onset to offset, a dashed line at the apex and the
    event's kind and label above the panel's top."""
    events = result.events if isinstance(result.events, list) else []
    for e in events:
        c = colour.get(e.label, "black")
        ax.axvspan(e.onset_s, e.offset_s, facecolor="none", edgecolor=c, hatch="///", linewidth=1)
        ax.axvline(e.apex_s, color=c, linestyle="--", linewidth=1)
        ax.text(e.apex_s, 1.01, f"{e.kind}: {e.label}", color=c, fontsize=7, ha="center",
                va="bottom", transform=ax.get_xaxis_transform())  # fmt: skip


def plot_timelines(results: Sequence[tuple[str, Result]], out: Path) -> Path:
    """One panel per file: a line per class probability over time; the background of each
    sampled frame is shaded in the colour of its label (white where no face was found)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(
        n, 1, figsize=(WIDTH_IN, PANEL_HEIGHT_IN * n), dpi=DPI, squeeze=False, layout="constrained"
    )
    cmap = plt.get_cmap("tab10")
    for ax, (name, result) in zip(axes[:, 0], results, strict=True):
        classes = list(result.model.classes)
        colour = {c: cmap(i % 10) for i, c in enumerate(classes)}
        frames = result.frames
        times = [f.timestamp_s for f in frames]
        spans = _spans(times)
        for (lo, hi), f in zip(spans, frames, strict=True):
            if f.label is not None:
                ax.axvspan(lo, hi, color=colour[f.label], alpha=0.18, linewidth=0)
        ax.set_xlim(spans[0][0], spans[-1][1])
        for c in classes:
            ys = [
                f.probabilities.additional_properties.get(c, float("nan"))
                if f.probabilities
                else float("nan")
                for f in frames
            ]
            ax.plot(times, ys, marker="o", markersize=3, linewidth=1.5, color=colour[c], label=c)
        _mark_events(ax, result, colour)
        missing = [f.timestamp_s for f in frames if f.face is None]
        if missing:
            ax.plot(missing, [0.0] * len(missing), "x", color="grey", label="no face")
        dominant = result.summary.dominant_label or "none"
        ax.set_title(
            f"{name} — {result.model.name} v{result.model.version} — dominant: {dominant} "
            f"({result.summary.frames_with_face}/{len(frames)} frames with a face)",
            fontsize=10,
        )
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("probability")
        ax.grid(alpha=0.3)
        ax.legend(
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            fontsize=8,
            frameon=False,
            title="shading:\nframe's label",
            title_fontsize=8,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, format="png")
    plt.close(fig)
    return out
