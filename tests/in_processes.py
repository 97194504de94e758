"""Run independent, seeded experiments of a lesson test in worker processes, one thread
each: the same sums in the same order as a one-thread run (so the same numbers as the
ones a test's margins were measured on), on every core of the machine at once."""
import concurrent.futures
import multiprocessing


def _one_thread():
    import torch
    torch.set_num_threads(1)


def run_all(jobs, workers=2):
    """[fn(*args, **kwargs) for fn, args(, kwargs) in jobs], computed in `workers` fresh
    processes (spawned: no state of this one is shared), in order. The functions must be
    importable (module-level) and return picklable values."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
        futures = [pool.submit(job[0], *job[1], **(job[2] if len(job) > 2 else {})) for job in jobs]
        return [f.result() for f in futures]
