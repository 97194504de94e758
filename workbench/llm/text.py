"""Real text for the language models: any UTF-8 file, or an offline default.

The default needs no download: the help texts that ship with Python
(`pydoc_data.topics`, about 465k characters of English prose and code), folded to ASCII
so that its characters are the same on every Python version."""
import numbers
import pathlib
import string
from dataclasses import dataclass

import torch

from .. import _check
from .tokenizer import CharTokenizer

ASCII = string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", "").replace("\t", "")
_FOLD = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\t": "    "}


def pydoc_text():
    """Python's own help topics, one after another, folded to printable ASCII."""
    from pydoc_data.topics import topics
    text = "\n\n".join(topics[k] for k in sorted(topics))
    return "".join(_FOLD.get(c, c) for c in text if c in ASCII or c in _FOLD)


def read_text(path):
    """The text of a UTF-8 file, or a ValueError that says what is wrong with it."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"path must name a readable text file, got {str(path)!r} (no such file)")
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError(f"path must name a non-empty text file, got {str(path)!r} (empty)")
    if b"\x00" in raw[:8192]:
        raise ValueError(f"path must name a text file, got {str(path)!r}, which looks binary (it contains NUL bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"path must name a UTF-8 text file, got {str(path)!r}: byte {e.start} is not UTF-8 "
                         f"(save it as UTF-8 first)") from None


@dataclass(frozen=True)
class Corpus:
    """A text as ids: the first 90% for training, the rest held out."""
    name: str
    tokenizer: CharTokenizer
    train: torch.Tensor
    val: torch.Tensor

    def windows(self, n, length, generator, split="train"):
        """n random windows of `length` consecutive ids, (n, length)."""
        n, length = _check.positive_int("n", n), _check.positive_int("length", length)
        _check.one_of("split", split, ("train", "val"))
        ids = self.train if split == "train" else self.val
        if len(ids) <= length:
            raise ValueError(f"the {split} text has {len(ids)} characters, fewer than a window of {length}")
        start = torch.randint(len(ids) - length, (n,), generator=generator)
        return ids[start[:, None] + torch.arange(length)]

    def decode(self, ids):
        return self.tokenizer.decode(ids)


def load(path=None, tokenizer=None, val_share=0.1, min_chars=1000):
    """A Corpus from the UTF-8 file at `path`, or from Python's help texts when None.
    `tokenizer` (e.g. a teacher's) must cover the text; by default one is built from it."""
    share = float(val_share) if isinstance(val_share, numbers.Real) and not isinstance(val_share, bool) else None
    if share is None or not 0 < share < 1:
        raise ValueError(f"val_share must be a number in (0, 1) (the share of the text held out), got {val_share!r}")
    min_chars = _check.positive_int("min_chars", min_chars)
    text = pydoc_text() if path is None else read_text(path)
    if len(text) < min_chars:
        raise ValueError(f"the text must have at least {min_chars} characters to train on, got {len(text)}")
    tokenizer = tokenizer or CharTokenizer.from_text(text)
    ids = torch.tensor(tokenizer.encode(text, "the text"), dtype=torch.long)
    cut = int(len(ids) * (1 - share))
    return Corpus("pydoc topics" if path is None else pathlib.Path(path).name, tokenizer, ids[:cut], ids[cut:])
