"""Decode ahead: an iterator's items produced in their own thread into a bounded queue.

The pipeline decodes a video in a ``Prefetch`` thread while its request's worker thread detects
faces in the frames already decoded: PyAV and OpenCV both release the GIL, so on two cores the
two stages overlap instead of taking turns. The queue is bounded (``depth`` frames), so a long
video is never held in memory whole and a slow consumer pauses the decoder. A paused producer
is woken once a quarter of the queue is free, not for every item taken: waking a sleeping
thread costs tens of microseconds of CPU (on these VMs), per frame when detection is the
slower stage.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()
_POLL_S = 0.05  # how often a blocked producer or consumer looks at the stop event


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Prefetch(Generic[T]):
    """Iterate ``source`` in a daemon thread, at most ``depth`` items ahead of the consumer.

    Iterating the ``Prefetch`` yields the items in order and re-raises the producer's exception
    in the consumer. ``stop`` (shared with the caller) ends both sides within ``_POLL_S``;
    ``close`` stops and waits for the producer, which closes ``source`` in its own thread, so
    whatever ``source`` reads from can be released safely afterwards. ``seconds`` is the time
    the producer spent inside ``next(source)``; ``pauses`` counts its waits for room (each
    until a quarter of the queue, at least one item, is free).
    """

    def __init__(
        self, source: Iterator[T], depth: int = 8, stop: threading.Event | None = None
    ) -> None:
        if depth < 1:
            raise ValueError("depth must be >= 1")
        self._source = source
        self._items: deque = deque()
        self._depth = depth
        self._resume = depth - max(1, depth // 4)  # a paused producer goes on at this length
        self._ready = threading.Condition()
        self._producer_waits = self._consumer_waits = False
        self.stop = stop or threading.Event()
        self.seconds = 0.0
        self.pauses = 0  # times the producer found the queue full
        self._thread = threading.Thread(target=self._produce, name="mmed-prefetch", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                item = next(self._source, _END)
                self.seconds += time.perf_counter() - t0
                if not self._put(item) or item is _END:
                    return
        except BaseException as exc:  # handed to the consumer, re-raised there
            self._put(_Failure(exc))
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # best effort after a failure
                    close()

    def _put(self, item: object) -> bool:
        with self._ready:
            if len(self._items) >= self._depth:  # full: pause until it is down to _resume
                self.pauses += 1
                self._producer_waits = True
                while len(self._items) > self._resume:
                    if self.stop.is_set():
                        return False
                    self._ready.wait(_POLL_S)
                self._producer_waits = False
            if self.stop.is_set():
                return False
            self._items.append(item)
            if self._consumer_waits:
                self._ready.notify()
        return True

    def _get(self) -> object:
        """The next item; ``_END`` once stopped, or when the producer is gone and left none."""
        with self._ready:
            while not self._items:
                if self.stop.is_set() or not self._thread.is_alive():
                    return _END
                self._consumer_waits = True
                self._ready.wait(_POLL_S)
            self._consumer_waits = False
            item = self._items.popleft()
            if self._producer_waits and len(self._items) <= self._resume:
                self._ready.notify()
            return item

    def __iter__(self) -> Iterator[T]:
        while not self.stop.is_set():
            item = self._get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the producer and wait for it (it has closed ``source`` when this returns)."""
        self.stop.set()
        self._thread.join()
