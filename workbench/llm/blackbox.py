"""Black-box access to a teacher: text in, text out, nothing else.

This is what an API user of a proprietary model gets, and what model imitation works
with: the student is fine-tuned on the answers the teacher samples (at temperature 1 by
default; 0 gives greedy answers). Kim & Rush's (2016) sequence-level KD fine-tunes on the
teacher's beam-search output instead, an approximation of its likeliest answer; greedy
answers are the nearest setting here. The wrapper counts the queries and the tokens it
is asked for, and refuses any request for logits or probabilities.

The boundary. The teacher lives only in the frame of a worker thread ("TextAPI teacher"),
which the TextAPI talks to through two queues that carry strings in and strings (or an
error's type and message) out. The TextAPI object holds the queues, its counters and its
temperature; it has no attribute, closure or garbage-collector referent that leads to the
model or to any tensor (tests/test_llm_blackbox.py walks them). What this does not
guarantee: Python has no private memory, so code that searches the whole interpreter
(gc.get_objects(), sys._current_frames(), threading.enumerate()) can still find the
worker's frame; and whoever built the TextAPI holds the teacher anyway. The boundary
keeps an honest student from seeing logits by accident, not a determined one."""
import atexit
import queue
import threading
import weakref

import torch

from .. import _check
from .gpt import check_temperature, generate

_STOP = None  # sent to the worker when its TextAPI is garbage-collected
_WORKERS = []  # (thread, its request queue): stopped and joined at exit, while the interpreter is whole


@atexit.register
def _stop_workers():
    """End every worker before the interpreter tears down: a daemon thread still inside
    torch when the interpreter finalizes can abort the process."""
    for _, requests in _WORKERS:
        requests.put(_STOP)
    for thread, _ in _WORKERS:
        thread.join(timeout=10)


def _serve(requests, replies, teacher, top_k, max_new_tokens, stop, seed):
    """The worker: answer each (prompts, temperature) with the completions' texts, or
    with (error type, message) — never the exception itself, whose traceback would
    reach this frame and the teacher."""
    tok, bos = teacher.tokenizer, getattr(teacher, "bos", "")
    stop_id = tok.encode(stop, "stop")[0] if stop else None
    generator = torch.Generator().manual_seed(seed)
    device = next(teacher.parameters()).device
    while True:
        request = requests.get()
        if request is _STOP:
            return
        prompts, temperature = request
        try:
            ids, _ = tok.batch([bos + p for p in prompts], "prompt")
            out = generate(teacher, ids.to(device), max_new_tokens, temperature, top_k, stop_id, generator)
            replies.put(("ok", [tok.decode(row[len(bos) + len(p):]) for row, p in zip(out.cpu(), prompts)],
                         len(bos)))
        except Exception as error:  # noqa: BLE001 - handed back to the caller's thread by type and message
            replies.put(("error", type(error), str(error)))


class TextAPI:
    """`api(prompt) -> completion` or `api.complete(prompts) -> completions`.

    The teacher samples each completion at `temperature` (0: greedy; settable; else at
    least gpt.MIN_TEMPERATURE) from its `top_k` most likely tokens, up to
    `max_new_tokens` or its `stop` character. `queries` counts prompts answered,
    `tokens` the characters the teacher read and wrote. The teacher is kept behind a
    worker thread (see the module's docstring for what that boundary does and does not
    guarantee)."""
    __slots__ = ("_requests", "_replies", "_lock", "queries", "tokens", "_temperature", "__weakref__")

    def __init__(self, teacher, temperature=1.0, top_k=None, max_new_tokens=16, stop=None, seed=0):
        if not isinstance(teacher, torch.nn.Module) or not hasattr(teacher, "tokenizer"):
            raise ValueError(f"teacher must be a language model of workbench.llm, got {type(teacher).__name__}")
        max_new_tokens = _check.positive_int("max_new_tokens", max_new_tokens)
        seed = _check.seed("seed", seed)
        if top_k is not None:
            top_k = _check.positive_int("top_k", top_k)
        if stop:
            teacher.tokenizer.encode(stop, "stop")  # a ValueError here, in the caller's thread
        self.queries, self.tokens = 0, 0
        self.temperature = temperature
        self._requests, self._replies, self._lock = queue.SimpleQueue(), queue.SimpleQueue(), threading.Lock()
        worker = threading.Thread(target=_serve, name="TextAPI teacher", daemon=True,
                                  args=(self._requests, self._replies, teacher, top_k, max_new_tokens, stop, seed))
        worker.start()
        _WORKERS[:] = [w for w in _WORKERS if w[0].is_alive()] + [(worker, self._requests)]
        weakref.finalize(self, self._requests.put, _STOP)  # the worker ends with its TextAPI

    @property
    def temperature(self):
        return self._temperature

    @temperature.setter
    def temperature(self, value):
        self._temperature = check_temperature(value)

    def _complete(self, prompts):
        with self._lock:  # one request in flight: replies come back in order
            self._requests.put((prompts, self._temperature))
            reply = self._replies.get()
        if reply[0] == "error":
            try:
                error = reply[1](reply[2])
            except Exception:  # noqa: BLE001 - a type that needs more than a message
                error = RuntimeError(f"{reply[1].__name__}: {reply[2]}")
            raise error
        _, texts, bos = reply
        self.queries += len(prompts)
        self.tokens += sum(bos + len(p) + len(t) for p, t in zip(prompts, texts))
        return texts

    def complete(self, prompts):
        """One completion (a str) per prompt; each prompt is one query."""
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise ValueError(f"prompts must be a list of strings, got {type(prompts).__name__}")
        return self._complete(list(prompts)) if prompts else []

    def __call__(self, prompt):
        if not isinstance(prompt, str):
            raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
        return self._complete([prompt])[0]

    def _refuse(self, *args, **kwargs):
        raise PermissionError("a black-box teacher returns text only: no logits, probabilities or scores. "
                              "Use workbench.llm.LogitAPI for white-box access.")

    logits = logprobs = probabilities = score = top_k = _refuse

    def __repr__(self):
        return f"TextAPI(queries={self.queries}, tokens={self.tokens})"
