"""Prefetch: a bounded producer/consumer between decoding and detection."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from service.prefetch import Prefetch


class Source:
    """An iterator that records how far it was pulled and whether it was closed."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.produced = 0
        self.closed = threading.Event()
        self.threads: set[str] = set()

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        self.threads.add(threading.current_thread().name)
        if self.produced == self.fail_at:
            raise RuntimeError("corrupt frame")
        if self.produced >= self.n:
            raise StopIteration
        self.produced += 1
        return self.produced - 1

    def close(self) -> None:
        self.closed.set()


def test_items_arrive_in_order_from_another_thread() -> None:
    source = Source(100)
    prefetch = Prefetch(source, depth=4)
    assert list(prefetch) == list(range(100))
    prefetch.close()
    assert source.closed.is_set()
    assert source.threads == {"mmed-prefetch"}
    assert prefetch.seconds > 0


def test_the_producer_stays_at_most_depth_ahead() -> None:
    source = Source(1000)
    prefetch = Prefetch(source, depth=3)
    items = iter(prefetch)
    assert next(items) == 0
    time.sleep(0.3)
    # One taken, three queued, one held by the producer waiting for room.
    assert source.produced <= 1 + 3 + 1
    prefetch.close()
    assert source.produced <= 5 and source.closed.is_set()


def test_a_producer_error_is_raised_in_the_consumer_after_the_good_items() -> None:
    prefetch = Prefetch(Source(10, fail_at=5), depth=2)
    got = []
    with pytest.raises(RuntimeError, match="corrupt frame"):
        for item in prefetch:
            got.append(item)
    assert got == [0, 1, 2, 3, 4]
    prefetch.close()


def test_stop_ends_a_blocked_producer_and_consumer() -> None:
    stop = threading.Event()
    source = Source(10**6)
    prefetch = Prefetch(source, depth=2, stop=stop)
    items = iter(prefetch)
    next(items)
    stop.set()
    t0 = time.perf_counter()
    prefetch.close()
    assert time.perf_counter() - t0 < 2.0 and source.closed.is_set()
    assert list(items) == []  # the consumer sees the end, not a hang


def test_a_paused_producer_waits_for_a_quarter_of_the_queue() -> None:
    # A slow consumer: the producer is woken once 2 of 8 places are free, not for each item.
    prefetch = Prefetch(Source(100), depth=8)
    got = []
    for item in prefetch:
        got.append(item)
        time.sleep(0.001)
    prefetch.close()
    assert got == list(range(100))
    assert 1 <= prefetch.pauses <= (100 - 8) // 2 + 1


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Prefetch(iter([]), depth=0)


def test_the_pipeline_decodes_ahead_within_a_memory_budget() -> None:
    from service.faces import FaceDetector
    from service.media import MediaLimits
    from service.metrics import Metrics
    from service.pipeline import Pipeline

    pipeline = Pipeline(None, FaceDetector(), MediaLimits(), Metrics())  # type: ignore[arg-type]
    budget = pipeline.prefetch_bytes
    for width, height in ((854, 480), (1280, 720), (1920, 1080), (3840, 2160)):
        depth = pipeline.prefetch_depth(width, height)
        assert depth >= 2 and (depth == 2 or depth * width * height <= budget)
    assert pipeline.prefetch_depth(854, 480) == 64  # small frames: far ahead, up to 64
    assert pipeline.prefetch_depth(320, 240) == 64
    assert pipeline.prefetch_depth(1920, 1080) == 16
