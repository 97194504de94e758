"""The same distillation in TRL (Hugging Face's trainer library), to take to a real model.

`recipe(cfg)` maps an LLMConfig to the TRL 1.16 configuration that trains the same way,
`recipe_text(cfg)` writes it out as Python to copy. The mapping:

    on_policy λ = 1     trl.DistillationConfig (GKD / on-policy distillation: the student
                        samples every completion; no λ field, it is always on-policy)
    on_policy λ < 1     trl.experimental.gkd.GKDConfig(lmbda=λ, seq_kd=True): with
                        probability λ a batch is sampled by the student, otherwise
                        (seq_kd) by the teacher, as the workbench's off-policy share is
                        teacher text. TRL draws per batch, the workbench splits each round's
                        queries: the same share on average
    loss                β: forward_kl → 0, reverse_kl → 1, jsd → cfg.beta (TRL's
                        generalized JSD with β = 0 forward KL, β = 1 reverse KL, as
                        workbench.losses.generalized_jsd)
    temperature         temperature: both sample and soften the loss at T, as here
    completion length   task.max_new_tokens → max_completion_length / max_new_tokens
    steps, batch, lr    max_steps, per_device_train_batch_size, learning_rate, seed
    black-box           trl.SFTConfig: supervised fine-tuning on the teacher's answers
                        (completion_only_loss, as the workbench masks the prompt)

The teacher's top-k has no field in either distillation config: both use the teacher's
full distribution. DistillationConfig.top_k is the top-k of the student's *sampling*, not
the teacher's top-k of the loss, and is left alone."""
import textwrap

from .. import _check
from .distill import LLMConfig
from .tasks import FactsTask

_BETA = {"forward_kl": 0.0, "reverse_kl": 1.0}

TOP_K_NOTE = (
    "TRL's DistillationConfig and GKDConfig have no teacher top-k for the loss: they match the teacher's full "
    "distribution. (DistillationConfig.top_k is the top-k of sampling completions, not the teacher's top-k: leave "
    "it at 0.) TRL 1.16's experimental ServerDistillationConfig, for a teacher behind a vLLM server, has one, "
    "loss_top_k, fully on-policy only, and k > 1 only with forward KL (beta=0); its loss_add_tail=True is this "
    "workbench's tail='bucket'; with loss_add_tail=False it renormalises student and teacher over the k tokens, "
    "unlike tail='drop' here (the student keeps its full distribution) and with no match for tail='uniform'.")


def beta(cfg):
    """TRL's β for cfg.loss: 0 forward KL, 1 reverse KL, cfg.beta for the generalized JSD."""
    return _BETA.get(cfg.loss, cfg.beta)


def recipe(cfg, task=None):
    """(qualified TRL config class name, keyword arguments) matching cfg, an LLMConfig;
    task gives the completion length (task.max_new_tokens; None: the facts task's).
    Build it with the class and output_dir=..., report_to="none" added."""
    if not isinstance(cfg, LLMConfig):
        raise ValueError(f"cfg must be a workbench.llm.LLMConfig, got {type(cfg).__name__}")
    length = _check.positive_int("task.max_new_tokens", getattr(task or FactsTask, "max_new_tokens", None))
    training = {"learning_rate": cfg.lr, "max_steps": cfg.steps, "per_device_train_batch_size": cfg.batch_size,
                "seed": cfg.seed}
    if cfg.method == "black-box":
        return "trl.SFTConfig", {"completion_only_loss": True, **training}
    if cfg.on_policy == 1:
        return "trl.DistillationConfig", {"beta": beta(cfg), "temperature": cfg.temperature,
                                          "max_completion_length": length, **training}
    return "trl.experimental.gkd.GKDConfig", {"lmbda": cfg.on_policy, "beta": beta(cfg), "seq_kd": True,
                                              "temperature": cfg.temperature, "max_new_tokens": length, **training}


_COMMENTS = {
    "beta": lambda cfg: f"{cfg.loss}: 0 forward KL (mode-covering), 1 reverse KL (mode-seeking), between: JSD",
    "lmbda": lambda cfg: "share of batches the student samples itself (on-policy); the rest the teacher writes",
    "seq_kd": lambda cfg: "the off-policy share is text the teacher samples, as in the workbench",
    "temperature": lambda cfg: "samples and softens both distributions at this T",
    "max_completion_length": lambda cfg: "tokens per sampled completion",
    "max_new_tokens": lambda cfg: "tokens per sampled completion",
    "completion_only_loss": lambda cfg: "learn the answer, not the prompt",
    "learning_rate": lambda cfg: "the workbench's tiny model; a real LLM wants about 1e-5 to 1e-6",
    "max_steps": lambda cfg: "optimizer steps",
    "per_device_train_batch_size": lambda cfg: "sequences per step",
    "seed": lambda cfg: "",
}


def recipe_text(cfg, task=None):
    """recipe(cfg, task) as commented Python a learner copies into a script with a real
    model (the model names and the data set are left to fill in)."""
    name, kwargs = recipe(cfg, task)
    module, cls = name.rsplit(".", 1)
    setting = "" if cfg.method == "black-box" else f", loss {cfg.loss}, on_policy {cfg.on_policy:g}"
    lines = [f"# The workbench run {cfg.method}{setting}, temperature {cfg.temperature:g}, in TRL 1.16"]
    if cfg.method == "black-box":
        lines += ["# Black-box: the teacher's logits are not used. First sample the teacher's answers to your prompts",
                  f"# (at temperature {cfg.temperature:g}{', greedy' if cfg.temperature == 0 else ''}) into a "
                  "prompt-completion data set, then fine-tune the student on them (supervised fine-tuning)."]
    if cfg.method == "top-k":
        lines += ["# " + line for line in textwrap.wrap(f"Top-k (k={cfg.k}, tail={cfg.tail!r}): {TOP_K_NOTE}", 100)]
        lines += ["# So this recipe distils from the full distribution, the white-box run."]
    lines += [f"from {module} import {cls}", "", f"args = {cls}(", '    output_dir="distilled-student",']
    for key, value in kwargs.items():
        comment = _COMMENTS[key](cfg)
        lines.append(f"    {key}={value!r},{'  # ' + comment if comment else ''}")
    lines += ['    report_to="none",', ")"]
    trainer = {"SFTConfig": "SFTTrainer", "DistillationConfig": "DistillationTrainer", "GKDConfig": "GKDTrainer"}[cls]
    teacher = "" if cfg.method == "black-box" else ', teacher_model="your/teacher"'
    lines += [f"# from {module} import {trainer}",
              f"# trainer = {trainer}(model=\"your/student\"{teacher}, args=args, train_dataset=prompts)",
              "# trainer.train()"]
    return "\n".join(lines) + "\n"

