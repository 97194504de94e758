"""Checks for token-level KL in LLM distillation (exercise 06): forward KL(p ‖ q) and
reverse KL(q ‖ p) = Σ q · log(q / p) of the notebook's truth p and student q, and the
second answer's own term in each, in nats to the decimals the question states."""
import math

from ._judge import real_number, within
from .feedback import correct, is_unanswered, unanswered, wrong


TRUTH = (0.60, 0.38, 0.02)    # the notebook's p
STUDENT = (0.90, 0.05, 0.05)  # the notebook's q


def _kl(a, b):
    return sum(x * math.log(x / y) for x, y in zip(a, b))


def _both(forward, reverse):
    """(f, r) as floats, or (None, Feedback) when an answer is missing or not a number."""
    if is_unanswered(forward) or is_unanswered(reverse):
        return None, unanswered("Σ p · log(p / q) over the three answers.")
    f, r = real_number(forward), real_number(reverse)
    if f is None or r is None:
        sizes = [getattr(v, "numel", getattr(v, "__len__", lambda: 0))() if not isinstance(v, (str, bytes)) else 0
                 for v in (forward, reverse) if real_number(v) is None]
        if any(s == 3 for s in sizes):
            return None, wrong("You gave one number per answer: each divergence is their sum.",
                               "Add the three terms up (.sum()), then .item() if you like.")
        return None, wrong(f"Both answers must be real numbers; got {type(forward).__name__} and "
                           f"{type(reverse).__name__}.")
    if not (math.isfinite(f) and math.isfinite(r)):
        return None, wrong("One of your numbers is infinite or NaN.",
                           "Use the smoothed truth p = (0.60, 0.38, 0.02): no probability is zero.")
    return (f, r), None


def check_forward_reverse(forward, reverse, decimals=3):
    """forward and reverse: numbers for KL(p ‖ q) and KL(q ‖ p) in nats of the notebook's
    truth p = (0.60, 0.38, 0.02) and student q = (0.90, 0.05, 0.05), to `decimals`
    decimal places (tolerance: one unit in the last place)."""
    pair, fb = _both(forward, reverse)
    if fb is not None:
        return fb
    f, r = pair
    tol = 10.0 ** -decimals
    p, q = TRUTH, STUDENT
    want_f, want_r = _kl(p, q), _kl(q, p)
    both = lambda a, b: within(f, a, tol) and within(r, b, tol)
    if both(want_f, want_r):
        return correct(f"Right: KL(p ‖ q) = {want_f:.3f} and KL(q ‖ p) = {want_r:.3f} nats. These are totals of two "
                       "different divergences, so comparing them says little about the second answer: part 2 "
                       "looks at its own term in each.")
    if both(want_r, want_f):
        return wrong("Your two numbers are swapped.", "Forward KL takes the expectation under the truth p.")
    if both(want_f / math.log(2), want_r / math.log(2)) or within(f, want_f / math.log(2), tol) \
            or within(r, want_r / math.log(2), tol):
        return wrong("These are bits (log base 2); the workbench measures in nats.", "Use the natural log.")
    if both(want_f / math.log(10), want_r / math.log(10)):
        return wrong("These are in log base 10; the workbench measures in nats.", "Use the natural log.")
    if both(-want_f, -want_r):
        return wrong("Both signs are flipped: a KL divergence is never negative.",
                     "KL(a ‖ b) = Σ a · log(a / b): the target's probability on top.")
    cross = lambda a, b: -sum(x * math.log(y) for x, y in zip(a, b))
    if within(f, cross(p, q), tol) or within(r, cross(q, p), tol):
        return wrong("That is the cross-entropy, not the KL: it includes the entropy of the first distribution.",
                     "KL(a ‖ b) = Σ a · log(a / b) = cross-entropy − entropy of a.")
    second_f, second_r = p[1] * math.log(p[1] / q[1]), q[1] * math.log(q[1] / p[1])
    if within(f, second_f, tol) or within(r, second_r, tol):
        return wrong("That is the second answer's term alone; part 1 asks for the whole divergence.",
                     "Sum the terms of all three answers.")
    wrong_one = "forward" if not within(f, want_f, tol) else "reverse"
    return wrong(f"Your {wrong_one} KL is off (to {decimals} decimals).",
                 "KL(a ‖ b) = Σ a · (log a − log b), the sum over all three answers.")


def check_second_answer_terms(forward_term, reverse_term, decimals=3):
    """The second answer's own term in each divergence of check_forward_reverse, to
    `decimals` places: p₂ · log(p₂ / q₂) in KL(p ‖ q) and q₂ · log(q₂ / p₂) in KL(q ‖ p)."""
    pair, fb = _both(forward_term, reverse_term)
    if fb is not None:
        return fb
    f, r = pair
    tol = 10.0 ** -decimals
    p, q = TRUTH, STUDENT
    term = lambda a, b, i: a[i] * math.log(a[i] / b[i])
    want_f, want_r = term(p, q, 1), term(q, p, 1)
    both = lambda a, b: within(f, a, tol) and within(r, b, tol)
    if both(want_f, want_r):
        return correct(f"Right: the second answer costs {want_f:.3f} nats in forward KL, and its term in reverse KL "
                       f"is {want_r:.3f}. Forward KL weighs each answer by the truth, so dropping an answer the truth "
                       "gives 38% is expensive; reverse KL weighs by the student, who gives it 5%, so the loss "
                       "barely notices (a single term may even be negative; only the sum is ≥ 0).")
    if both(want_r, want_f):
        return wrong("Your two numbers are swapped.", "The forward term is weighted by the truth p.")
    if both(want_f, -want_r) or both(want_f, abs(want_r)):
        return wrong("The reverse term is negative: the student gives this answer less than the truth does, so "
                     "log(q₂ / p₂) < 0.", "A single term of a KL can be negative; only the sum is ≥ 0.")
    if both(_kl(p, q), _kl(q, p)):
        return wrong("These are the totals over all three answers.", "Keep only the second answer's term in each.")
    if both(term(p, q, 0), term(q, p, 0)):
        return wrong("That is the first answer's term (index 0).", "The second answer is index 1.")
    if both(term(p, q, 2), term(q, p, 2)):
        return wrong("That is the third answer's term (index 2).", "The second answer is index 1: Python counts from 0.")
    if both(math.log(p[1] / q[1]), math.log(q[1] / p[1])):
        return wrong("You left out the weight: each term is a probability times the log-ratio.",
                     "Forward KL weighs by the truth's p₂, reverse KL by the student's q₂.")
    if both(q[1] * math.log(p[1] / q[1]), p[1] * math.log(q[1] / p[1])):
        return wrong("Each log-ratio is weighted by the other distribution.",
                     "KL(a ‖ b) weighs by a: the truth for forward KL, the student for reverse KL.")
    if both(want_f / math.log(2), want_r / math.log(2)):
        return wrong("These are bits (log base 2); the workbench measures in nats.", "Use the natural log.")
    wrong_one = "forward" if not within(f, want_f, tol) else "reverse"
    return wrong(f"Your {wrong_one} term is off (to {decimals} decimals).",
                 "The second answer's term: its probability under the first distribution times the log-ratio.")
