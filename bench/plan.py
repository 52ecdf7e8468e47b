"""What `make bench` measures: the full plan, or a quick one (BENCH_QUICK=1) for development."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    quick: bool
    sampled: tuple[tuple[int, str], ...]  # (seconds, resolution) analysed at 0.5 s
    dense: tuple[tuple[int, str], ...]  # analysed at every frame
    naive_detect: tuple[tuple[int, str], ...]  # clips whose floors include full-res Haar
    peer_sampled: tuple[tuple[int, str], ...]
    peer_dense: tuple[tuple[int, str], ...]
    images: tuple[str, ...]
    archs: tuple[str, ...]
    memory_clip: tuple[int, str]
    repeats: int  # for clips up to 30 s; 120 s clips run fewer
    image_repeats: int
    concurrency_requests: int  # per client count (1 and 4)


FULL = Plan(
    quick=False,
    sampled=tuple((s, r) for s in (5, 30, 120) for r in ("480p", "720p", "1080p")),
    dense=((5, "480p"), (5, "720p"), (5, "1080p"), (30, "480p"), (30, "720p")),
    naive_detect=((5, "480p"), (5, "720p"), (5, "1080p"), (30, "480p"), (30, "720p")),
    peer_sampled=tuple((s, r) for s in (5, 30) for r in ("480p", "720p", "1080p")),
    peer_dense=((5, "480p"), (5, "720p")),
    images=("480p", "720p", "1080p"),
    archs=("cnn", "resnet50", "vgg16", "vgg19", "inceptionv3", "efficientnetb0"),
    memory_clip=(120, "1080p"),
    repeats=5,
    image_repeats=20,
    concurrency_requests=48,
)

QUICK = Plan(
    quick=True,
    sampled=((5, "480p"), (5, "720p")),
    dense=((5, "480p"),),
    naive_detect=((5, "480p"), (5, "720p")),
    peer_sampled=((5, "480p"),),
    peer_dense=((5, "480p"),),
    images=("480p",),
    archs=("cnn",),
    memory_clip=(30, "1080p"),
    repeats=3,
    image_repeats=5,
    concurrency_requests=16,
)


def repeats_for(plan: Plan, seconds: int) -> int:
    return max(2, plan.repeats if seconds <= 30 else plan.repeats // 2)
