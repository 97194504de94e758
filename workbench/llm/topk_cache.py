"""The teacher's top-k, written to a file once and distilled from many times.

Large-scale pipelines do not keep the teacher running while the student trains: they
query it once over the training text, store the k largest log-probabilities per token
with their token ids, and train any number of students from the file (sparse or
"offline" logit distillation). `write` does that for exactly the sequences an
off-policy top-k run would collect (`distill.steps` with the same LLMConfig: the same
round prompts, the same sampling generator), so distilling from the cache
(`distill.steps(..., cache=...)`) is the live run without the teacher.

The file is one NumPy .npz (uncompressed, read back with allow_pickle=False: no
objects, only arrays), holding

    header      JSON: format version, the teacher's fingerprint (sha256 over its config
                and parameters), its tokenizer's characters and vocabulary size, k,
                temperature, the task, and the LLMConfig fields that decide which
                sequences were collected: queries, rounds and seed, and also steps and
                batch_size, since the generator that samples completions draws the
                batches between rounds
    ids         every sequence's token ids, concatenated, in the smallest unsigned
                integer type that holds the vocabulary (uint8 up to 256 ids)
    lengths, starts, round_sizes   where each sequence ends, where its completion
                starts, how many sequences each round collected
    values      (positions, k) float16: the teacher's top-k log-probabilities at T after
                every position but each sequence's last
    index       (positions, k) their token ids, same type as ids
    generator   (rounds, 5056) uint8: the run's random generator state after each round's
                sampling. The live run draws its training batches from the generator that
                sampled the completions, so a run from the cache restores it after each
                round to draw the very same batches (about 5 KB a round; a pipeline that
                does not need to replay one run exactly would leave it out)

so a stored position costs k · (2 + id bytes) plus its own id; `bytes_per_token` is
measured from the file, everything in it included. What to do with the missing mass 1 − Σ top-k is decided when
distilling (LLMConfig.tail), not stored."""
import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import asdict, is_dataclass

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from .. import _check
from . import distill
from .distill import LLMConfig
from .tokenizer import PAD
from .whitebox import LogitAPI

FORMAT = 1


def fingerprint(model):
    """sha256 (hex) over a model's config and every parameter and buffer (names, dtypes,
    shapes and bytes): two teachers share it only if they compute the same function."""
    h = hashlib.sha256()
    cfg = model.cfg
    h.update(json.dumps(asdict(cfg) if is_dataclass(cfg) else repr(cfg), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name} {t.dtype} {tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def id_dtype(vocab_size):
    """The smallest unsigned NumPy integer type that holds ids 0 .. vocab_size - 1."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if vocab_size - 1 <= np.iinfo(dtype).max:
            return dtype
    raise ValueError(f"vocab_size must be at most 2**32, got {vocab_size}")


def _settings(cfg):
    """The LLMConfig fields a cache must share with a run that distils from it."""
    return {"k": cfg.k, "temperature": cfg.temperature, "queries": cfg.queries, "rounds": cfg.rounds,
            "seed": cfg.seed, "steps": cfg.steps, "batch_size": cfg.batch_size}


def _task(task):
    return {"name": type(task).__name__, "bos": task.bos, "stop": task.stop, "max_new_tokens": task.max_new_tokens}


@torch.no_grad()
def write(path, teacher, task, cfg):
    """Ask `teacher` once for what an off-policy top-k run with `cfg` would collect, and
    store it at `path` (.npz). Returns the TopKCache loaded back from the file."""
    if not isinstance(cfg, LLMConfig):
        raise ValueError(f"cfg must be a workbench.llm.LLMConfig, got {type(cfg).__name__}")
    if cfg.method != "top-k" or cfg.on_policy != 0:
        raise ValueError(f"cfg must be method 'top-k' with on_policy 0 to write a cache (the teacher's top-k on its "
                         f"own text), got method={cfg.method!r}, on_policy={cfg.on_policy}")
    api = LogitAPI(teacher, cfg.k)  # checks teacher and k
    path = _writable(path)  # before any query is spent
    tok = teacher.tokenizer
    stop_id = tok.stoi[task.stop] if task.stop else None
    g = torch.Generator().manual_seed(cfg.seed)
    seqs, starts, values, index, round_sizes, states, pool_size = [], [], [], [], [], [], 0
    for r in range(cfg.rounds):
        n, _ = distill.round_queries(cfg, r)
        prompts = distill.round_prompts(task, n, cfg.seed, r)
        ids = tok.batch([task.bos + p for p in prompts], "prompt")[0]
        out, (v, i) = api.complete(ids, task.max_new_tokens, cfg.temperature, stop_id, g)
        for row, vr, ir, p in zip(out, v, i, prompts):
            length = int((row != PAD).sum())
            seqs.append(row[:length])
            values.append(vr[:length - 1])
            index.append(ir[:length - 1])
            starts.append(len(task.bos) + len(p))
        round_sizes.append(n)
        states.append(g.get_state().numpy())
        pool_size += n
        for _ in range(distill.round_steps(cfg, r)):  # the live run's batch draws between rounds
            distill.batch_index(pool_size, cfg, g)
    vocab = teacher.cfg.vocab_size
    header = {"format": FORMAT, "teacher": fingerprint(teacher), "chars": tok.chars, "vocab_size": vocab,
              "task": _task(task), **_settings(cfg)}
    ids_t = id_dtype(vocab)
    length_t = id_dtype(max(len(s) for s in seqs) + 1)
    arrays = {
        "header": np.array(json.dumps(header, sort_keys=True)),
        "ids": torch.cat(seqs).cpu().numpy().astype(ids_t),
        "lengths": np.array([len(s) for s in seqs], dtype=length_t),
        "starts": np.array(starts, dtype=length_t),
        "round_sizes": np.array(round_sizes, dtype=np.int64),
        "values": torch.cat(values).cpu().numpy().astype(np.float16),
        "index": torch.cat(index).cpu().numpy().astype(ids_t),
        "generator": np.stack(states),
    }
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return load(path)


def _writable(path):
    """path as a str, or a ValueError naming it when its folder is missing or read-only."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise ValueError(f"path must be a file path (str or os.PathLike), got {type(path).__name__}") from None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise ValueError(f"path must be in an existing folder you can write to, got {path!r} ({folder!r} "
                         f"{'is not writable' if os.path.isdir(folder) else 'does not exist'})")
    return path


def load(path):
    """The TopKCache stored at `path`: ValueError naming the path when it is missing, not a
    cache, corrupt (the zip's CRC-32 checks every array), inconsistent, or of a newer format."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise ValueError(f"path must be a file path (str or os.PathLike), got {type(path).__name__}") from None
    if not os.path.isfile(path):
        raise ValueError(f"path {path!r}: no such cache file (topk_cache.write makes one)")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in ("header", "ids", "lengths", "starts", "round_sizes", "values",
                                                 "index", "generator")}
        header = json.loads(str(arrays.pop("header")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise ValueError(f"path {path!r} is not a readable top-k cache ({type(e).__name__}: {e})") from None
    version = header.get("format") if isinstance(header, dict) else None
    if not isinstance(version, int) or version > FORMAT:
        raise ValueError(f"path {path!r} holds a top-k cache of format {version!r}; this workbench reads format "
                         f"{FORMAT} and older: update the workbench or write the cache again")
    return TopKCache(path, header, **arrays)


class TopKCache:
    """A loaded cache: `header` (dict), the sequences and their top-k, per round."""

    def __init__(self, path, header, ids, lengths, starts, round_sizes, values, index, generator):
        self.path, self.header = path, header
        lengths = lengths.astype(np.int64)
        k = header.get("k")
        consistent = (ids.ndim == 1 and lengths.ndim == 1 and starts.shape == lengths.shape
                      and int(lengths.sum()) == len(ids) and int(round_sizes.sum()) == len(lengths)
                      and len(round_sizes) == header.get("rounds") and values.ndim == 2
                      and values.shape == index.shape and values.shape == (int((lengths - 1).sum()), k)
                      and values.dtype == np.float16 and generator.dtype == np.uint8
                      and generator.ndim == 2 and len(generator) == len(round_sizes))
        if not consistent:
            raise ValueError(f"path {path!r} is not a consistent top-k cache: its arrays do not add up (sequences "
                             f"{len(lengths)}, ids {len(ids)}, top-k {values.shape} for k={k})")
        ends, pos_ends = np.cumsum(lengths), np.cumsum(lengths - 1)
        seq_ranges = list(zip(ends - lengths, ends))
        pos_ranges = list(zip(pos_ends - (lengths - 1), pos_ends))
        self._ids = torch.from_numpy(ids.astype(np.int64))
        self._values = torch.from_numpy(values.astype(np.float32))
        self._index = torch.from_numpy(index.astype(np.int64))
        self._starts = starts.astype(np.int64).tolist()
        self._seq, self._pos = seq_ranges, pos_ranges
        self._states = [torch.from_numpy(state.copy()) for state in generator]
        self._rounds = np.concatenate([[0], np.cumsum(round_sizes)]).tolist()
        self.file_bytes = os.path.getsize(path)
        self.tokens = len(values)  # teacher positions stored (each sequence's length minus its last)

    @property
    def k(self):
        return self.header["k"]

    @property
    def bytes_per_token(self):
        """File bytes per stored teacher position (measured: the file's size on disk)."""
        return self.file_bytes / self.tokens

    def __len__(self):
        return len(self._starts)

    def round(self, r, device=None):
        """Round r's sequences, right-padded (n, L) long; where their completions start;
        and the teacher's top-k (values float32 (n, L-1, k), ids long), padded with 0
        as distill.Pool pads, on `device`."""
        rows = range(self._rounds[r], self._rounds[r + 1])
        seqs = pad_sequence([self._ids[slice(*self._seq[i])] for i in rows], batch_first=True, padding_value=PAD)
        values = pad_sequence([self._values[slice(*self._pos[i])] for i in rows], batch_first=True)
        index = pad_sequence([self._index[slice(*self._pos[i])] for i in rows], batch_first=True)
        return (seqs.to(device), [self._starts[i] for i in rows], (values.to(device), index.to(device)))

    def generator_state(self, r):
        """The sampling generator's state after round r collected its sequences in the live
        run: restored by a run from the cache so its batches are the live run's."""
        return self._states[r]

    def check(self, teacher=None, tokenizer=None, cfg=None):
        """ValueError naming `cache` and what differs when this cache was written from
        another teacher, for another tokenizer, or with other settings than cfg."""
        h = self.header
        if teacher is not None:
            if not isinstance(teacher, torch.nn.Module) or not hasattr(teacher, "cfg"):
                raise ValueError(f"teacher must be a language model of workbench.llm, got {type(teacher).__name__}")
            got = fingerprint(teacher)
            if got != h["teacher"]:
                raise ValueError(f"cache {self.path!r} was written from another teacher: its fingerprint (sha256 "
                                 f"of config and parameters) is {h['teacher'][:12]}…, this teacher's is {got[:12]}…")
            tokenizer = tokenizer or teacher.tokenizer
        if tokenizer is not None and tokenizer.chars != h["chars"]:
            raise ValueError(f"cache {self.path!r} holds ids of another tokenizer: written for characters "
                             f"{h['chars']!r}, got {tokenizer.chars!r}")
        if cfg is not None:
            if not isinstance(cfg, LLMConfig):
                raise ValueError(f"cfg must be a workbench.llm.LLMConfig, got {type(cfg).__name__}")
            wanted = _settings(cfg)
            differ = [f"{name}={h[name]!r} (cfg has {wanted[name]!r})" for name in wanted if h[name] != wanted[name]]
            if differ:
                raise ValueError(f"cache {self.path!r} was written with other settings: " + ", ".join(differ)
                                 + "; write the cache again with this cfg")
        return self

    def __repr__(self):
        return (f"TopKCache({self.path!r}: {len(self)} sequences, {self.tokens} positions, k={self.k}, "
                f"{self.bytes_per_token:.1f} bytes/token)")


def full_logits_bytes_per_token(vocab_size):
    """What storing the whole distribution would cost: vocab_size float16 numbers."""
    return 2 * vocab_size


def bytes_table(ks=(1, 2, 5, 10, 20), queries=200, seed=0, teacher=None, task=None):
    """Measured bytes per token of caches written for each k (queries and seed as given,
    default teacher and task): rows {k, bytes_per_token, full_logits_bytes_per_token}."""
    from . import experiments
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__") or not list(ks):
        raise ValueError(f"ks must be a non-empty list of k values (integers >= 1), got {ks!r}")
    teacher = teacher if teacher is not None else experiments.teacher("facts")
    task = task if task is not None else experiments.task()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in ks:
            cfg = LLMConfig(method="top-k", k=k, queries=queries, seed=seed, rounds=experiments.rounds_for(queries))
            cache = write(os.path.join(tmp, f"k{k}.npz"), teacher, task, cfg)
            rows.append({"k": k, "bytes_per_token": cache.bytes_per_token,
                         "full_logits_bytes_per_token": full_logits_bytes_per_token(teacher.cfg.vocab_size)})
    return rows


def compare_tails(k=5, seed=0, queries=LLMConfig.queries, path=None, loss="forward_kl", steps=LLMConfig.steps,
                  reference=True, device=None):
    """Write one cache (k, seed, queries) and distil a fresh default student from it with
    each tail (LLMConfig.tail: "bucket", "drop", "uniform"); with reference=True also the
    live white-box run on the full logits, same seed and budget. Returns rows {tail,
    kl_to_truth, fact_accuracy, rare_coverage, second_mode_coverage, bytes_per_token}
    (the reference's bytes_per_token: full logits in float16, not measured). path: where
    to keep the cache (None: a temporary file)."""
    from . import experiments
    teacher = experiments.teacher("facts", device)
    task = experiments.task()
    cfg = LLMConfig(method="top-k", k=k, seed=seed, queries=queries, loss=loss, steps=steps,
                    rounds=experiments.rounds_for(queries))
    keep = ("kl_to_truth", "fact_accuracy", "rare_coverage", "second_mode_coverage")
    with tempfile.TemporaryDirectory() as tmp:
        cache = write(path if path is not None else os.path.join(tmp, "topk.npz"), teacher, task, cfg)
        rows = []
        for tail in ("bucket", "drop", "uniform"):
            student = experiments.student(cfg.seed, device=next(teacher.parameters()).device)
            result = distill.run(student, None, task, cfg.replace(tail=tail), cache=cache)
            rows.append({"tail": tail, **{m: result.metrics[m] for m in keep},
                         "bytes_per_token": cache.bytes_per_token})
    if reference:
        r = experiments.experiment("white-box", queries=queries, loss=loss, seed=seed, steps=steps, device=device)
        rows.append({"tail": "full logits", **{m: r[m] for m in keep},
                     "bytes_per_token": full_logits_bytes_per_token(teacher.cfg.vocab_size)})
    return rows
