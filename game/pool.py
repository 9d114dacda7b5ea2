"""Process pools that survive a worker's death (issue 10: one bad run never stops the others).

A worker killed by the operating system (out of memory, a signal) breaks a whole
``ProcessPoolExecutor``: every job still pending fails with ``BrokenProcessPool``. Here the jobs
the broken pool could not finish are run again, each in a process of its own, so only the job
that really kills its process is reported as crashed.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Sequence, TypeVar

J = TypeVar("J")
R = TypeVar("R")


def _alone(fn: Callable[[J], R], job: J) -> tuple[bool, R | str]:
    """Run one job in a process of its own: (True, result), or (False, why it could not finish)."""
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return True, pool.submit(fn, job).result()
    except BrokenProcessPool:
        return False, "its worker process stopped (killed by the system: out of memory, or a signal)"


def map_surviving_crashes(fn: Callable[[J], R], jobs: Sequence[J], workers: int, crashed: Callable[[J, str], R],
                          on_done: Callable[[int], None] | None = None) -> list[R]:
    """``[fn(job) for job in jobs]`` in argument order on ``workers`` processes. A job whose process
    dies gets ``crashed(job, why)`` instead; the other jobs still run. ``fn`` must be picklable and
    catch its own exceptions (they would be re-raised here)."""
    results: list[R | None] = [None] * len(jobs)
    lost: list[int] = []
    done = 0
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except BrokenProcessPool:
                lost.append(i)
                continue
            done += 1
            if on_done:
                on_done(done)
    for i in sorted(lost):  # the broken pool's unfinished jobs, each in a process of its own
        ok, value = _alone(fn, jobs[i])
        results[i] = value if ok else crashed(jobs[i], value)  # type: ignore[arg-type]
        done += 1
        if on_done:
            on_done(done)
    return results  # type: ignore[return-value]
