"""Threads, pools and worker counts: every one skseg uses is decided here.

- :func:`n_workers`: the workers an estimator's ``n_jobs`` asks for
  (scikit-learn's convention, through joblib);
- :func:`fit_threads`: the threads of one fit's palette engine, as many as
  scikit-learn's ``KMeans`` would use (its OpenMP thread count), one when
  the fit runs in a worker thread;
- :func:`n_cpus`: every usable CPU;
- :func:`run_in_threads`: a kept pool for compiled kernels that release the
  GIL; :func:`fault_in` touches fresh output pages from one thread first;
- :func:`release_free_memory`: freed heap memory back to the system.

This module imports nothing else of skseg.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import threading

import numpy as np

__all__ = [
    "n_workers",
    "fit_threads",
    "n_cpus",
    "run_in_threads",
    "fault_in",
    "release_free_memory",
]


def n_workers(n_jobs):
    """Number of workers an estimator's ``n_jobs`` asks for.

    scikit-learn's convention: ``None`` means 1 unless in a
    :func:`joblib.parallel_config` context, ``-1`` all processors.
    """
    from joblib import effective_n_jobs

    return max(1, effective_n_jobs(n_jobs))


def fit_threads():
    """Threads one fit's palette engine may use: those scikit-learn's KMeans uses.

    scikit-learn runs KMeans' Lloyd iterations on its OpenMP threads (one
    per physical core unless ``OMP_NUM_THREADS`` or :mod:`threadpoolctl`
    limits them), and skseg's exact refinement ran through it before its
    own Lloyd kernels. The same count applies here, so a single fit of a
    large palette keeps using the machine as it did. A fit started in a
    thread other than the main one (a worker of ``n_jobs``, of a Dask
    cluster, of the command line) runs on that thread alone: its caller
    already splits the work.
    """
    if threading.current_thread() is not threading.main_thread():
        return 1
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    return max(1, int(_openmp_effective_n_threads()))


def n_cpus():
    """Count the usable CPUs.

    The threads of partial_fit's passes, as the OpenMP loops of
    scikit-learn's KMeans that fit runs use them.
    """
    import os

    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run_in_threads(func, tasks, n_threads, slots=False):
    """Call ``func(*task)`` for every task on ``n_threads`` threads.

    For compiled kernels that release the GIL and write disjoint parts of a
    shared output. The calling thread works too, beside ``n_threads - 1``
    threads of a pool kept between calls; each takes the next task until
    none is left. Returns when every call has returned; the first exception
    is raised.

    With ``slots``, ``func(slot, *task)``: ``slot`` (0 to ``n_threads - 1``)
    names the thread making the call, for per-thread accumulators (counts
    added up after) with tasks dealt out as threads come free.

    A pool started per call spent ~3 ms starting its threads (a 2048x2048
    Lab conversion takes 13 ms on one thread). The pool belongs to the
    process that made it: a forked child, whose copy has no threads, makes
    its own.
    """
    tasks = iter(tasks)
    lock = threading.Lock()

    def drain(slot=0):
        while True:
            with lock:
                task = next(tasks, None)
            if task is None:
                return
            if slots:
                func(slot, *task)
            else:
                func(*task)

    if n_threads <= 1 or threading.current_thread().name.startswith(_POOL_NAME):
        # one thread, or called from a task of the pool (whose threads may all
        # be waiting for their own tasks): this thread does every task
        drain()
        return
    pool = _thread_pool(n_threads - 1, os.getpid())
    futures = [pool.submit(drain, t + 1) for t in range(n_threads - 1)]
    try:
        drain()
    finally:  # no thread may still be writing when this returns
        concurrent.futures.wait(futures)
    for future in futures:
        future.result()


_POOL_NAME = "skseg-pool"


@functools.lru_cache(maxsize=4)
def _thread_pool(n_threads, pid):
    return concurrent.futures.ThreadPoolExecutor(
        n_threads, thread_name_prefix=_POOL_NAME
    )


def fault_in(a, page=4096):
    """Touch one byte of every memory page of the C-contiguous array ``a``.

    Done by one thread before threads write into a fresh output: first
    touches of fresh memory from two threads at once were erratic here (a
    48 MB array: 2-48 ms, against 2.3 ms from one thread).
    """
    flat = a.reshape(-1).view(np.uint8)
    flat[::page] = 0


_MALLOC_TRIM = []


def release_free_memory():
    """Give memory freed by a large fit back to the operating system.

    Fitting a large batch allocates and frees tens of MB of temporaries that
    glibc keeps in the process heap; handing them back keeps the peak of a
    following ``predict`` on a large photo ~20 MB lower. A no-op where the C
    library has no ``malloc_trim`` (non-glibc systems).
    """
    if not _MALLOC_TRIM:
        try:
            import ctypes

            _MALLOC_TRIM.append(ctypes.CDLL("libc.so.6").malloc_trim)
        except (OSError, AttributeError):
            _MALLOC_TRIM.append(None)
    if _MALLOC_TRIM[0] is not None:
        _MALLOC_TRIM[0](0)
