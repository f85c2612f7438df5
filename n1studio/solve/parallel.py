"""Reference AC OPF solves of many variants of one grid, on several processes or a Ray cluster.

`ReferencePool(net, workers=N, ray=None)` maps variant specs (outages, perturbation dict)
to their references, in the order given, so whatever runs them the same dataset comes out:

- `workers <= 1` and no Ray: solved here, one after the other, through the cached
  `n1studio.solve.reference.reference` (exactly what a serial build did);
- `workers > 1`: a `ProcessPoolExecutor` with a *spawn* context (no fork of a process that
  may hold threads, Qt or a model worker). Each worker process loads the grid once (the
  pickled net travels once, in the initializer), solves the N case first so every variant
  warm-starts from it as a serial build does, then solves its share;
- `ray="ADDRESS"` (`"local"` starts a Ray runtime on this machine): one Ray actor per
  worker holds the grid and solves its share (`ray.util.ActorPool.map` keeps the order).
  Ray is an optional extra (`pip install n1studio[ray]`).

Worker processes end when their parent dies, however it dies (`kill -9` included), as the
model worker does (llm/worker.py: its pipe closes): each worker watches a pipe whose only
writing end the parent holds, and exits when it reads end-of-file; on Linux the kernel
also sends it SIGKILL when the parent goes (``PR_SET_PDEATHSIG``), which reaches a worker
busy inside a solve that holds the interpreter. With the workers gone, multiprocessing's
resource tracker sees its last writer close and ends too.

What comes back from another process is a `Solved` (status, success, objective, answer,
solve time): what a dataset stores and `sweep --opf` reports, not the full `OpfResult`
with its arrays. In-process solves return the `OpfResult` itself (same attributes).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from n1studio.errors import N1Error
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant
from n1studio.solve.reference import reference

log = logging.getLogger(__name__)

#: a variant to solve: (outages, perturbation as `Perturbation.to_dict()` or None)
Spec = tuple[tuple[str, ...], dict | None]


def default_workers() -> int:
    """All cores but one (at least one)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    return max(1, n - 1)


@dataclass(frozen=True)
class Solved:
    """A reference solved in another process: what datasets and sweeps keep of it."""

    status: str
    success: bool
    objective: float | None
    answer: dict | None
    solve_time_s: float = 0.0
    iterations: int = 0


def _summary(res) -> Solved:
    ok = bool(res.success)
    return Solved(status=str(res.status), success=ok,
                  objective=float(res.objective) if ok and res.objective is not None else None,
                  answer=res.answer if ok else None, solve_time_s=float(res.solve_time_s),
                  iterations=int(getattr(res, "iterations", 0) or 0))


def _variant(net, spec: Spec):
    outages, pert = spec
    return Variant(net, list(outages), Perturbation.from_dict(pert) if pert else None)


def solve_spec(net, spec: Spec):
    """The AC reference of one spec, here (cached; an N1Error is a failed status)."""
    try:
        return reference(_variant(net, spec), "ac")
    except N1Error as exc:
        return Solved(status=f"error: {exc}", success=False, objective=None, answer=None)


# ---- process workers: one grid per process, loaded once ------------------------------------
_NET = None
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent_pid: int, lifeline) -> None:
    """End this worker when its parent dies: SIGKILL from the kernel (Linux), and a thread
    that exits when the `lifeline` pipe (the parent holds its only writing end) closes."""
    if sys.platform.startswith("linux"):
        # no maintained library wraps prctl; without it (AttributeError) the lifeline still works
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before we could ask
        os._exit(0)

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            lifeline.recv()  # the parent never writes: this returns only at end-of-file
        os._exit(0)

    threading.Thread(target=watch, name="n1studio-lifeline", daemon=True).start()


def _init_worker(net, parent_pid: int | None = None, lifeline=None) -> None:
    global _NET
    if parent_pid is not None:
        _die_with_parent(parent_pid, lifeline)
    _NET = net
    with contextlib.suppress(N1Error):  # warm starts from the N solution, as in a serial build
        reference(Variant(net), "ac")


def _solve_in_worker(spec: Spec) -> Solved:
    res = solve_spec(_NET, spec)
    return res if isinstance(res, Solved) else _summary(res)


class _RaySolver:
    """A Ray actor body: holds the grid, solves specs (see `_init_worker`)."""

    def __init__(self, net):
        _init_worker(net)

    def solve(self, spec: Spec) -> Solved:
        return _solve_in_worker(spec)


def ray_available() -> bool:
    try:
        import ray  # noqa: F401, PLC0415 - an optional extra
    except ImportError:
        return False
    return True


class ReferencePool:
    """Solve references of `net`'s variants with `workers` processes or on Ray at `ray`.

    Use as a context manager; `map(specs)` returns one result per spec, in order. A
    `cancel()` returning True stops a map between results; the unsolved entries are None.
    """

    def __init__(self, net, workers: int | None = None, ray: str | None = None):
        self.net = net
        self.workers = default_workers() if workers is None else int(workers)
        if self.workers < 1:
            raise N1Error(f"--workers must be at least 1 (got {self.workers})")
        self.ray_address = ray
        self._pool = None
        self._lifeline = None  # the writing end of the workers' lifeline pipe
        self._actors = None
        self._ray_started = False

    @property
    def kind(self) -> str:
        if self.ray_address:
            return "ray"
        return "processes" if self.workers > 1 else "serial"

    def __enter__(self) -> ReferencePool:  # noqa: PYI034
        if self.ray_address:
            self._start_ray()
        elif self.workers > 1:
            ctx = multiprocessing.get_context("spawn")
            reader, self._lifeline = ctx.Pipe(duplex=False)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_init_worker,
                initargs=(self.net, os.getpid(), reader))
        return self

    def _start_ray(self) -> None:
        try:
            import ray  # noqa: PLC0415 - an optional extra
        except ImportError:
            raise N1Error("--ray needs Ray: pip install 'n1studio[ray]'") from None
        if not ray.is_initialized():
            try:
                if self.ray_address == "local":
                    ray.init(num_cpus=self.workers, include_dashboard=False,
                             log_to_driver=False, configure_logging=False)
                else:
                    ray.init(address=self.ray_address, log_to_driver=False,
                             configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                msg = " ".join(str(exc).split())[:200]
                raise N1Error(f"cannot reach the Ray cluster at {self.ray_address}: "
                              f"{msg}") from None
            self._ray_started = True
        n = self.workers
        if self.ray_address != "local":
            n = max(1, int(ray.cluster_resources().get("CPU", n)))
        actor = ray.remote(num_cpus=1)(_RaySolver)
        net_ref = ray.put(self.net)
        self._actors = [actor.remote(net_ref) for _ in range(n)]

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None
        if self._actors is not None:
            import ray  # noqa: PLC0415 - an optional extra

            for a in self._actors:
                ray.kill(a)
            self._actors = None
            if self._ray_started:
                ray.shutdown()
                self._ray_started = False

    def map(self, specs: Iterable[Spec], cancel: Callable[[], bool] | None = None,
            progress: Callable[[int, int], None] | None = None) -> list:
        specs = [(tuple(o), p) for o, p in specs]
        out: list = [None] * len(specs)
        def stopped() -> bool:
            return bool(cancel and cancel())

        if self._actors is not None:
            from ray.util import ActorPool  # noqa: PLC0415 - an optional extra

            pool = ActorPool(self._actors)
            for i, res in enumerate(pool.map(lambda a, s: a.solve.remote(s), specs)):
                out[i] = res
                if progress:
                    progress(i + 1, len(specs))
                if stopped():
                    break  # what is in flight finishes on the actors and is dropped
            return out
        if self._pool is None:
            for i, spec in enumerate(specs):
                if stopped():
                    break
                out[i] = solve_spec(self.net, spec)
                if progress:
                    progress(i + 1, len(specs))
            return out
        futures = [self._pool.submit(_solve_in_worker, s) for s in specs]
        try:
            for i, fut in enumerate(futures):
                out[i] = fut.result()
                if progress:
                    progress(i + 1, len(specs))
                if stopped():
                    break
        finally:
            for fut in futures:
                fut.cancel()
        return out


def solve_references(net, specs: Iterable[Spec], *, workers: int | None = None,
                     ray: str | None = None, cancel: Callable[[], bool] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> list:
    """`ReferencePool(net, workers, ray).map(specs)` in one call."""
    with ReferencePool(net, workers=workers, ray=ray) as pool:
        return pool.map(specs, cancel=cancel, progress=progress)
