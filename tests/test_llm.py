"""workbench.llm: the facts language, the tokenizer and the tiny GPT, teacher access
(black-box text only, white-box logits or top-k), the distillation loop and its budget,
evaluation, real text, and bad input."""
import math
import threading

import pytest
import torch

import workbench as wb
from workbench.llm import LLMConfig, LogitAPI, TextAPI, evaluate, facts, pretrained, text
from workbench.llm.distill import completion_mask
from workbench.train import run
from widgets import llm_lab

from in_processes import run_all


@pytest.fixture(scope="module")
def teacher():
    return wb.llm.teacher("facts", device="cpu")


@pytest.fixture(scope="module")
def language():
    return pretrained.language()


# --- the language ---------------------------------------------------------------------------

def test_the_language_is_zipf_and_each_fact_is_a_distribution(language):
    p = torch.tensor(language.subject_probs)
    assert p.sum().item() == pytest.approx(1.0) and (p[:-1] >= p[1:]).all()
    assert p[0] / p[9] == pytest.approx(10.0)  # Zipf, exponent 1: rank 1 is ten times as likely as rank 10
    kinds = {f.kind for f in language.facts}
    assert kinds == {"one", "two", "tail"}
    for f in language.facts:
        assert sum(f.probs) == pytest.approx(1.0) and len(set(f.answers)) == len(f.answers)
        assert set(f.answers) <= set(facts.RELATIONS[f.relation])
    for answers in facts.RELATIONS.values():  # first letters rank the answers: they must all differ
        assert len({a[0] for a in answers}) == len(answers)


def test_the_same_arguments_give_the_same_language_and_samples_follow_the_truth(language):
    assert facts.make() == language and facts.make(seed=1) != language
    pairs = language.sample_pairs(4000, torch.Generator().manual_seed(0))
    f = next(f for f in language.facts if f.kind == "two" and f.rank == min(
        g.rank for g in language.facts if g.kind == "two"))
    answers = [c for p, c in pairs if p == language.prompt(f.subject, f.relation)]
    share = answers.count(language.completion(f.answers[0])) / len(answers)
    assert len(answers) > 40 and abs(share - 0.6) < 0.2


def test_entropy_per_token_is_the_floor_no_model_beats(language, teacher):
    floor = math.exp(language.entropy_per_token())
    heldout = language.tokenizer.batch(["\n" + s for s in language.sample_sentences(500, torch.Generator().manual_seed(3))])[0]
    assert evaluate.perplexity(teacher, heldout) >= floor * 0.97  # a sampling margin, not below the truth
    assert evaluate.perplexity(teacher, heldout) < floor * 1.1


# --- tokenizer and model ------------------------------------------------------------------------

def test_tokenizer_round_trips_and_pads():
    tok = wb.llm.CharTokenizer("abc .")
    ids, mask = tok.batch(["ab c.", "a"])
    assert ids.shape == (2, 5) and mask.sum().item() == 6 and ids[1, 1:].eq(0).all()
    assert tok.decode(ids[0]) == "ab c." and tok.decode(ids[1]) == "a"
    with pytest.raises(ValueError, match="prompt may only use the model's 5 characters .* it contains 'xz'"):
        tok.encode("axz", "prompt")


def test_generation_stops_at_the_stop_character_and_greedy_is_deterministic(teacher, language):
    f = next(f for f in language.facts if f.kind == "one")
    ids = teacher.tokenizer.batch(["\n" + language.prompt(f.subject, f.relation)])[0]
    out = wb.llm.gpt.generate(teacher, ids, 8, temperature=0, stop=teacher.tokenizer.stoi["."])
    said = teacher.tokenizer.decode(out[0, ids.shape[1]:])
    assert said == language.completion(f.answers[0])
    assert torch.equal(out, wb.llm.gpt.generate(teacher, ids, 8, temperature=0, stop=teacher.tokenizer.stoi["."]))


def test_batched_generation_of_prompts_of_different_lengths_matches_one_at_a_time(teacher, language):
    prompts = ["\n" + language.prompt(s, "likes") for s in language.subjects[:6]]
    ids = teacher.tokenizer.batch(prompts)[0]
    together = wb.llm.gpt.generate(teacher, ids, 8, temperature=0, stop=teacher.tokenizer.stoi["."])
    for row, p in zip(together, prompts):
        alone = wb.llm.gpt.generate(teacher, teacher.tokenizer.batch([p])[0], 8, temperature=0,
                                    stop=teacher.tokenizer.stoi["."])
        assert teacher.tokenizer.decode(row) == teacher.tokenizer.decode(alone[0])


def test_a_context_longer_than_the_models_is_refused(teacher):
    with pytest.raises(ValueError, match="context of 32 tokens"):
        teacher(torch.ones(1, 40, dtype=torch.long))
    with pytest.raises(ValueError, match="prompt plus new tokens must fit the model's context of 32"):
        wb.llm.gpt.generate(teacher, torch.ones(1, 30, dtype=torch.long), 8)


# --- the teachers ------------------------------------------------------------------------------

def test_the_teachers_beat_a_unigram_model_on_held_out_text(teacher, language):
    task = wb.llm.task()
    train = language.tokenizer.batch(["\n" + s for s in language.sample_sentences(2000, torch.Generator().manual_seed(1))])[0]
    unigram = evaluate.unigram_perplexity(train, task.heldout, teacher.cfg.vocab_size, task.heldout_start)
    assert task.evaluate(teacher)["perplexity"] < unigram / 5
    pydoc = wb.llm.teacher("pydoc", device="cpu")
    corpus = text.load(tokenizer=pydoc.tokenizer)
    text_task = wb.llm.TextTask(corpus)
    unigram = evaluate.unigram_perplexity(corpus.train[None], text_task.heldout, pydoc.cfg.vocab_size, 16)
    assert text_task.evaluate(pydoc)["perplexity"] < unigram / 3


def test_the_facts_teacher_knows_the_truth(teacher, language):
    m = evaluate.facts_metrics(teacher, language)
    assert m["kl_to_truth"] < 0.1 and m["fact_accuracy"] > 0.9 and m["second_mode_coverage"] > 0.9
    assert m["one_answer_accuracy"] > 0.9 and m["second_kept_when_right"] > 0.9 and m["second_ranked_first"] < 0.2
    uniform = evaluate.facts_metrics(Uniform(teacher), language)  # every whole answer far below 0.1
    kept_right = uniform["second_kept_when_right"]
    assert uniform["second_mode_coverage"] == 0.0 and (kept_right == 0.0 or math.isnan(kept_right))


def test_the_base_student_speaks_the_language_but_knows_no_facts(language):
    m = evaluate.facts_metrics(wb.llm.student(device="cpu"), language)
    assert m["fact_accuracy"] < 0.25 and m["kl_to_truth"] > 1.5  # about uniform over the 10 answers: ln 10 = 2.3
    base = wb.llm.student(device="cpu")
    assert all(p.requires_grad for p in base.parameters())  # a trainable copy, never the cached one
    assert all(not p.requires_grad for p in pretrained.get("facts-base", device="cpu").parameters())


def test_a_corrupt_checkpoint_is_rebuilt_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "SHIPPED_DIR", tmp_path)
    (tmp_path / "llm--facts-base.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setitem(pretrained.RECIPES, "facts-base", pretrained.RECIPES["facts-base"].__class__(
        **{**pretrained.RECIPES["facts-base"].__dict__, "steps": 5, "sentences": 200}))
    with pytest.warns(UserWarning, match="is corrupt"):
        model = pretrained.get("facts-base", device="cpu", progress=False)
    assert isinstance(model, wb.llm.gpt.GPT)
    assert pretrained.get("facts-base", device="cpu", progress=False) is not None  # now loads without a warning


# --- teacher access ------------------------------------------------------------------------------

def test_the_black_box_api_returns_text_only_and_counts_queries(teacher):
    api = TextAPI(teacher, max_new_tokens=8, stop=".")
    out = api.complete(["gunu likes", "tuli lives in"])
    assert all(isinstance(t, str) and t.endswith(".") for t in out)
    assert api.queries == 2 and api.tokens == sum(1 + len(p) + len(t) for p, t in zip(["gunu likes", "tuli lives in"], out))
    for ask in (api.logits, api.logprobs, api.probabilities, api.top_k, api.score):
        with pytest.raises(PermissionError, match="text only"):
            ask("gunu likes")
    # nothing reachable on the object is a model, a tensor or a parameter
    reachable = [getattr(api, name) for name in dir(api) if not name.startswith("__")]
    assert not any(isinstance(v, (torch.nn.Module, torch.Tensor)) for v in reachable)
    with pytest.raises(AttributeError):
        api.teacher
    with pytest.raises(AttributeError):
        api.model = teacher  # no attribute can be added to smuggle it in


def test_the_white_box_api_counts_queries_and_top_k_is_exact_for_what_it_shows(teacher):
    api = LogitAPI(teacher)
    ids = teacher.tokenizer.batch(["\ngunu likes tea.", "\ntuli likes"])[0]
    logits = api.score(ids)
    assert logits.shape == (2, ids.shape[1] - 1, teacher.cfg.vocab_size) and api.queries == 2
    topk = LogitAPI(teacher, k=4)
    values, index = topk.score(ids)
    assert values.shape == (2, ids.shape[1] - 1, 4)
    assert torch.equal(index, logits.topk(4, dim=-1).indices)
    g = torch.Generator().manual_seed(0)
    student = torch.randn(2, ids.shape[1] - 1, teacher.cfg.vocab_size, generator=g)
    s, t = wb.llm.top_k_buckets(student, (values, index))
    assert torch.allclose(s.exp().sum(-1), torch.ones(2, ids.shape[1] - 1), atol=1e-5)
    assert torch.allclose(t.exp().sum(-1), torch.ones(2, ids.shape[1] - 1), atol=1e-5)
    # coarsening loses information: the top-k KL never exceeds the full one, and with k = V - 1 it equals it
    coarse = wb.losses.forward_kl(s, t)
    assert coarse <= wb.losses.forward_kl(student, logits) + 1e-6
    s, t = wb.llm.top_k_buckets(student, LogitAPI(teacher, k=teacher.cfg.vocab_size - 1).score(ids))
    assert wb.losses.forward_kl(s, t).item() == pytest.approx(wb.losses.forward_kl(student, logits).item(), rel=1e-4)
    with pytest.raises(ValueError, match="k must be smaller than the vocabulary \\(28 tokens\\)"):
        LogitAPI(teacher, k=28)


def test_completion_mask_scores_only_the_answer():
    ids = torch.tensor([[1, 2, 3, 4, 5, 0], [1, 2, 3, 4, 5, 6]])
    mask = completion_mask(ids, torch.tensor([3, 2]))
    assert mask.tolist() == [[False, False, True, True, False], [False, True, True, True, True]]


# --- distillation ---------------------------------------------------------------------------------

def small(**kw):
    return LLMConfig(**{"queries": 120, "steps": 30, "rounds": 3, **kw})


def distil(cfg, teacher, stop=None, callbacks=()):
    student = wb.llm.student(cfg.seed, device="cpu")
    return run(wb.llm.steps(student, teacher, wb.llm.task(), cfg, stop=stop), callbacks)


@pytest.mark.parametrize("cfg", [small(), small(method="black-box"), small(method="top-k", k=3),
                                 small(on_policy=0.5, loss="reverse_kl"), small(loss="jsd", beta=0.3)])
def test_every_method_spends_exactly_its_budget_and_reports_the_metrics(cfg, teacher):
    res = distil(cfg, teacher)
    m = res.metrics
    assert m["teacher_queries"] == 120 and m["steps"] == 30 and len(res.history) == 3
    assert [row["queries"] for row in res.history] == [40, 80, 120]  # spent round by round
    for key in ("kl_to_truth", "perplexity", "fact_accuracy", "rare_coverage", "second_mode_coverage",
                "teacher_tokens", "seconds"):
        assert math.isfinite(m[key])
    assert 120 * 10 < m["teacher_tokens"] < 120 * 32


@pytest.mark.parametrize("queries, rounds, on_policy", [(1000, 3, 1.0), (7, 2, 1.0), (203, 10, 0.9), (55, 10, 0.3)])
def test_the_budget_is_spent_exactly_whatever_the_rounding(teacher, queries, rounds, on_policy):
    res = distil(LLMConfig(queries=queries, rounds=rounds, on_policy=on_policy, steps=rounds), teacher)
    spent = [row["queries"] for row in res.history]
    assert spent == [queries * (r + 1) // rounds for r in range(rounds)]


class SeenPool(wb.llm.distill.Pool):
    """The distillation pool, recording what the student is given to learn from: each
    round's sequences as text, their prompts, and the teacher's targets along them."""
    rounds = None  # set per run: a list, one entry per round

    def add(self, ids, starts, targets=None):
        super().add(ids, starts, targets)
        tok = wb.llm.pretrained.language().tokenizer
        for i, start in enumerate(starts):
            n = int((ids[i] != 0).sum())
            row = {"text": tok.decode(ids[i, :n]), "prompt": tok.decode(ids[i, :start]), "ids": ids[i, :n].cpu()}
            if targets is not None and not isinstance(targets, tuple):
                row["targets"] = targets[i, :n - 1].cpu()
            SeenPool.rounds[-1].append(row)


def seen_by_round(cfg, teacher, monkeypatch):
    """Run cfg; return, for each round, the list of sequences added to the student's pool."""
    monkeypatch.setattr(wb.llm.distill, "Pool", SeenPool)
    SeenPool.rounds = [[]]
    distil(cfg, teacher, callbacks=[lambda e: SeenPool.rounds.append([]) if e.kind == "round" else None])
    return SeenPool.rounds[:-1]


def test_every_method_sees_the_same_prompts_in_every_round(teacher, monkeypatch):
    """Issue 21, defect 6: "equal budget" means the same prompts, round by round, whatever the
    method consumed before; on-policy changes who writes the completions, not the prompts."""
    runs = {name: seen_by_round(cfg, teacher, monkeypatch) for name, cfg in {
        "white": small(), "black": small(method="black-box"), "top-k": small(method="top-k", k=3),
        "on-policy": small(on_policy=0.5, loss="reverse_kl"), "black, T = 0": small(method="black-box", temperature=0)}
        .items()}
    prompts = {name: [[row["prompt"] for row in r] for r in rounds] for name, rounds in runs.items()}
    assert [len(r) for r in prompts["white"]] == [40, 40, 40]
    for name in runs:
        for r in range(3):
            assert prompts[name][r] == prompts["white"][r], f"{name}, round {r + 1}"
    assert prompts["white"][1] != prompts["white"][0]  # a new draw each round
    other = [[row["prompt"] for row in r] for r in seen_by_round(small(seed=1), teacher, monkeypatch)]
    assert other[1] != prompts["white"][1]  # and another seed draws others
    # what differs is what came back: the black-box student sees sampled text, no distribution
    assert "targets" not in runs["black"][0][0] and runs["white"][0][0]["targets"].shape[-1] == teacher.cfg.vocab_size


def test_on_policy_queries_score_the_students_own_samples(teacher, monkeypatch):
    """With on_policy = 0.25, a quarter of the sequences the student learns from were
    written by the student itself (its samples, from the round's last prompts) and carry
    the teacher's logits along them; the rest are the teacher's own samples."""
    import workbench.llm.distill as distill_module
    import workbench.llm.whitebox as whitebox_module
    calls = []  # (who wrote, the texts), one entry per generate call

    def spy(model, ids, *args, **kwargs):
        out = wb.llm.gpt.generate(model, ids, *args, **kwargs)
        calls.append(("teacher" if model is teacher else "student",
                      [wb.llm.pretrained.language().tokenizer.decode(row) for row in out.cpu()]))
        return out
    monkeypatch.setattr(distill_module, "generate", spy)
    monkeypatch.setattr(whitebox_module, "generate", spy)
    rounds = seen_by_round(small(on_policy=0.25), teacher, monkeypatch)
    # each of the 3 rounds: the teacher writes answers to the first 30 of its 40 prompts, the student to the last 10
    assert [(who, len(texts)) for who, texts in calls] == [("teacher", 30), ("student", 10)] * 3
    for r, seen in enumerate(rounds):
        assert [row["text"] for row in seen] == calls[2 * r][1] + calls[2 * r + 1][1]
    with torch.no_grad():  # the targets are the teacher's logits along each sequence, whoever wrote it
        for seen in rounds:
            for row in seen[25:35]:
                assert torch.allclose(row["targets"], teacher(row["ids"][None, :-1]).float()[0], atol=1e-5)


def test_query_and_token_counts_are_exact(teacher):
    api = LogitAPI(teacher)
    ids = teacher.tokenizer.batch(["\ngunu likes tea.", "\ntuli"])[0]
    api.score(ids)
    assert (api.queries, api.tokens) == (2, len("\ngunu likes tea.") + len("\ntuli"))
    seqs, _ = api.complete(ids[1:], 8, stop=teacher.tokenizer.stoi["."])
    said = teacher.tokenizer.decode(seqs[0])
    assert said.startswith("\ntuli") and len(said) > len("\ntuli")
    assert (api.queries, api.tokens) == (3, len("\ngunu likes tea.") + len("\ntuli") + len(said))


def test_the_same_seed_gives_the_same_run_and_stop_keeps_the_history(teacher):
    a, b = distil(small(), teacher), distil(small(), teacher)
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]
    assert a.metrics["kl_to_truth"] == b.metrics["kl_to_truth"]
    stop = threading.Event()
    seen = []

    def on_round(event):
        seen.append(event)
        stop.set()
    res = distil(small(), teacher, stop=stop, callbacks=[on_round])
    assert res.stopped and len(res.history) == 1 and res.metrics["steps"] == 10


def test_white_box_needs_the_teachers_tokenizer(teacher):
    other = wb.llm.gpt.build(wb.llm.CharTokenizer("abc .\n"), context=32, layers=1, width=16, heads=2)
    with pytest.raises(ValueError, match="white-box distillation needs the student to share the teacher's tokenizer"):
        next(wb.llm.steps(other, teacher, wb.llm.task(), small()))


@pytest.mark.parametrize("kw, message", [
    ({"queries": 0}, "queries must be an integer >= 1, got 0"),
    ({"beta": 1.5}, "beta must be a number in \\[0, 1\\], got 1.5"),
    ({"method": "grey-box"}, "method must be one of \\['white-box', 'black-box', 'top-k'\\], got 'grey-box'"),
    ({"loss": "kl"}, "loss must be one of \\['forward_kl', 'reverse_kl', 'jsd'\\]"),
    ({"method": "black-box", "on_policy": 0.5}, "on_policy must be 0 for black-box"),
    ({"temperature": 0}, "temperature must be > 0 for white-box distillation \\(0, greedy answers, is for black-box"),
    ({"temperature": -1.0}, "temperature must be a number .*got -1.0"),
    ({"queries": 5, "rounds": 10}, "queries must be at least rounds \\(10\\)"),
    ({"method": "black-box", "temperature": False}, "temperature must be 0 \\(greedy\\) or a finite number .* got False"),
    ({"method": "black-box", "temperature": 1e-300},
     "temperature must be 0 \\(greedy\\) or a finite number from 1.18e-38 \\(float32's smallest normal number"),
])
def test_bad_settings_name_what_to_change(kw, message):
    with pytest.raises(ValueError, match=message):
        LLMConfig(**kw)
    if "rounds" not in kw:
        with pytest.raises(ValueError, match=message):
            wb.llm.experiment(**kw)


def test_a_budget_under_ten_queries_takes_one_round_per_query():
    r = wb.llm.experiment(queries=5, steps=5)
    assert r["teacher_queries"] == 5
    with pytest.raises(ValueError, match="curve must be True or False, got 'yes'"):
        wb.llm.experiment(queries=5, steps=5, curve="yes")


@pytest.mark.parametrize("call, message", [
    (lambda t: wb.llm.gpt.generate(t, torch.ones(1, 3, dtype=torch.long), 4, temperature=-1.0),
     "temperature must be 0 \\(greedy\\) or a finite number from 1.18e-38 .* up, got -1.0"),
    (lambda t: wb.llm.gpt.generate(t, torch.ones(1, 3, dtype=torch.long), 4, top_k=0), "top_k must be an integer >= 1"),
    (lambda t: wb.llm.gpt.generate(t, torch.ones(1, 3, dtype=torch.long), 0), "max_new_tokens must be an integer >= 1"),
    (lambda t: TextAPI(t, top_k=0), "top_k must be an integer >= 1"),
    (lambda t: LogitAPI(t).score([[1, 2]]), "ids must be a \\(batch, length\\) torch.long tensor"),
    (lambda t: evaluate.answer_probabilities(t, pretrained.language(), "gunu", "hates"), "relation must be one of"),
    (lambda t: evaluate.answer_probabilities(t, pretrained.language(), "nobody", "likes"), "subject must be one of"),
    (lambda t: facts.make(seed="x"), r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got 'x'"),
    (lambda t: wb.llm.CharTokenizer(123), "chars must be a string"),
    (lambda t: wb.llm.hf.wrap(object(), t.tokenizer), "model must be a transformers causal LM"),
    (lambda t: wb.llm.TextTask(text.load(), prompt_length=0), "prompt_length must be an integer >= 1, got 0"),
    (lambda t: next(wb.llm.steps("a model", t, wb.llm.task(), small())), "student must be a language model"),
])
def test_bad_input_to_the_building_blocks_is_a_value_error_naming_it(teacher, call, message):
    with pytest.raises(ValueError, match=message):
        call(teacher)


def test_k_larger_than_the_vocabulary_is_refused_before_training():
    with pytest.raises(ValueError, match="k must be smaller than the vocabulary"):
        wb.llm.experiment("top-k", k=100, queries=20, steps=2)


# --- the lessons, over seeds ---------------------------------------------------------------------

SEEDS = (0, 1, 2)


class Lessons(dict):
    """runs[name, seed]: the dict wb.llm.experiment returned; .students[name, seed]: the
    student it trained; .seen[name, seed]: the sequences its pool received (SeenPool rows)."""

    def __init__(self):
        super().__init__()
        self.students, self.seen = {}, {}


LESSONS = {"white": {}, "black": {"method": "black-box"}, "greedy": {"method": "black-box", "temperature": 0},
           "reverse": {"loss": "reverse_kl"}, "early": {"steps": wb.llm.experiments.EQUAL_ACCURACY_STEPS},
           "on-policy": {"loss": "reverse_kl", "on_policy": 1.0}}


def lesson(name, seed):
    """(what wb.llm.experiment returned, the student it trained, the sequences its pool
    received) for LESSONS[name] at `seed`."""
    made, original = [], wb.llm.experiments.student
    with pytest.MonkeyPatch.context() as mp:  # keep the trained student and what its pool received
        mp.setattr(wb.llm.experiments, "student", lambda *a, **kw: made.append(original(*a, **kw)) or made[-1])
        mp.setattr(wb.llm.distill, "Pool", SeenPool)
        SeenPool.rounds = [[]]
        result = wb.llm.experiment(seed=seed, device="cpu", **LESSONS[name])
        return result, made[-1], [row for r in SeenPool.rounds for row in r]


@pytest.fixture(scope="module")
def lessons():
    """Every lesson at every seed, each in a one-thread worker process (tests/in_processes.py)."""
    keys = [(name, seed) for seed in SEEDS for name in LESSONS]
    runs = Lessons()
    for key, (result, student, seen) in zip(keys, run_all([(lesson, key) for key in keys])):
        runs[key], runs.students[key], runs.seen[key] = result, student, seen
    return runs


def mean(runs, name, key):
    return sum(runs[name, s][key] for s in SEEDS) / len(SEEDS)


def paired(runs, a, b, key):
    """Per seed, runs a minus runs b on key: the effect, seed by seed."""
    return [runs[a, s][key] - runs[b, s][key] for s in SEEDS]


def low(effects):
    """mean - 2 sd of per-seed effects: what the claim's bar must stay under."""
    m = sum(effects) / len(effects)
    return m - 2 * math.sqrt(sum((e - m) ** 2 for e in effects) / (len(effects) - 1))


def test_at_equal_queries_white_box_ends_closer_to_the_truth_than_black_box(lessons):
    for s in SEEDS:
        assert lessons["white", s]["teacher_queries"] == lessons["black", s]["teacher_queries"] == LLMConfig.queries
        assert lessons["white", s]["kl_to_truth"] < lessons["black", s]["kl_to_truth"]
    # black-box minus white-box KL to the truth, seeds 0-2: +0.46/+0.37/+0.41 nats (white-box 0.13-0.24, black-box
    # 0.54-0.70), mean 0.41, sd 0.045, mean - 2 sd 0.32
    assert low(paired(lessons, "black", "white", "kl_to_truth")) > 0.2
    # white-box minus black-box fact accuracy: +0.04/+0.07/+0.14, mean 0.08, sd 0.05, mean - 2 sd -0.01: no margin
    # can be claimed from three seeds, only the sign (3 of 3; a sign test, p = 1/8)
    assert all(e > 0 for e in paired(lessons, "white", "black", "fact_accuracy"))


def test_greedy_black_box_answers_teach_no_second_answers(lessons):
    """A black-box teacher that always answers greedily (T = 0) never shows its 40%
    answers; sampled at T = 1 it shows them 40% of the time. Same 1,200 queries, 500 steps."""
    for s in SEEDS:
        assert lessons["greedy", s]["teacher_queries"] == LLMConfig.queries
    # sampled minus greedy share of second answers kept, seeds 0-2: +0.55/+0.58/+0.70 (greedy 0.075 on every seed,
    # sampled 0.63-0.78), mean 0.61, sd 0.08, mean - 2 sd 0.45
    assert low(paired(lessons, "black", "greedy", "second_mode_coverage")) > 0.3


def test_at_the_default_budget_reverse_kl_learns_fewer_facts_one_answer_facts_too(lessons):
    """Issue 28, lesson 1: on 1,200 queries and 500 steps the reverse-KL student is worse at
    everything, so its lower second-answer coverage alone would confound mode-seeking with
    under-training. Measured, seeds 0-2 (prompts shared round by round, issue 21): fact accuracy
    0.70-0.78 (forward 0.93-0.96), one-answer facts 71-79% (forward 97-100%), KL to the truth
    2.1-3.0 nats (forward 0.13-0.24), second answers kept 33-53% (forward 93-98%)."""
    for s in SEEDS:
        forward, reverse = lessons["white", s], lessons["reverse", s]
        # the bands the LLM tab's "reverse KL" scenario judges by
        assert forward["fact_accuracy"] >= llm_lab.LEARNED_ALL
        assert llm_lab.LEARNED_FEW <= reverse["fact_accuracy"] < llm_lab.LEARNED_ALL
        assert reverse["one_answer_accuracy"] < forward["one_answer_accuracy"] - 0.05  # nothing to drop there
        assert reverse["kl_to_truth"] > forward["kl_to_truth"] + 1.0
    # forward minus reverse KL's share of second answers kept, seeds 0-2: +0.60/+0.45/+0.63 (forward 0.93-0.98,
    # reverse 0.33-0.53), mean 0.56, sd 0.095, mean - 2 sd 0.37
    assert low(paired(lessons, "white", "reverse", "second_mode_coverage")) > 0.2


def test_at_equal_fact_accuracy_reverse_kl_still_keeps_fewer_second_answers_on_facts_it_got_right(lessons):
    """The control: a forward-KL student stopped at EQUAL_ACCURACY_STEPS (180) knows as many
    facts as the reverse-KL student at 500; on the 60/40 facts each got right, the forward one
    keeps the 40% answer more often. Measured 5 Dec, seeds 0-2, with the token losses reduced in
    float64 (issue 29; at 200 steps the control then knew 0.06 more facts than reverse KL on average,
    so the control was re-fitted: 150/175/180/185/200 steps tried): fact accuracy 0.70/0.71/0.71
    (control, 180 steps) against 0.74/0.69/0.73 (reverse), means 0.705 and 0.719; second answers kept
    on right facts 0.68/0.75/0.57 against 0.52/0.38/0.27 (gap 0.17-0.37, mean 0.28, sd 0.10)."""
    for s in SEEDS:
        assert lessons["early", s]["steps"] == wb.llm.experiments.EQUAL_ACCURACY_STEPS < lessons["reverse", s]["steps"]
    # the control holds: on average the early-stopped forward student knows no more facts
    assert abs(mean(lessons, "early", "fact_accuracy") - mean(lessons, "reverse", "fact_accuracy")) < 0.06
    assert mean(lessons, "early", "second_kept_when_right") > mean(lessons, "reverse", "second_kept_when_right") + 0.12
    # learning less alone costs second answers (notebook 05's check): forward KL at 500 steps keeps the 40% answer
    # on 92-97% of the 60/40 facts it got right, the control on 57-75%, a gap of 0.22-0.38 on every seed
    for s in SEEDS:
        assert lessons["white", s]["second_kept_when_right"] > lessons["early", s]["second_kept_when_right"] + 0.1
    # and both commit to *a* mode, not always the likeliest: reverse KL ranks the 40% answer first on 10-23%
    # of the 60/40 facts, the control on 10-25%
    assert mean(lessons, "reverse", "second_ranked_first") > 0.05


def test_on_policy_reverse_kl_keeps_fewer_second_answers_than_off_policy_forward_kl_and_learns_fewer_facts(lessons):
    """The LLM tab's scenario llm_lab.ON_POLICY: λ = 1 with reverse KL (TRL's DistillationTrainer
    default) against off-policy forward KL ("white"), same 1,200 queries and 500 steps. Measured
    seeds 0-2: on-policy reverse KL knows 0.69/0.74/0.71 of the facts (forward 0.93/0.96/0.96), KL to
    the truth 3.61/2.03/2.79 nats (forward 0.24/0.18/0.13), rare coverage 0.56/0.67/0.58 (forward
    0.88/0.92/0.94), second answers kept 0.35/0.48/0.45 (forward 0.93/0.98/0.95)."""
    from types import SimpleNamespace
    for s in SEEDS:
        on, off = lessons["on-policy", s], lessons["white", s]
        assert (on["on_policy"], on["loss"], off["on_policy"], off["loss"]) == (1.0, "reverse_kl", 0.0, "forward_kl")
        assert on["teacher_queries"] == off["teacher_queries"] == LLMConfig.queries and on["steps"] == off["steps"]
        # the tab's judge, on this seed's numbers, bears out the outcome the scenario states
        lab = SimpleNamespace(run_seed=s, names=("white-box", "forward KL"), labels={"white-box": "on",
                              "forward KL": "off"}, final={"white-box": on, "forward KL": off})
        assert llm_lab.judge_second(lab)[1] == llm_lab.SCENARIOS[llm_lab.ON_POLICY].expected
    # off- minus on-policy share of second answers kept: +0.58/+0.50/+0.50, mean 0.53, sd 0.043, mean - 2 sd 0.44
    assert low(paired(lessons, "white", "on-policy", "second_mode_coverage")) > 0.3
    # and it learned fewer facts on this budget: +0.24/+0.22/+0.25, mean 0.24, sd 0.016, mean - 2 sd 0.20
    assert low(paired(lessons, "white", "on-policy", "fact_accuracy")) > 0.1
    assert all(e > 1.0 for e in paired(lessons, "on-policy", "white", "kl_to_truth"))  # +3.37/+1.85/+2.66 nats


def test_at_equal_fact_accuracy_on_policy_reverse_kl_keeps_fewer_second_answers_on_facts_it_got_right(lessons):
    """The scenario's control, experiments.EQUAL_ACCURACY_STEPS: forward KL stopped at 180 steps
    knows on average as many facts as on-policy reverse KL at 500. Measured seeds 0-2: fact accuracy
    0.70/0.71/0.71 (control) against 0.69/0.74/0.71 (on-policy), means 0.705 and 0.712; second answers
    kept on the 60/40 facts each got right 0.68/0.75/0.57 against 0.25/0.40/0.33 (gap 0.23-0.43, mean 0.34)."""
    assert abs(mean(lessons, "early", "fact_accuracy") - mean(lessons, "on-policy", "fact_accuracy")) < 0.06
    assert mean(lessons, "early", "second_kept_when_right") > \
        mean(lessons, "on-policy", "second_kept_when_right") + 0.15
    for s in SEEDS:  # seed by seed too: the smallest gap, seed 2's, is 0.23
        assert lessons["early", s]["second_kept_when_right"] > lessons["on-policy", s]["second_kept_when_right"] + 0.1


@torch.no_grad()
def by_hand(model, task):
    """kl_to_truth, fact_accuracy and perplexity of a facts student, recomputed here from
    the model's outputs (not through evaluate.facts_metrics): KL from each fact's whole
    answers, accuracy from the first letter after "<subject> <relation> ", perplexity
    from the held-out answers' characters."""
    lang, tok = task.language, model.tokenizer
    kl, right = [], []
    for f in lang.facts:
        q = evaluate.answer_probabilities(model, lang, f.subject, f.relation)
        kl.append(sum(p * math.log(p / q[a]) for a, p in zip(f.answers, f.probs)))
        answers = facts.RELATIONS[f.relation]
        first = model(tok.batch([facts.BOS + lang.prompt(f.subject, f.relation) + " "])[0])[0, -1]
        right.append(answers[int(first[[tok.stoi[a[0]] for a in answers]].argmax())] == f.answers[0])
    nll = []
    for row, start in zip(task.heldout, task.heldout_start.tolist()):
        row = row[row != 0]
        logp = torch.log_softmax(model(row[None, :-1])[0].float(), -1)
        nll += [-logp[j - 1, row[j]].item() for j in range(start, len(row))]
    return {"kl_to_truth": sum(kl) / len(kl), "fact_accuracy": sum(right) / len(right),
            "perplexity": math.exp(sum(nll) / len(nll))}


@pytest.mark.parametrize("name", ["white", "black"])
def test_one_default_experiment_reports_every_number(lessons, name):
    """Each number means what it says (issue 21: this test checked the keys only): the
    budget is what the student's pool received, teacher_tokens the characters of those
    sequences, and the metrics are those of the trained student, recomputed here."""
    r, seen = lessons[name, 0], lessons.seen[name, 0]
    assert r["method"] == LESSONS[name].get("method", "white-box") and r["seed"] == 0 and r["loss"] == "forward_kl"
    assert r["teacher_queries"] == r["queries"] == LLMConfig.queries == len(seen)
    assert r["teacher_tokens"] == sum(len(row["ids"]) for row in seen)  # prompts read and answers written
    assert r["steps"] == LLMConfig.steps and r["teacher_seconds"] < r["seconds"]
    hand = by_hand(lessons.students[name, 0], wb.llm.task())
    assert r["kl_to_truth"] == pytest.approx(hand["kl_to_truth"], rel=1e-4)
    assert r["fact_accuracy"] == pytest.approx(hand["fact_accuracy"], abs=1e-6)  # a share of 96 facts: exact
    assert r["perplexity"] == pytest.approx(hand["perplexity"], rel=1e-4)


# --- real text --------------------------------------------------------------------------------------

def test_the_default_corpus_needs_no_download_and_is_ascii():
    corpus = text.load()
    assert len(corpus.train) > 300_000 and len(corpus.val) > 30_000
    assert set(corpus.tokenizer.chars) <= set(text.ASCII)


@pytest.mark.parametrize("content, message", [
    (b"", "non-empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary"),
    ("caf\u00e9 ".encode("latin-1") * 400, "not UTF-8"),
])
def test_a_bad_corpus_file_is_refused_by_name(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        text.load(path)
    with pytest.raises(ValueError, match="no such file"):
        text.load(tmp_path / "missing.txt")


def test_a_users_text_file_can_be_distilled_black_box(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("the cat sat on the mat and the dog sat on the log.\n" * 60, encoding="utf-8")
    corpus = text.load(path, tokenizer=wb.llm.teacher("pydoc", device="cpu").tokenizer)
    task = wb.llm.TextTask(corpus, heldout=16)
    pydoc = wb.llm.teacher("pydoc", device="cpu")
    student = wb.llm.gpt.build(pydoc.tokenizer, context=64, layers=1, width=32, heads=2)
    res = run(wb.llm.steps(student, pydoc, task, LLMConfig(method="black-box", queries=40, steps=20, rounds=2)))
    assert res.metrics["teacher_queries"] == 40 and math.isfinite(res.metrics["perplexity"])
    with pytest.raises(ValueError, match="it contains 'é'"):
        path.write_text("café " * 300, encoding="utf-8")
        text.load(path, tokenizer=pydoc.tokenizer)


# --- evaluation against models whose answers are known ------------------------------------------

class Uniform(torch.nn.Module):
    """Every next character equally likely: any answer of n characters has probability V^-n."""

    def __init__(self, like):
        super().__init__()
        self.tokenizer, self.cfg, self.bos = like.tokenizer, like.cfg, like.bos
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, ids):
        return torch.zeros(*ids.shape, self.cfg.vocab_size) + self.w


class Peeking(torch.nn.Module):
    """Knows the batch it will be asked about: gives the true character at position j the
    probability 0.5 before `start`, 0.7 at `start` and 0.9 after (the rest spread evenly)."""

    def __init__(self, like, full, start):
        super().__init__()
        self.tokenizer, self.cfg, self.full, self.start = like.tokenizer, like.cfg, full, start
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, ids):
        v = self.cfg.vocab_size
        nxt = self.full[:, 1:ids.shape[1] + 1]
        j = torch.arange(ids.shape[1])[None] + 1  # the position of the character predicted
        p_true = torch.where(j < self.start, 0.5, torch.where(j == self.start, 0.7, 0.9))
        probs = ((1 - p_true) / (v - 1))[..., None].expand(*nxt.shape, v).clone()
        probs.scatter_(-1, nxt[..., None], p_true[..., None])
        return probs.log()


def test_answer_probabilities_score_exactly_the_answer_characters(teacher, language):
    uniform = Uniform(teacher)
    v = teacher.cfg.vocab_size
    f = next(f for f in language.facts if f.kind == "tail")
    q = evaluate.answer_probabilities(uniform, language, f.subject, f.relation)
    for a, p in q.items():
        assert p == pytest.approx(v ** -len(language.completion(a)), rel=1e-4)  # " answer." and nothing else
    first, q3 = evaluate.answer_distributions(uniform, language)
    assert torch.allclose(first, torch.full_like(first, 1 / v))
    i = language.facts.index(f)
    assert q3[i].tolist() == pytest.approx([v ** -len(language.completion(a)) for a in f.answers], rel=1e-4)


def test_perplexity_counts_the_characters_from_start_on(teacher):
    ids = teacher.tokenizer.batch(["\ngunu likes tea.", "\nbupi lives in rome."])[0]
    start = torch.tensor([11, 14])  # where each answer begins: the space before it
    peeking = Peeking(teacher, ids, start[:, None])
    # scored: 5 + 6 answer characters, the first of each at 0.7, the other 9 at 0.9
    expected = math.exp(-(2 * math.log(0.7) + 9 * math.log(0.9)) / 11)
    assert evaluate.perplexity(peeking, ids, start) == pytest.approx(expected, rel=1e-5)
    assert evaluate.perplexity(peeking, ids, 1) > expected + 0.2  # the prompt's characters at 0.5 count too
