"""Micro-batching in the embedded backend: merged calls give each request its own rows."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from model_artifact import ModelRepository
from service.backends.base import BackendError
from service.backends.batching import MicroBatcher
from service.backends.embedded import EmbeddedBackend


def _slow_doubler(calls: list[int], gate: threading.Event | None = None):
    def run(batch: np.ndarray) -> np.ndarray:
        if gate is not None:
            gate.wait(5)
        calls.append(len(batch))
        if (batch < 0).any():
            raise BackendError("negative input")
        return batch * 2

    return run


def test_concurrent_requests_are_merged_and_split_back() -> None:
    calls: list[int] = []
    gate = threading.Event()
    batcher = MicroBatcher(_slow_doubler(calls, gate), max_rows=64)

    async def main() -> list[np.ndarray]:
        first = asyncio.ensure_future(batcher.submit(np.full((2, 3), 1)))
        await asyncio.sleep(0.05)  # the first call is running (held by the gate)
        rest = [asyncio.ensure_future(batcher.submit(np.full((k, 3), k))) for k in (1, 3, 5)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(first, *rest)

    out = asyncio.run(main())
    assert calls == [2, 9]  # the three waiting requests ran as one call
    for got, k, rows in zip(out, (1, 1, 3, 5), (2, 1, 3, 5), strict=True):
        np.testing.assert_array_equal(got, np.full((rows, 3), 2 * k))
    assert (batcher.calls, batcher.rows) == (2, 11)


def test_max_rows_and_shapes_bound_a_merge() -> None:
    calls: list[int] = []
    gate = threading.Event()
    batcher = MicroBatcher(_slow_doubler(calls, gate), max_rows=4)

    async def main() -> list[np.ndarray]:
        first = asyncio.ensure_future(batcher.submit(np.ones((1, 2))))
        await asyncio.sleep(0.05)
        queued = [
            batcher.submit(np.ones((3, 2))),
            batcher.submit(np.ones((2, 2))),  # would exceed 4 rows with the one before
            batcher.submit(np.ones((1, 5))),  # another row shape: never merged
            batcher.submit(np.ones((6, 2))),  # larger than max_rows alone: runs whole
        ]
        tasks = [asyncio.ensure_future(q) for q in queued]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(first, *tasks)

    out = asyncio.run(main())
    assert [o.shape for o in out] == [(1, 2), (3, 2), (2, 2), (1, 5), (6, 2)]
    assert sorted(calls) == sorted([1, 3, 2, 1, 6])


def test_an_error_reaches_every_request_of_its_call_only() -> None:
    calls: list[int] = []
    gate = threading.Event()
    batcher = MicroBatcher(_slow_doubler(calls, gate))

    async def main() -> list[object]:
        first = asyncio.ensure_future(batcher.submit(np.ones((1, 2))))
        await asyncio.sleep(0.05)
        bad = [asyncio.ensure_future(batcher.submit(np.full((1, 2), v))) for v in (1, -1)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(first, *bad, return_exceptions=True)

    first, good_but_merged, bad = asyncio.run(main())
    assert isinstance(first, np.ndarray)
    assert isinstance(good_but_merged, BackendError) and isinstance(bad, BackendError)


def test_a_cancelled_request_does_not_disturb_the_others() -> None:
    calls: list[int] = []
    gate = threading.Event()
    batcher = MicroBatcher(_slow_doubler(calls, gate))

    async def main() -> np.ndarray:
        first = asyncio.ensure_future(batcher.submit(np.ones((1, 2))))
        await asyncio.sleep(0.05)
        dropped = asyncio.ensure_future(batcher.submit(np.ones((4, 2))))
        kept = asyncio.ensure_future(batcher.submit(np.full((2, 2), 3)))
        await asyncio.sleep(0.01)
        dropped.cancel()
        gate.set()
        await first
        return await kept

    np.testing.assert_array_equal(asyncio.run(main()), np.full((2, 2), 6))
    assert calls == [1, 2]  # the cancelled request's rows never ran


@pytest.mark.parametrize("max_batch", [64, 0])
def test_embedded_backend_results_equal_one_call_per_request(tiny_repository, max_batch) -> None:
    model = ModelRepository(tiny_repository).load("micro-cnn")
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, (n, 48, 48, 1), dtype=np.uint8) for n in (1, 3, 1, 7, 2)]

    async def main() -> tuple[list[np.ndarray], list[np.ndarray], EmbeddedBackend]:
        backend = EmbeddedBackend(max_batch=max_batch)
        await backend.start([model])
        alone = [await backend.predict(model, b) for b in batches]
        together = await asyncio.gather(*(backend.predict(model, b) for b in batches))
        return alone, together, backend

    alone, together, backend = asyncio.run(main())
    for a, b, batch in zip(alone, together, batches, strict=True):
        assert a.shape == b.shape == (len(batch), 5)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    batchers = backend.batchers()
    if max_batch:
        (batcher,) = batchers.values()
        assert batcher.rows == 2 * sum(len(b) for b in batches)
        assert batcher.calls < 2 * len(batches)  # the gathered requests were merged
    else:
        assert batchers == {}
