"""Multiple-choice questions, one list per exercise notebook, in jupyterquiz's format
(each answer with its own feedback). Plain data: `widgets.quiz(topic)` shows one list in
a notebook, and the app's Exercises tab shows them all."""


def _q(question, answers):
    """answers: [(text, correct, feedback), ...] with exactly one correct."""
    return {"question": question, "type": "multiple_choice",
            "answers": [{"answer": a, "correct": c, "feedback": f} for a, c, f in answers]}


QUESTIONS = {
    "soft_labels": [
        _q("As the temperature T grows very large, the soft labels softmax(z/T) approach…", [
            ("the uniform distribution", True, "Yes: z/T → 0 for every class, so every class gets 1/C."),
            ("the one-hot hard label", False, "That is what happens as T → 0."),
            ("the logits themselves", False, "Soft labels are probabilities; logits are not."),
        ]),
        _q("A teacher gives a 7 soft labels 0.90 for '7', 0.08 for '1' and 0.02 spread over the rest. What "
           "does the 0.08 tell the student?", [
            ("that this 7 looks somewhat like a 1", True, "That is the dark knowledge."),
            ("that the teacher is wrong", False, "Its most likely class is still 7."),
            ("nothing: only the largest probability matters", False, "That is what hard labels keep; soft labels "
                                                                     "keep more."),
        ]),
    ],
    "kd_loss": [
        _q("Why is the soft-target term multiplied by T²?", [
            ("its gradients shrink as 1/T², and T² restores their size", True,
             "Right: then alpha means the same at every T."),
            ("to make the loss positive", False, "KL is never negative."),
            ("to sharpen the teacher's distribution", False, "Multiplying the loss does not change any distribution."),
        ]),
        _q("In F.kl_div(input, target), which distribution goes in 'target' for KD?", [
            ("the teacher's soft labels", True, "Yes: KL(teacher ‖ student), the expectation under the teacher."),
            ("the student's soft labels", False, "That computes KL(student ‖ teacher), the reverse direction."),
        ]),
    ],
    "temperature_alpha": [
        _q("At a high temperature, with the T² factor, the KD term behaves like…", [
            ("matching the logits (up to their mean) by squared error", True,
             "Hinton et al.: in the high-T limit KD is logit matching, as in Caruana's model compression."),
            ("cross-entropy with the hard labels", False, "That is the T → 0 end."),
            ("zero: the soft labels are uniform", False, "They are, but T² keeps the term's gradient alive."),
        ]),
        _q("With alpha = 0 the 'distilled' student…", [
            ("is trained exactly like the hard-label student", True, "Yes: the KD term has no weight."),
            ("ignores the labels", False, "That is alpha = 1."),
        ]),
    ],
    "left_out": [
        _q("A student never saw a 3, yet predicts some test 3s after distillation. Where did it learn about 3s?", [
            ("from the teacher's soft labels on other digits that look like 3", True,
             "Yes: a teacher's 8s and 5s carry a little probability of '3'."),
            ("from the test set", False, "The test set is never trained on."),
            ("from the hard labels", False, "No training example is labelled 3."),
        ]),
    ],
    "features_relations": [
        _q("Teacher and student features have different widths. Which term works without a learned regressor?", [
            ("RKD distance (relations between examples)", True,
             "Yes: it compares batch × batch matrices, whatever the width."),
            ("a FitNets hint", False, "A hint compares features element by element: it needs a regressor."),
        ]),
        _q("Why does RKD divide the distances by their mean?", [
            ("so the student matches the batch's shape, not its scale", True, "Right."),
            ("to speed up training", False, "It changes what is matched, not the speed."),
        ]),
    ],
    "white_black_box": [
        _q("A fact's truth is 60% / 40%. Which loss keeps the student's second answer?", [
            ("forward KL, KL(teacher ‖ student)", True, "Mean-seeking: missing the 40% answer is expensive."),
            ("reverse KL, KL(student ‖ teacher)", False, "Mode-seeking: it can settle on the 60% answer alone."),
        ]),
        _q("A black-box API returns one sampled answer per query. How does a student learn a 60/40 split?", [
            ("by asking the same prompt many times", True, "Yes, and rare prompts are seldom asked often enough."),
            ("from one answer", False, "One sample says nothing about the split."),
        ]),
    ],
    "collapse": [
        _q("A word-frequency table is re-estimated from its own samples. A word sampled zero times…", [
            ("is gone for good (without fresh real data)", True, "Probability 0 is never sampled again."),
            ("comes back a few generations later", False, "Only real data can bring it back."),
        ]),
        _q("Which keeps a chain near the truth?", [
            ("accumulating all real and synthetic data", True, "Gerstgrasser et al. 2024: the error stays bounded."),
            ("more generations", False, "More generations only add more refits."),
        ]),
    ],
}

