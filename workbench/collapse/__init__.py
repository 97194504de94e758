"""Model collapse: students learning from students.

    import workbench as wb
    rows = wb.collapse.run("gaussian", generations=80, samples=50, policy="replace", seed=0)
    rows[-1]["variance"], rows[-1]["tail_mass"]      # both below the truth's 1 and 0.05

One entry point, `run(setting, generations=..., samples=..., real_share=0.0,
policy="replace", temperature=1.0, seed=0)`, returns one dict per generation (generation
0 first). Settings, from instant to richer: "gaussian", "zipf", "lm", "digits"; policies:
"replace", "mix", "accumulate" (see chain.py, which credits each to its paper). Each row's "kl_to_truth" is the KL that
`KL_TO_TRUTH[setting]` names: forward KL(truth ‖ fit) for "gaussian" and "lm", reverse
KL(model ‖ truth) for "zipf", KL(true label ‖ model) per test image for "digits".

    chains = [wb.collapse.run("gaussian", estimator="unbiased", seed=s) for s in range(400)]
    wb.collapse.across_chains(chains, "variance")[-1]    # mean near 1, median about 0.2

`gaussian.expected_variance` and `gaussian.typical_variance` give the mean and the median
chain's variance in closed form for either estimator (see gaussian.py)."""
from . import gaussian
from .chain import KL_TO_TRUTH, POLICIES, SETTINGS, across_chains, check, run, steps, truth

__all__ = ["KL_TO_TRUTH", "POLICIES", "SETTINGS", "across_chains", "check", "gaussian", "run", "steps", "truth"]
