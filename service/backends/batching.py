"""Micro-batching: concurrent requests for one model merged into one model call.

No timer and no added latency: a request that finds the model idle runs at once; requests that
arrive while a call is running wait for it and then run together, in arrival order, as one
batch of at most ``max_rows`` rows (a single larger request still runs whole). Under load this
turns many small calls (an image is one crop) into few larger ones, which a CNN runs in nearly
the time of one; alone, a request pays nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np


class MicroBatcher:
    """Merge concurrent ``submit`` calls into calls of ``run`` (blocking; run in a thread).

    ``run`` maps ``[N, ...]`` to ``[N, ...]`` row by row. Only batches of the same row shape
    and dtype are merged. An exception from ``run`` goes to every request of that call; a
    cancelled request is dropped from its call (or its rows ignored if the call has started).
    ``calls`` and ``rows`` count what ``run`` was given.
    """

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], max_rows: int = 64) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be >= 1")
        self._run = run
        self.max_rows = max_rows
        self._waiting: list[tuple[np.ndarray, asyncio.Future]] = []
        self._busy = False
        self._task: asyncio.Future | None = None
        self.calls = 0
        self.rows = 0

    async def submit(self, batch: np.ndarray) -> np.ndarray:
        """``run(batch)``, possibly computed together with other requests' rows."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((batch, future))
        if not self._busy:
            self._busy = True
            self._task = asyncio.ensure_future(self._drain())
        return await future

    def _take(self) -> list[tuple[np.ndarray, asyncio.Future]]:
        """The next call's requests: the oldest live one, then same-shaped ones up to max_rows."""
        self._waiting = [(b, f) for b, f in self._waiting if not f.done()]
        if not self._waiting:
            return []
        first = self._waiting[0][0]
        key = (first.shape[1:], first.dtype)
        taken: list[tuple[np.ndarray, asyncio.Future]] = []
        rest: list[tuple[np.ndarray, asyncio.Future]] = []
        rows = 0
        for batch, future in self._waiting:
            fits = (batch.shape[1:], batch.dtype) == key and rows + len(batch) <= self.max_rows
            if fits or not taken:
                taken.append((batch, future))
                rows += len(batch)
            else:
                rest.append((batch, future))
        self._waiting = rest
        return taken

    async def _drain(self) -> None:
        try:
            while taken := self._take():
                merged = taken[0][0] if len(taken) == 1 else np.concatenate([b for b, _ in taken])
                self.calls += 1
                self.rows += len(merged)
                try:
                    out = await asyncio.to_thread(self._run, merged)
                except Exception as exc:
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for batch, future in taken:
                    if not future.done():
                        future.set_result(out[start : start + len(batch)])
                    start += len(batch)
        finally:
            self._busy = False
