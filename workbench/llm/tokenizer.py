"""A character-level tokenizer: one id per character, id 0 for padding."""
import torch

PAD = 0


class CharTokenizer:
    """Characters to integer ids and back. `chars` is the vocabulary (id 0 is padding,
    the characters follow in sorted order, so the same text gives the same ids)."""

    def __init__(self, chars):
        if isinstance(chars, (str, set, list, tuple)) and all(isinstance(c, str) and len(c) == 1 for c in chars):
            chars = "".join(sorted(set(chars)))
        else:
            raise ValueError(f"chars must be a string (or a collection) of single characters, got {chars!r}")
        if not chars:
            raise ValueError("chars must name at least one character, got an empty string")
        self.chars = chars
        self.stoi = {c: i + 1 for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text):
        return cls(set(text))

    @property
    def vocab_size(self):
        return len(self.chars) + 1

    def encode(self, text, name="text"):
        unknown = sorted({c for c in text if c not in self.stoi})
        if unknown:
            raise ValueError(f"{name} may only use the model's {len(self.chars)} characters "
                             f"{self.chars!r}; it contains {''.join(unknown)!r}")
        return [self.stoi[c] for c in text]

    def decode(self, ids):
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        return "".join(self.chars[i - 1] for i in ids if i != PAD)

    def batch(self, texts, name="texts"):
        """Right-padded ids (B, L) and a mask (B, L) that is True on real characters."""
        rows = [self.encode(t, name) for t in texts]
        length = max((len(r) for r in rows), default=0)
        ids = torch.full((len(rows), length), PAD, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        return ids, ids != PAD

    def __repr__(self):
        return f"CharTokenizer({self.vocab_size} ids: padding + {self.chars!r})"
