"""The teacher's side of a distillation run: its logits, soft labels and tapped features
on the transfer set, from one pass of the teacher.

The transfer set is not augmented, so these never change during a run: they are computed
once and kept on the device while they fit in a memory budget (DistillConfig.teacher_memory_mb).
Over the budget (CIFAR-sized feature maps of 50,000 images are gigabytes) the teacher runs
on each batch instead, so peak memory does not grow with the transfer set.

Always float32, even where the student's step runs in bf16: at a high temperature the soft
labels come from small differences of logits that bf16's 8-bit mantissa rounds away."""
import torch
import torch.nn.functional as F

from .features import concat, feature_chunks, predict_features


def soft_labels_and_entropy(logits, temperature):
    """p = softmax(logits / T) and T² · H(p) per example (KL = cross-entropy − entropy)."""
    p = F.softmax(logits / temperature, dim=1)
    return p, torch.special.entr(p).sum(1) * temperature**2


class TeacherOutputs:
    """`outputs(idx)` → (logits, soft labels, T² · entropy, {layer: features}) of the
    transfer-set examples `idx`; what the run does not use is None (or {})."""

    def __init__(self, teacher, x, layers, temperature, budget_bytes, soft=True, logits=False):
        self.teacher, self.x, self.layers, self.temperature = teacher, x, list(layers), temperature
        self.soft, self.logits = soft, logits
        # what a step reads from the kept outputs; a run drops what it reads elsewhere
        # (the soft labels from its response targets, a layer from TeacherDistances)
        self.step_reads_soft_labels, self.step_layers = True, list(self.layers)
        chunks = feature_chunks(teacher, x, self.layers, mixed_precision=False)
        first = next(chunks)  # its size per example decides whether the whole set is kept
        self.num_classes = first[0].shape[1]
        self.shapes = {name: f.shape[1:] for name, f in first[1].items()}
        # float32 per example: logits, soft labels and entropy (as used), and every tapped feature
        per_example = 4 * ((self.num_classes if logits else 0) + (self.num_classes + 1 if soft else 0)
                           + sum(f[0].numel() for f in first[1].values()))
        self.cached = per_example * len(x) <= budget_bytes
        self.bytes = per_example * len(x) if self.cached else 0
        if self.cached:  # the rest of the one pass
            all_logits, feats = concat([first, *chunks], self.layers)
            self._cache = self._targets(all_logits, feats)
        else:
            chunks.close()

    def _targets(self, all_logits, feats):
        p, h = soft_labels_and_entropy(all_logits, self.temperature) if self.soft else (None, None)
        return (all_logits if self.logits else None), p, h, feats

    @property
    def soft_labels(self):
        """The whole transfer set's soft labels (N, C), when they are kept."""
        return self._cache[1] if self.cached else None

    def embeddings(self, relation_pair):
        """The kept features of relation_pair's teacher layer, or the logits for None."""
        return self._cache[0] if relation_pair is None else self._cache[3][relation_pair[0]]

    def __call__(self, idx):
        if not self.cached:
            x = self.x.index_select(0, idx)
            return self._targets(*predict_features(self.teacher, x, self.layers, mixed_precision=False))
        take = lambda t: t.index_select(0, idx) if t is not None else None  # 2-5x faster than t[idx] on the CPU
        logits, p, h, feats = self._cache
        return (take(logits), take(p) if self.step_reads_soft_labels else None, take(h),
                {name: take(feats[name]) for name in self.step_layers})


class TeacherDistances:
    """The teacher's pairwise Euclidean distances over the whole transfer set (N × N), for
    RKD distance: a step reads its batch's B(B − 1)/2 distances, in F.pdist's order, instead
    of computing them (F.pdist of 128 teacher features 256 wide is ~170 µs, a third of a
    small student's step). The run keeps them only where 4·N² bytes fit in its budget."""

    def __init__(self, embeddings):
        e = embeddings.flatten(1)
        self.n = len(e)
        self.distances = torch.cdist(e, e).view(-1)
        self.pairs = {}  # batch size -> (i, j) of its upper triangle, in pdist's order

    def __call__(self, idx):
        b = len(idx)
        if b not in self.pairs:
            self.pairs[b] = torch.triu_indices(b, b, 1, device=idx.device)
        i, j = self.pairs[b]
        return self.distances.index_select(0, idx.index_select(0, i) * self.n + idx.index_select(0, j))
