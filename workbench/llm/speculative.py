"""Speculative sampling: a small draft model proposes, the large target model verifies,
and the text comes out exactly as the target alone would have sampled it (Leviathan,
Kalman & Matias 2023; Chen et al. 2023).

One round, for a prefix x:

    the draft samples γ tokens x1..xγ, one at a time, from q = softmax(draft / T)
    the target scores x + x1..xγ in ONE forward pass: p at each of the γ + 1 positions
    proposal xj is accepted with probability min(1, p(xj) / q(xj)), in order
    at the first rejection the token is drawn from the residual norm(max(0, p − q))
    if all γ are accepted, one more token is drawn from p at the next position

so each target pass yields 1 to γ + 1 tokens. Given the prefix, a proposal is accepted
with probability β = Σ_x min(p(x), q(x)) = 1 − TV(p, q); distilling the draft towards the
target raises it, which is what a distilled draft is worth (DistillSpec, Zhou et al.
2023). With α = E[β] and proposals accepted independently, a pass yields
(1 − α^(γ+1)) / (1 − α) tokens in expectation and the wall-clock speed-up is
(1 − α^(γ+1)) / ((1 − α)(γc + 1)) for a draft pass costing c target passes (Leviathan
et al., Theorem 3.8).

    import workbench as wb
    from workbench.llm import speculative
    out = speculative.generate(wb.llm.teacher(), wb.llm.student(), ids, 8, lookahead=4)
    out.acceptance, out.tokens_per_pass
    speculative.compare_drafts(seed=0)       # the base, black-box, white-box and on-policy drafts
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import _check
from . import distill
from .experiments import rounds_for, student, task, teacher
from .gpt import check_ids, check_temperature, generate as sample_plain
from .tokenizer import PAD

DRAFTS = ("base", "black-box", "white-box", "on-policy")
ABOUT = {
    "base": "the base student, not distilled (speaks the language, knows no facts)",
    "black-box": "distilled black-box: fine-tuned on the teacher's sampled text",
    "white-box": "distilled white-box: forward KL on the teacher's text (off-policy)",
    "on-policy": "distilled on-policy: reverse KL on its own samples (λ = 1)",
}


@dataclass
class Speculation:
    """What one speculative generation produced and spent, summed over the rows.

    sequences      right-padded (B, <= L + max_new_tokens), as gpt.generate returns
    proposed       tokens the draft proposed (one draft pass each)
    accepted       proposals the target accepted
    tested         proposals the acceptance test reached: the accepted ones plus the
                   first rejection of each pass (later proposals of that pass are dropped
                   untested); accepted / tested estimates α = E[1 − TV(p, q)]
    target_passes  target forward passes, one per row per round (a batch of B rows in
                   one call counts B: what decoding the rows one by one would spend)
    draft_passes   draft forward passes, counted the same way (= proposed)
    new_tokens     tokens added to the prompts (= accepted + target_passes without a stop)
    tested_at      bool, the shape of sequences: True at the tokens where a proposal was
                   tested (so expected_acceptance(...)[:, :][tested_at[:, 1:]] are their β)"""
    sequences: torch.Tensor
    tested_at: torch.Tensor = None
    proposed: int = 0
    accepted: int = 0
    tested: int = 0
    target_passes: int = 0
    draft_passes: int = 0
    new_tokens: int = 0

    @property
    def acceptance(self):
        """accepted / tested: the share of the proposals the target's test reached that it accepted."""
        return self.accepted / self.tested if self.tested else math.nan

    @property
    def tokens_per_pass(self):
        """new tokens per target pass; plain sampling makes exactly 1."""
        return self.new_tokens / self.target_passes if self.target_passes else math.nan


def check_vocabulary(target, draft):
    """The draft must predict the target's tokens: the same vocabulary size and, when both
    carry a tokenizer, the same characters."""
    for name, model in (("target", target), ("draft", draft)):
        if not isinstance(model, torch.nn.Module) or not hasattr(model, "cfg"):
            raise ValueError(f"{name} must be a language model of workbench.llm (gpt.build, wb.llm.teacher, "
                             f"wb.llm.student), got {type(model).__name__}")
    t_chars = getattr(getattr(target, "tokenizer", None), "chars", None)
    d_chars = getattr(getattr(draft, "tokenizer", None), "chars", None)
    if target.cfg.vocab_size != draft.cfg.vocab_size or (t_chars is not None and d_chars is not None
                                                         and t_chars != d_chars):
        raise ValueError(f"draft must share the target's vocabulary ({target.cfg.vocab_size} ids: {t_chars!r}) so "
                         f"that its proposals are the target's tokens, got {draft.cfg.vocab_size} ids: {d_chars!r}")


def probabilities(logits, temperature):
    """softmax(logits / T) over the last dimension, padding excluded (as gpt.generate
    samples); T = 0 gives the one-hot of the argmax (greedy)."""
    logits = logits.float().clone()
    logits[..., PAD] = float("-inf")
    if temperature == 0:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).float()
    return F.softmax((logits - logits.max(-1, keepdim=True).values) / temperature, -1)


def _sample(probs, generator):
    """One token per row of probs (B, V), drawn on the CPU with `generator` (as gpt.generate)."""
    return torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(probs.device)


@torch.no_grad()
def generate(target, draft, ids, max_new_tokens, lookahead=4, temperature=1.0, generator=None, stop=None):
    """Extend right-padded prompts ids (B, L) by up to max_new_tokens tokens each with
    speculative sampling (see the module's docstring): the draft proposes `lookahead` (γ)
    tokens per round, the target verifies them in one forward pass. The rows run in one
    batch, each at its own length. Near the end of a row's budget the draft proposes
    only max_new_tokens − generated − 1, so a round never overshoots. T = 0 is greedy
    decoding: p and q are one-hot, a proposal is accepted exactly when it is the target's
    argmax, and the text is the target's greedy text. A row ends after the `stop` id.
    Returns a Speculation: the sequences (right-padded, like gpt.generate) and the counts."""
    max_new_tokens = _check.positive_int("max_new_tokens", max_new_tokens)
    lookahead = _check.positive_int("lookahead", lookahead)
    temperature = check_temperature(temperature)
    check_vocabulary(target, draft)
    vocab = target.cfg.vocab_size
    if stop is not None and (_check._integer(stop) is None or not 0 <= _check._integer(stop) < vocab):
        raise ValueError(f"stop must be None or a token id in [0, {vocab}), got {stop!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be None or a torch.Generator, got {type(generator).__name__}")
    check_ids(ids, vocab)
    ids = ids.long()
    target.eval(), draft.eval()
    lengths = (ids != PAD).sum(1)
    if len(ids) == 0 or (lengths == 0).any():
        raise ValueError("ids must hold at least one row, each with at least one token (a BOS to start from)")
    context = min(target.cfg.context, draft.cfg.context)
    longest = int(lengths.max()) + max_new_tokens
    if longest > context:
        raise ValueError(f"prompt plus new tokens must fit both models' context of {context} tokens, got "
                         f"{int(lengths.max())} + {max_new_tokens}: shorten the prompt or ask for fewer tokens")
    buf = torch.full((len(ids), longest), PAD, dtype=torch.long, device=ids.device)
    buf[:, :int(lengths.max())] = ids[:, :int(lengths.max())]
    starts, rows = lengths.clone(), torch.arange(len(ids), device=ids.device)
    done = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)
    tested_at = torch.zeros_like(buf, dtype=torch.bool)
    out = Speculation(buf)
    while not done.all():
        active = ~done
        left = max_new_tokens - (lengths - starts)  # >= 1 on every active row
        k = (left - 1).clamp(max=lookahead).masked_fill(done, 0)  # this round's proposals per row
        big_k = int(k.max())
        span = torch.arange(big_k + 1, device=ids.device)

        # the draft proposes, one token at a time: x[:, j] ~ q[:, j]
        q = torch.zeros(len(ids), big_k, vocab, device=ids.device)
        x = torch.full((len(ids), big_k), PAD, dtype=torch.long, device=ids.device)
        for j in range(big_k):
            on = k > j
            if not on.any():  # every row's proposals ended at a stop
                break
            end = int((lengths + j)[on].max())
            logits = draft(buf[:, :end])[rows, (lengths + j - 1).clamp(max=end - 1)]
            q[:, j] = probabilities(logits, temperature)
            x[:, j] = torch.where(on, _sample(q[:, j], generator), PAD)
            buf[rows[on], (lengths + j)[on]] = x[on, j]
            if stop is not None:  # a row's proposals end at the stop: what would follow is never kept
                k = torch.where(on & (x[:, j] == stop), j + 1, k)

        # the target scores every proposal, and the position after the last, in one pass
        end = int((lengths + k)[active].max())
        at = (lengths[:, None] - 1 + span[None]).clamp(max=end - 1)
        p = probabilities(target(buf[:, :end])[rows[:, None], at], temperature)  # (B, K + 1, V)

        # accept x_j with probability min(1, p(x_j) / q(x_j)), in order, up to the first rejection
        px = p[:, :big_k].gather(-1, x[..., None]).squeeze(-1)
        qx = q.gather(-1, x[..., None]).squeeze(-1)
        u = torch.rand((len(ids), big_k), generator=generator).to(ids.device)
        passed = (u * qx < px) & (span[None, :big_k] < k[:, None])
        n = passed.long().cumprod(1).sum(1)  # accepted proposals of each row
        rejected = n < k
        p_n = p[rows, n]
        if big_k:
            residual = (p_n - q[rows, n.clamp(max=big_k - 1)]).clamp(min=0)
            dist = torch.where(rejected[:, None], residual, p_n)
        else:
            dist = p_n
        empty = dist.sum(-1) <= 0  # p == q up to rounding: a rejection had probability 0, the residual is p
        dist[empty] = p_n[empty]
        last = _sample(dist, generator)

        # this round's tokens: the n accepted proposals, then the token drawn at position n
        drawn = torch.cat([x, torch.full((len(ids), 1), PAD, dtype=torch.long, device=ids.device)], 1)
        drawn[rows, n] = last
        keep = (span[None] <= n[:, None]) & active[:, None]
        ended = torch.zeros_like(done)
        if stop is not None:
            hit = (drawn == stop) & keep
            ended = hit.any(1)
            keep &= ~(ended[:, None] & (span[None] > hit.long().argmax(1)[:, None]))
        touched = (span[None] <= k[:, None]) & active[:, None]  # the proposals' places and the drawn token's
        r, c = touched.nonzero(as_tuple=True)
        buf[r, lengths[r] + c] = torch.where(keep, drawn, PAD)[r, c]
        was_tested = touched & (span[None] < (n + rejected.long())[:, None])
        r, c = was_tested.nonzero(as_tuple=True)
        tested_at[r, lengths[r] + c] = True

        gained = keep.sum(1)
        out.proposed += int(k.sum())
        out.draft_passes += int(k.sum())
        out.accepted += int(n[active].sum())
        out.tested += int((n + rejected.long())[active].sum())
        out.target_passes += int(active.sum())
        out.new_tokens += int(gained.sum())
        lengths = lengths + gained
        done |= ended | (lengths - starts >= max_new_tokens)
    out.sequences, out.tested_at = buf[:, :int(lengths.max())], tested_at[:, :int(lengths.max())]
    return out


@torch.no_grad()
def expected_acceptance(target, draft, ids, temperature=1.0):
    """β = Σ_x min(p(x), q(x)) = 1 − TV(p, q) at every position of right-padded ids
    (B, L): entry (b, i) compares the target's p and the draft's q for the token after
    ids[b, :i + 1], both softmax(logits / T) without padding (T = 0: one-hot argmax, so β
    is 1 where the two argmaxes agree, else 0). It is the probability that speculative
    sampling accepts a proposal there (Leviathan et al. 2023, Definition 3.1 and
    Corollary 3.6). Returns (B, L - 1); positions that predict padding are NaN (no token
    is produced there), so average with torch.nanmean or a mask."""
    temperature = check_temperature(temperature)
    check_vocabulary(target, draft)
    check_ids(ids, target.cfg.vocab_size)
    ids = ids.long()
    if ids.shape[1] < 2:
        raise ValueError(f"ids must have at least 2 columns (a token and the one after it), got shape "
                         f"{tuple(ids.shape)}")
    target.eval(), draft.eval()
    p = probabilities(target(ids[:, :-1]), temperature)
    q = probabilities(draft(ids[:, :-1]), temperature)
    return torch.minimum(p, q).sum(-1).masked_fill(ids[:, 1:] == PAD, math.nan)


def leviathan_speedup(alpha, lookahead, cost_ratio):
    """The expected wall-clock speed-up of speculative sampling over plain target sampling,
    (1 − α^(γ+1)) / ((1 − α)(γc + 1)) for acceptance α, lookahead γ and a draft pass
    costing c target passes (Leviathan et al. 2023, Theorem 3.8; at α = 1 the limit
    (γ + 1) / (γc + 1))."""
    alpha = _check.unit_interval("alpha", alpha)
    lookahead = _check.positive_int("lookahead", lookahead)
    cost_ratio = _check.non_negative("cost_ratio", cost_ratio)
    return expected_tokens_per_pass(alpha, lookahead) / (lookahead * cost_ratio + 1)


def expected_tokens_per_pass(alpha, lookahead):
    """(1 − α^(γ+1)) / (1 − α): tokens per target pass when every proposal is accepted
    independently with probability α (Leviathan et al. 2023, Eq. 1); γ + 1 at α = 1."""
    alpha = _check.unit_interval("alpha", alpha)
    lookahead = _check.positive_int("lookahead", lookahead)
    return float(lookahead + 1) if alpha == 1 else (1 - alpha ** (lookahead + 1)) / (1 - alpha)


def parameters(model):
    return sum(p.numel() for p in model.parameters())


def cost_ratio(target, draft):
    """c, a draft pass's cost in target passes, taken as the ratio of their parameter
    counts (a forward pass's arithmetic grows with the parameters; stated, not timed)."""
    return parameters(draft) / parameters(target)


def draft_config(name, seed=0, queries=distill.LLMConfig.queries, steps=distill.LLMConfig.steps):
    """The LLMConfig that distils draft `name` from the facts teacher, None for "base":
    black-box (SFT on the teacher's text), white-box (forward KL on the teacher's text,
    off-policy) or on-policy (reverse KL on the student's own samples, λ = 1, as GKD and
    TRL's DistillationTrainer default)."""
    _check.one_of("draft", name, DRAFTS)
    if name == "base":
        return None
    common = dict(queries=queries, steps=steps, seed=seed, rounds=rounds_for(queries))
    if name == "black-box":
        return distill.LLMConfig(method="black-box", **common)
    if name == "white-box":
        return distill.LLMConfig(method="white-box", loss="forward_kl", **common)
    return distill.LLMConfig(method="white-box", loss="reverse_kl", on_policy=1.0, **common)


def draft_steps(name, seed=0, queries=distill.LLMConfig.queries, steps=distill.LLMConfig.steps, stop=None):
    """(draft model, generator of distill Events or None for "base"): a fresh
    wb.llm.student(seed), distilled by draft_config(name, ...) as the generator runs."""
    cfg = draft_config(name, seed, queries, steps)
    t = teacher("facts")
    model = student(seed, device=next(t.parameters()).device)
    return model, (None if cfg is None else distill.steps(model, t, task(), cfg, stop=stop))


def prompt_ids(prompts=200, seed=0, device=None):
    """`prompts` prompts of the facts task with BOS, drawn as the language draws them
    (generator seeded with `seed`), as right-padded ids (B, L)."""
    prompts, seed = _check.positive_int("prompts", prompts), _check.seed("seed", seed)
    t = task()
    texts = [t.bos + p for p in t.prompts(prompts, torch.Generator().manual_seed(seed))]
    ids = t.language.tokenizer.batch(texts, "prompt")[0]
    return ids if device is None else ids.to(device)


@torch.no_grad()
def measure(target, draft, ids, lookahead=4, temperature=1.0, max_new_tokens=8, seed=0, cost=None):
    """One draft against the target on prompts ids (the facts task's stop ends a row).
    Returns a dict:

    acceptance         measured: accepted / tested in speculative generation
    predicted          the mean of β = 1 − TV(p, q) at the tokens where proposals were
                       tested, from the two models' distributions alone; a test there is
                       passed with probability β, so the two agree within `acceptance_se`
    acceptance_se      the sampling error of `acceptance`: √Σβ(1 − β) / tested
    one_minus_tv       the mean of β over every completion token of the target's own
                       samples of the same prompts (what DistillSpec raises). It differs
                       from `predicted` by where tests fall: a token drawn after γ
                       acceptances is never tested, so with γ = 1 on this language the
                       answer's uncertain first letter is mostly such a token
    tokens_per_pass    new tokens per target pass, and so the speed-up in target passes
                       (plain sampling spends one pass per token): `speedup_passes`
    tokens_per_pass_predicted, speedup_wall_predicted
                       Leviathan et al.'s formulas at α = `predicted`, for text that does
                       not end; the answers here end after ~6 tokens, which caps a pass
    speedup_wall_counted  the same cost model on this run's counts: new tokens /
                       (target passes + c · draft passes)
    cost_ratio         c: the draft's parameters / the target's (cost_ratio), or `cost`
    and the counts of the Speculation."""
    lookahead = _check.positive_int("lookahead", lookahead)
    max_new_tokens = _check.positive_int("max_new_tokens", max_new_tokens)
    temperature = check_temperature(temperature)
    seed = _check.seed("seed", seed)
    check_vocabulary(target, draft)
    c = cost_ratio(target, draft) if cost is None else _check.non_negative("cost", cost)
    stop = target.tokenizer.stoi[task().stop]
    spec = generate(target, draft, ids, max_new_tokens, lookahead, temperature,
                    torch.Generator().manual_seed(seed), stop)
    beta = expected_acceptance(target, draft, spec.sequences, temperature)[spec.tested_at[:, 1:]].double()
    predicted = float(beta.mean())
    plain = sample_plain(target, ids, max_new_tokens, temperature, None, stop,
                         torch.Generator().manual_seed(seed + 1))
    starts = (ids != PAD).sum(1).to(plain.device)
    everywhere = expected_acceptance(target, draft, plain, temperature)
    alpha = min(max(predicted, 0.0), 1.0)
    return {"acceptance": spec.acceptance, "predicted": predicted,
            "acceptance_se": float((beta * (1 - beta)).sum().sqrt()) / max(spec.tested, 1),
            "one_minus_tv": float(everywhere[distill.completion_mask(plain, starts)].mean()),
            "tokens_per_pass": spec.tokens_per_pass, "speedup_passes": spec.tokens_per_pass,
            "tokens_per_pass_predicted": expected_tokens_per_pass(alpha, lookahead),
            "speedup_wall_predicted": leviathan_speedup(alpha, lookahead, c),
            "speedup_wall_counted": spec.new_tokens / (spec.target_passes + c * spec.draft_passes),
            "cost_ratio": c, "lookahead": lookahead, "proposed": spec.proposed, "accepted": spec.accepted,
            "tested": spec.tested, "target_passes": spec.target_passes, "draft_passes": spec.draft_passes,
            "new_tokens": spec.new_tokens, "draft_parameters": parameters(draft),
            "target_parameters": parameters(target)}


def compare_drafts(seed=0, queries=distill.LLMConfig.queries, prompts=200, lookahead=4, temperature=1.0,
                   max_new_tokens=8, drafts=DRAFTS, steps=distill.LLMConfig.steps, cost=None):
    """The facts teacher as target, and as drafts the base student and students distilled
    from it (draft_config: black-box, white-box, on-policy), each on `queries` teacher
    queries from wb.llm.student(seed). For each draft, measure(...) on `prompts` prompts
    of the facts task: one row {"draft": name, ...} per draft, in the order of `drafts`.
    The cost ratio c is the parameter ratio (cost_ratio) unless `cost` is given."""
    if isinstance(drafts, str) or not drafts:
        raise ValueError(f"drafts must be a non-empty list of {list(DRAFTS)}, got {drafts!r}")
    for name in drafts:
        _check.one_of("drafts", name, DRAFTS)
    lookahead = _check.positive_int("lookahead", lookahead)
    max_new_tokens = _check.positive_int("max_new_tokens", max_new_tokens)
    temperature = check_temperature(temperature)
    t = teacher("facts")
    ids = prompt_ids(prompts, seed, next(t.parameters()).device)
    rows = []
    for name in drafts:
        model, run = draft_steps(name, seed, queries, steps)
        for _ in run or ():
            pass
        rows.append({"draft": name, **measure(t, model, ids, lookahead, temperature, max_new_tokens, seed, cost)})
    return rows

