"""Checks for the exercise notebooks (notebooks/exercises): each takes a learner's answer
(a function or a number) and returns a Feedback: correct, not yet (what is wrong and a
hint, never the solution) or not answered (None, ... or a function that raises
NotImplementedError), so an unanswered notebook still runs to the end.

    from workbench import exercises as ex
    ex.check_kd_loss(my_kd_loss)        # ✗ Your loss is the reference divided by T². hint: …
"""
from .beyond import check_decoupled_kd, check_nckd_ratio
from .choices import check_best
from .collapse import check_expected_variance, check_median_variance, check_refit
from .feedback import Feedback, check_claim
from .kd_loss import check_kd_loss, check_kd_objective
from .left_out import check_bias_correction, check_left_out_delta
from .questions import QUESTIONS
from .relations import check_rkd_distances
from .soft_labels import check_soft_labels
from .token_kl import check_forward_reverse, check_second_answer_terms
from .verifier import check_keep_verified, check_queries_needed
from ..recording import recorded_check

# on a class's server each check's verdict also goes to the class board (workbench.recording)
(check_best, check_bias_correction, check_decoupled_kd, check_expected_variance, check_forward_reverse,
 check_kd_loss, check_kd_objective, check_keep_verified, check_left_out_delta, check_median_variance,
 check_nckd_ratio, check_queries_needed, check_refit, check_rkd_distances, check_second_answer_terms,
 check_soft_labels) = map(recorded_check, (
    check_best, check_bias_correction, check_decoupled_kd, check_expected_variance, check_forward_reverse,
    check_kd_loss, check_kd_objective, check_keep_verified, check_left_out_delta, check_median_variance,
    check_nckd_ratio, check_queries_needed, check_refit, check_rkd_distances, check_second_answer_terms,
    check_soft_labels))

__all__ = ["Feedback", "check_claim", "QUESTIONS", "check_best", "check_bias_correction", "check_decoupled_kd",
           "check_expected_variance", "check_forward_reverse", "check_kd_loss", "check_kd_objective",
           "check_keep_verified", "check_left_out_delta", "check_median_variance", "check_nckd_ratio",
           "check_queries_needed", "check_refit", "check_rkd_distances", "check_second_answer_terms",
           "check_soft_labels"]
