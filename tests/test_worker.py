"""The engine API in sync and async mode: newest request only, stamps, errors as result.error."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from demo.engine.api import EditRequest, Engine
from demo.engine.worker import AsyncClient, SyncClient, worker_main
from tests.test_solver import paint


def test_worker_keeps_only_the_newest_request(small_model_file):
    requests, results = queue.Queue(), queue.Queue()
    constraints = paint(32, ("color", [(0.2, 0.5), (0.8, 0.5)], (255, 0, 0)))
    # Five requests are waiting before the worker starts: it must work on the last one only.
    for stamp in range(1, 6):
        requests.put(EditRequest(model=str(small_model_file), device="cpu", candidates=3, steps=2,
                                 constraints=constraints, stamp=stamp))
    worker = threading.Thread(target=worker_main, args=(requests, results))
    worker.start()
    seen = [results.get(timeout=60)]
    while seen[-1].steps_left:
        seen.append(results.get(timeout=60))
    requests.put(None)
    worker.join(60)
    assert not worker.is_alive()
    assert {r.stamp for r in seen} == {5}
    assert all(r.error is None for r in seen)
    assert sum(r.chunk_steps for r in seen) == 2


def test_stale_results_are_dropped_after_a_barrier(small_model_file):
    client = SyncClient()
    base = EditRequest(model=str(small_model_file), device="cpu", candidates=2, steps=0)
    client.submit(base)
    first = client.poll()
    assert first is not None and first.stamp == 1
    # A result older than a barrier (e.g. computed before a reset) is never returned.
    stale = first
    client.submit(base, barrier=True)
    assert client._accept(stale) is None
    fresh = client.poll()
    assert fresh is not None and fresh.stamp == 2


def test_engine_errors_become_result_error(tmp_path):
    engine = Engine()
    engine.submit(EditRequest(model=str(tmp_path / "missing.safetensors"), device="cpu", stamp=4))
    result = engine.run()
    assert result.stamp == 4 and not result.ok
    assert "missing.safetensors" in result.error


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_async_clients_step_and_stamp(small_model_file, mode):
    client = AsyncClient(mode, torch_threads=1)
    try:
        constraints = paint(32, ("color", [(0.2, 0.5), (0.8, 0.5)], (0, 0, 255)))
        stamp = client.submit(EditRequest(model=str(small_model_file), device="cpu", candidates=3, steps=12,
                                          constraints=constraints, top_k=2))
        done = client.wait(timeout=120, until=lambda r: r.stamp == stamp and r.steps_left == 0)
        assert done is not None and done.error is None
        assert done.steps_done == 12 and done.images.shape == (2, 32, 32, 3) and done.images.dtype == np.uint8
        # The worker can be replaced without the client (the window) going away.
        client.restart()
        again = client.wait(timeout=120, until=lambda r: r.steps_left == 0)
        assert again is not None and again.error is None and client.alive
    finally:
        client.close()
