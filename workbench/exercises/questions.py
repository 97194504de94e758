"""Multiple-choice questions, one list per exercise notebook, in jupyterquiz's format
(each answer with its own feedback). Plain data: `widgets.quiz(topic)` shows one list in
a notebook, and the app's Exercises tab shows them all, both in a shuffled order.

Every question has three or four answers and exactly one right one; each wrong answer is a
misconception learners actually hold, and its feedback says why it is wrong. The right
answer's place in this file varies (tests/test_questions.py checks that no place holds more
than half of them), so a printed copy does not give it away."""


def _q(question, answers):
    """answers: [(text, correct, feedback), ...] with exactly one correct."""
    return {"question": question, "type": "multiple_choice",
            "answers": [{"answer": a, "correct": c, "feedback": f} for a, c, f in answers]}


SOFT_LABELS = [
    _q("As the temperature T grows very large, the soft labels softmax(z/T) approach…", [
        ("the one-hot hard label", False,
         "No: a large T flattens the distribution. One-hot is the other end, T → 0, and even there the one-hot "
         "sits on the teacher's own top class (its argmax), which is the true label only where the teacher is "
         "right."),
        ("the uniform distribution", True,
         "Yes: z/T → 0 for every class, so every class tends to 1/C. The gaps between log-probabilities are "
         "(z_i − z_j)/T, and they shrink as T grows."),
        ("the logits themselves", False,
         "No: softmax(z/T) is a probability distribution at every T (non-negative, summing to 1); logits are "
         "unnormalised scores and can be negative. What the high-T limit ties to the logits is the KD loss, "
         "not the labels (see 'Choosing T and alpha')."),
        ("a sharper distribution on the top class", False,
         "No: dividing the logits by a larger T shrinks their differences, so the distribution gets flatter. "
         "Sharpening comes from T < 1."),
    ]),
    _q("A teacher gives an image of a 7 the soft labels 0.90 for '7', 0.08 for '1' and 0.02 spread over the "
       "other digits. What does the 0.08 tell the student?", [
        ("nothing: only the largest probability matters", False,
         "No: that is all a hard label keeps. The sizes of the small probabilities, relative to one another, are "
         "what soft labels add: Hinton et al. 2015's 'dark knowledge'."),
        ("that the teacher got this image wrong", False,
         "No: its top class is still 7 (0.90). A soft label can be right and still say which other classes "
         "the image resembles."),
        ("that this 7 looks more like a 1 than like any other digit", True,
         "Yes: that similarity between classes, image by image, is the dark knowledge a student learns from."),
        ("that 8% of the training images labelled 7 are really 1s", False,
         "No: a soft label is the teacher's belief about this one image, not a count of label noise in the "
         "data set."),
    ]),
    _q("You add the same constant c to every logit of a teacher. What happens to its soft labels "
       "softmax(z/T)?", [
        ("nothing: they are unchanged at every T", True,
         "Yes: each exp((z_i + c)/T) = exp(c/T) · exp(z_i/T), and the common factor cancels in the "
         "normalisation. That is why KD's high-T limit matches logits only up to their mean."),
        ("the top class gains probability", False,
         "No: every class's exponential is multiplied by the same factor exp(c/T), so the ratios between "
         "classes, and the probabilities, stay as they were."),
        ("they get flatter, as with a higher T", False,
         "No: a higher T divides the differences between logits; a shift leaves the differences, and the "
         "distribution, unchanged."),
        ("it depends on T: at a low T the shift matters", False,
         "No: the factor exp(c/T) cancels whatever T is; only differences between logits ever reach the "
         "soft labels."),
    ]),
    _q("A teacher is 99.9% sure on almost every training image. Why distil at a temperature above 1?", [
        ("to make the teacher more accurate", False,
         "No: dividing the logits by a positive T keeps their order, so the top class, and the accuracy, do "
         "not change."),
        ("to change which class the teacher ranks second", False,
         "No: any T > 0 keeps the order of all the logits; it only shrinks the gaps between them."),
        ("there is no reason: at 99.9% nothing is left to transfer", False,
         "No: the other classes' probabilities are tiny at T = 1, but their ratios are not: log p_i − log p_j = "
         "(z_i − z_j)/T. A higher T lifts them to where they move the student's gradient."),
        ("to lift the small probabilities, whose ratios carry the dark knowledge, out of the near-zeros", True,
         "Yes: at T = 1 they are all near 0 and the loss barely sees them; at a higher T they are large enough "
         "for the student to match."),
    ]),
]

KD_LOSS = [
    _q("Why is the soft-target term multiplied by T²?", [
        ("to make the loss positive", False,
         "No: a KL divergence is never negative, and multiplying by T² > 0 does not change a sign."),
        ("to sharpen the teacher's distribution", False,
         "No: multiplying a loss by a number changes no distribution; the soft labels are softmax(z/T) "
         "whatever the factor in front."),
        ("the soft term's gradients scale as 1/T², and T² keeps their size as T changes", True,
         "Yes (Hinton et al. 2015): the gradient of the soft term on a logit is (q_i − p_i)/T, about "
         "(z_i − v_i)/(N T²) at a high T. With T² the soft and hard terms keep their relative weight when you "
         "change T, so alpha means the same at every T."),
        ("to turn the KL into a squared error on the logits", False,
         "No: the high-T limit of the KL is a squared error on the logits with or without the factor; T² only "
         "sets the size of its gradient."),
    ]),
    _q("In F.kl_div(input, target), which distribution goes in 'target' for KD?", [
        ("the student's probabilities at temperature T", False,
         "No: F.kl_div(input, target) computes Σ target · (log target − input), KL(target ‖ input's "
         "distribution). With the student as target it is KL(student ‖ teacher), the reverse direction."),
        ("the teacher's probabilities at temperature T (or its log-probabilities with log_target=True)", True,
         "Yes: KL(teacher ‖ student) = Σ p_teacher (log p_teacher − log q_student), an expectation under the "
         "teacher; 'input' takes the student's log-probabilities."),
        ("the teacher's logits divided by T", False,
         "No: kl_div expects probabilities (or log-probabilities with log_target=True). Logits are neither: "
         "the sum is then not a KL at all and can be negative."),
        ("the one-hot true labels", False,
         "No: a one-hot target has entropy 0, so that KL is the cross-entropy with the hard labels: the "
         "(1 − alpha) term, not the distillation term."),
    ]),
    _q("With the teacher's soft labels p, the cross-entropy H(p, q) and the KL(p ‖ q) of a student q differ "
       "by…", [
        ("nothing: they are the same number", False,
         "No: H(p, q) = KL(p ‖ q) + H(p). The teacher's entropy H(p) is 0 only for a one-hot p; with soft "
         "labels the cross-entropy is larger."),
        ("a factor T²", False,
         "No: T² is a weight we put in front of the term. Cross-entropy and KL differ by an added constant, "
         "the teacher's entropy H(p)."),
        ("their gradients: only the KL distils", False,
         "No: H(p) does not depend on the student, so both give the same gradient, (q − p)/T per logit. Only "
         "the value differs: the KL is 0 at a perfect match, the cross-entropy is H(p)."),
        ("the teacher's entropy H(p), a constant for the student: the same gradient, another value", True,
         "Yes: H(p, q) = KL(p ‖ q) + H(p). Training with either moves the student the same way; report the KL "
         "if you want 0 to mean 'matches the teacher'."),
    ]),
    _q("The KD loss is (1 − alpha) · CE(y, q) + alpha · T² · KL(p_T ‖ q_T). At which temperature are the "
       "student's probabilities in each term?", [
        ("T in the KL, 1 in the hard-label cross-entropy", True,
         "Yes: both sides of the KL are softened by the same T, so they are comparable; the hard-label term "
         "trains the student as it will be used, at T = 1 (Hinton et al. 2015)."),
        ("1 in both: the student is used at T = 1", False,
         "No: the student is used at T = 1 after training, but during training its side of the KL must be "
         "softened like the teacher's, or the two distributions have different sharpness."),
        ("T in both terms", False,
         "No: the hard labels are one-hot whatever T is; softening the student there trains it for a "
         "temperature it will not be used at. Hinton et al. use T only in the soft term."),
        ("no temperature: the KL takes the student's raw logits", False,
         "No: a KL compares probability distributions. The student's logits go through log_softmax(z/T) "
         "first."),
    ]),
]

TEMPERATURE_ALPHA = [
    _q("At a high temperature, with the T² factor, the KD term behaves like…", [
        ("cross-entropy with the hard labels", False,
         "No, at neither end of T. As T → 0, T² · KL goes to 0 and its targets become the teacher's argmax, "
         "not the true labels. At T = 1 the term is the cross-entropy with the teacher's soft labels minus "
         "their entropy. The hard labels enter only through the (1 − alpha) term."),
        ("zero: the soft labels are uniform", False,
         "No: they tend to uniform, but the gradient of T² · KL tends to (z_i − v_i)/N for zero-mean logits, "
         "not to 0: the T² cancels the 1/T² shrinkage."),
        ("squared error between the student's and the teacher's logits, up to their mean", True,
         "Yes (Hinton et al. 2015, section 2.1): for a large T the gradient is about (z_i − v_i)/(N T²) when "
         "the logits have zero mean. That is logit matching, as Ba & Caruana 2014 trained their mimic "
         "networks; a shift common to all classes is ignored."),
        ("cross-entropy with the teacher's argmax as a hard label", False,
         "No: the targets become the teacher's argmax as T → 0, where T² · KL itself goes to 0. A high T "
         "spreads the targets out."),
    ]),
    _q("With alpha = 0 the 'distilled' student…", [
        ("ignores the labels", False,
         "No: that is alpha = 1, where only the KD term is left."),
        ("is trained exactly like the hard-label student", True,
         "Yes: the KD term has weight 0, so the loss is the hard-label cross-entropy alone."),
        ("still learns a little from the teacher through T", False,
         "No: T appears only inside the KD term, whose weight is 0: no gradient from the teacher reaches the "
         "student."),
        ("trains on the hard labels at temperature T", False,
         "No: the hard-label term uses T = 1; T shapes only the soft labels."),
    ]),
    _q("You try T in {1, 2, 4, 8} and alpha in {0.5, 0.9}. How do you choose the setting you report?", [
        ("the best test accuracy", False,
         "No: once the test set has picked the setting, its accuracy is an optimistic estimate; it no longer "
         "measures data the choice has not seen."),
        ("the lowest final training loss", False,
         "No: the training loss measures fit, not accuracy on new data; and KD losses at different T and "
         "alpha are on different scales, so they cannot be compared."),
        ("the best validation accuracy of one seed", False,
         "Closer, but differences between neighbouring settings are often smaller than the spread between "
         "seeds: one seed can pick a setting by luck."),
        ("the best mean validation accuracy over several seeds; then test once", True,
         "Yes: a validation split carved from the training data chooses; several seeds average out the "
         "seed-to-seed noise; the test set is used once, at the end."),
    ]),
    _q("The teacher is wrong on 5% of the training images. What does alpha < 1 give the student?", [
        ("the hard labels still pull it toward the true class where the teacher is wrong", True,
         "Yes: the (1 − alpha) term uses the true labels; Hinton et al. 2015 found a small weight on it "
         "helps."),
        ("nothing: the temperature already corrects the teacher's errors", False,
         "No: T keeps the order of the teacher's logits, so a wrong top class stays wrong at every T."),
        ("a faster copy of the teacher's mistakes", False,
         "No: the (1 − alpha) term uses the true labels, so it works against copying the mistakes."),
        ("no more need for the T² factor", False,
         "No: T² balances the soft term's gradient across temperatures whatever alpha is."),
    ]),
]

LEFT_OUT = [
    _q("A student never saw a 3, yet after distillation it recognises some test 3s. Where did it learn about "
       "3s?", [
        ("from the test set", False,
         "No: the test set is never trained on; it only measures."),
        ("from the hard labels", False,
         "No: no training example is labelled 3, so the hard-label term only ever pushes the '3' output down."),
        ("from the teacher's soft labels on other digits that look like a 3", True,
         "Yes: a teacher's 5s and 8s carry a little probability of '3', and the student learns which images "
         "earn it. Hinton et al. 2015 (section 3) showed this on MNIST."),
        ("from the network itself, which has an output for 3", False,
         "No: the hard-label student has the same output and never predicts a 3. What it lacks is a training "
         "signal that raises it."),
    ]),
    _q("The distilled student ranks '3' high on the test 3s but too rarely first. What fix did Hinton et al. "
       "use?", [
        ("raise the bias of the '3' output", True,
         "Yes: they raised it by 3.5, and the student got 98.6% of the test 3s. They tuned that amount on the "
         "test set; choose it on validation data so the test number stays honest."),
        ("train longer with the same setting", False,
         "No: the '3' output is too low because nothing labelled 3 ever raises it; more epochs of the same "
         "signal do not supply the prior the data never had."),
        ("lower the temperature", False,
         "No: a lower T makes the soft labels closer to one-hot, so '3' gets even less probability on the "
         "other digits: less of what the student learned 3s from."),
        ("add the test 3s to the training data", False,
         "No: then the student has seen 3s, and the test set no longer measures unseen data."),
    ]),
    _q("Why does the student trained on hard labels, without any 3, never predict a 3?", [
        ("3 is the hardest digit to recognise", False,
         "No: the teacher recognises 3s well. What is missing is the examples, not an easy digit."),
        ("it is too small to represent 3s", False,
         "No: the distilled student of the same size does recognise 3s."),
        ("its network has no output for 3", False,
         "No: both students have ten outputs; the output is there but nothing raises it."),
        ("softmax cross-entropy lowers every wrong class, and every example is another digit", True,
         "Yes: the '3' output only ever gets pushed down, so it never wins."),
    ]),
]

FEATURES_RELATIONS = [
    _q("Teacher and student features have different widths. Which term works without a learned regressor?", [
        ("a FitNets hint: squared error between the two feature maps", False,
         "No: a hint compares features element by element, so it needs a regressor that maps the student's "
         "width to the teacher's."),
        ("RKD distance: relations between the examples of a batch", True,
         "Yes (Park et al. 2019): it compares batch × batch distance matrices, whose shape does not depend on "
         "the feature width."),
        ("cosine similarity between each example's two feature vectors", False,
         "No: the cosine of two vectors needs them to have the same length, so the widths must match or a "
         "regressor must map one onto the other."),
        ("none: every feature term needs one", False,
         "No: terms on relations between examples (RKD) compare matrices whose size is set by the batch, not "
         "the width."),
    ]),
    _q("Why does RKD's distance term divide each model's distance matrix by its mean?", [
        ("to speed up training", False,
         "No: it changes what is matched, not how fast the optimiser goes."),
        ("to turn the distances into probabilities", False,
         "No: dividing by the mean makes the mean 1, not each row's sum; RKD compares the matrices with a "
         "Huber loss, not a KL."),
        ("because the teacher's features are larger than the student's", False,
         "No: each model's matrix is divided by its own mean, the teacher's and the student's alike, so "
         "neither model's scale matters."),
        ("so the student matches the shape of the batch's geometry, not its scale", True,
         "Yes (Park et al. 2019): a student whose features are twice as spread out, but arranged the same "
         "way, pays nothing."),
    ]),
    _q("FitNets (Romero et al. 2015) trains a thin, deep student how?", [
        ("the hint and the KD term together from the start, with a 1×1 convolution as regressor", False,
         "No: that is what this workbench does, a common variant. The paper trains in stages."),
        ("KD on the outputs first, then the hint", False,
         "No: the hint comes first; it gives the student's middle layers a good start, then KD trains the "
         "whole network."),
        ("first the lower layers, to predict the teacher's middle layer through a regressor; then the whole "
         "student by KD", True,
         "Yes: the hint stage first, with a convolutional regressor, then distillation. The workbench's joint "
         "training with a 1×1 conv is a variant of it."),
        ("the hint alone: FitNets drops the KD loss", False,
         "No: its second stage is Hinton-style KD on the whole student."),
    ]),
    _q("Linear CKA between a student's layer and the teacher's first block is 0.95. What does that show on "
       "its own?", [
        ("that the student learned the teacher's representation", False,
         "Not on its own: linear CKA is high for unrelated wide features of the same inputs. In this "
         "workbench the raw pixels already score about 0.95 with the teacher's first block."),
        ("little, until it is set beside the CKA of raw pixels and of an untrained student", True,
         "Yes: those are the floors. Only a trained student above them says the training moved the "
         "representation toward the teacher's."),
        ("that the student is 95% as accurate as the teacher", False,
         "No: CKA compares how two representations arrange the examples, not how accurate either model is."),
        ("that the student's layer is a linear copy of the teacher's block", False,
         "No: CKA is 1 for features equal up to rotation and scale; 0.95 says the two arrange the examples "
         "similarly, and unrelated features can already come close to that."),
    ]),
]

WHITE_BLACK_BOX = [
    _q("A fact's truth is 60% / 40%. A student too small to fit every fact is trained by reverse KL, "
       "KL(student ‖ teacher). What does it tend to do on that fact?", [
        ("keep both answers at 60/40", False,
         "No: that is what forward KL, KL(teacher ‖ student), favours. It is large wherever the teacher has "
         "mass and the student little, so it covers both answers (mode-covering)."),
        ("commit to one of the answers, not necessarily the likelier one", True,
         "Yes: reverse KL is large where the student puts mass the teacher does not, so a student that cannot "
         "fit everything settles on a mode (mode-seeking): whichever one its training reaches."),
        ("always pick the 60% answer", False,
         "No: mode-seeking commits to a mode, not to the likeliest one; which it picks depends on where the "
         "student starts and what it sees."),
        ("spread its mass over all answers, wrong ones too", False,
         "No: mass where the teacher has almost none is exactly what reverse KL punishes most."),
    ]),
    _q("A black-box API returns one sampled answer per query. How does a student learn a 60/40 split?", [
        ("from one answer", False,
         "No: one sample says which answer came up, not how often each would."),
        ("by asking for the teacher's greedy (T = 0) answer", False,
         "No: greedy decoding always returns the 60% answer, so the 40% one is never seen and the student "
         "learns 100/0."),
        ("it cannot: a black box only ever teaches the top answer", False,
         "No: sampled at T = 1, each answer comes up with its probability; with enough queries the "
         "frequencies approach 60/40."),
        ("by asking the same prompt many times and learning the frequencies", True,
         "Yes: the sample frequencies estimate the split; rare prompts are seldom asked often enough."),
    ]),
    _q("MiniLLM (Gu et al.) distils a language model by…", [
        ("token-level reverse KL on text the teacher wrote", False,
         "No: MiniLLM's expectation is over the student's own samples, not the teacher's text."),
        ("fine-tuning on the teacher's beam-search outputs", False,
         "No: that is sequence-level KD (Kim & Rush 2016)."),
        ("sequence-level reverse KL on the student's own samples, optimised by policy gradient", True,
         "Yes: the student generates, the teacher scores, and the gradient of the sequence-level reverse KL "
         "is estimated by policy gradient."),
        ("forward KL on the teacher's full next-token distributions", False,
         "No: that is the standard white-box token-level KD (word-level KD in Kim & Rush 2016)."),
    ]),
    _q("Kim & Rush 2016's sequence-level KD trains the student on…", [
        ("the teacher's beam-search output for each source sentence", True,
         "Yes: the teacher decodes with beam search (close to its most likely sequence) and the student is "
         "trained on that text."),
        ("the teacher's samples at T = 1", False,
         "No: sampling at T = 1 is a common black-box recipe, but Kim & Rush decode with beam search."),
        ("the teacher's full next-token distributions", False,
         "No: that is their word-level KD; sequence-level KD needs only the teacher's output text."),
        ("the human reference translations only", False,
         "No: that is ordinary training without a teacher; the teacher's beam output takes their place."),
    ]),
    _q("Why can't white-box token-level KD go from a teacher to a student with another tokenizer?", [
        ("the teacher's logits are secret", False,
         "No: white-box means we have them. The problem is what they are over."),
        ("it can, if both sides use T = 1", False,
         "No: a temperature changes how sharp a distribution is, not which tokens it is over."),
        ("the two next-token distributions are over different vocabularies, and the positions do not line up",
         True, "Yes: there is no token-by-token KL to take. Black-box KD has no such limit: text is text."),
        ("the student would learn too slowly", False,
         "No: it is not a question of speed; the per-token comparison is not defined."),
    ]),
    _q("At a budget of 1,200 queries the reverse-KL student keeps fewer second answers than the forward-KL "
       "one. Before crediting mode-seeking, what should you compare?", [
        ("nothing: fewer second answers is what mode-seeking means", False,
         "No: a student that learned less also keeps fewer second answers. Measure coverage on facts both got "
         "right, or train both to the same accuracy."),
        ("their number of parameters", False,
         "No: both students have the same architecture and the same budget; the question is what each "
         "learned."),
        ("how much each learned: fact accuracy and KL to the truth", True,
         "Yes: at 1,200 queries the reverse-KL student is worse at everything, so its lower coverage "
         "confounds mode-seeking with under-training."),
    ]),
]

COLLAPSE = [
    _q("A word-frequency table is re-estimated from its own samples, generation after generation. A word "
       "sampled zero times…", [
        ("comes back a few generations later", False,
         "No: its estimated probability is now 0, so it is never sampled again."),
        ("is gone for good, unless real data that has it is mixed in", True,
         "Yes: 0 is absorbing. Rare words are the likeliest to draw zero samples, so the tails go first."),
        ("keeps its true frequency on average", False,
         "No: each refit is unbiased one step at a time, but 0 is a state the chain can never leave."),
        ("gets a larger share next generation", False,
         "No: nothing in the refit gives mass to a word it never saw."),
    ]),
    _q("Which keeps a chain of refits near the truth?", [
        ("more generations", False,
         "No: each generation is one more refit on a finite sample; more of them only add error."),
        ("a larger synthetic sample each generation, replacing the last", False,
         "No: more samples make each step's error smaller, so the drift is slower; but while each generation "
         "replaces the data, errors still add up. It delays collapse, it does not stop it."),
        ("keeping all the data, real and synthetic, and adding each generation's to it", True,
         "Yes: Gerstgrasser et al. 2024 found that with accumulated data the error stays bounded, while "
         "replacing the data lets it grow."),
        ("sampling each generation greedily, the likeliest output only", False,
         "No: greedy outputs keep only the mode, so the tails vanish in one generation."),
    ]),
    _q("Each generation trains on some fresh real data plus the previous generation's synthetic data. What "
       "happens?", [
        ("it still collapses, just more slowly", False,
         "No: with enough fresh real data per generation Alemohammad et al. 2023 saw no decline, and Bertrand "
         "et al. 2023 proved retraining stable when the real share is large enough and the first model good."),
        ("it collapses faster: the synthetic data adds errors on top", False,
         "No: the fresh real data pulls each fit back toward the truth at every generation."),
        ("it depends only on the number of generations", False,
         "No: it depends on how much fresh real data each generation gets."),
        ("it stays near the truth, provided each generation's real share is large enough", True,
         "Yes (Alemohammad et al. 2023, 'Self-consuming generative models go MAD'; Bertrand et al. 2023): the "
         "real data anchors every generation."),
    ]),
    _q("A Gaussian of variance 1 is refitted by maximum likelihood (dividing by n) to n samples of its "
       "previous fit, k times. Its expected variance is then…", [
        ("((n − 1)/n)^k: it shrinks toward 0", True,
         "Yes: E[σ²_ML] = (n − 1)/n · σ², so each refit multiplies the expectation by (n − 1)/n."),
        ("1: the maximum-likelihood variance is unbiased", False,
         "No: dividing by n underestimates by (n − 1)/n; dividing by n − 1 is the unbiased one."),
        ("(n/(n − 1))^k: it grows", False,
         "No: that inverts the bias; maximum likelihood underestimates the variance."),
        ("1 on average, with no trend", False,
         "No: the bias is the same at every refit, so it compounds."),
    ]),
    _q("The same chain with the unbiased estimator (dividing by n − 1): at n = 50, after 80 refits, the "
       "expected variance is exactly 1. What does the median chain do?", [
        ("stays near 1 as well", False,
         "No: mean and median part ways. log σ² does a random walk whose step, log(χ²₄₉/49), has a negative "
         "mean (E log X < log E X = 0), so the typical chain drifts down while a few chains that grow hold "
         "the mean at 1."),
        ("shrinks: it ends near 0.2", True,
         "Yes: E[log(χ²ₙ₋₁/(n − 1))] ≈ −1/(n − 1) ≈ −0.02 per refit, about −1.65 over 80 refits: e^−1.65 ≈ "
         "0.19. The unbiased estimator fixes the mean, not the drift of the typical chain."),
        ("grows, since the unbiased estimate is larger", False,
         "No: dividing by n − 1 removes the bias of the mean, not the downward drift of log σ²."),
        ("reaches exactly 0 after a few refits", False,
         "No: the drift is about −0.02 per refit in log σ²: slow, and a variance never becomes exactly 0."),
    ]),
    _q("Born-again networks (Furlanello et al. 2018) train a student of the teacher's size on its soft "
       "labels, then a student of that student, and so on. What happened?", [
        ("each generation got worse: students of students collapse", False,
         "No: every generation trained on the real training data, with the previous one's soft labels, and "
         "did not collapse. Collapse needs finite samples that replace the data."),
        ("nothing: a same-size student learns exactly its teacher", False,
         "No: self-distilled students differ from their teachers; in Furlanello et al. they were often more "
         "accurate."),
        ("the students matched or beat their teachers, since each generation still trained on real data", True,
         "Yes: self-distillation on real data improved their students; model collapse comes from training on "
         "a model's own finite samples in place of the data."),
    ]),
    _q("Shumailov et al. 2024 trained models recursively on the previous generation's output. What did they "
       "see go first?", [
        ("the most frequent outputs", False,
         "No: the frequent outputs are sampled plenty; the rare ones are the likeliest to draw no samples."),
        ("the tails of the distribution: rare events", True,
         "Yes: the tails vanish first, then the models converge toward a narrow distribution. Finite "
         "sampling alone does it, even for a learner that fits exactly, like the Gaussian refit."),
        ("nothing, if the models are large enough", False,
         "No: sampling error alone causes collapse, even for a learner that fits exactly."),
        ("only language models are affected", False,
         "No: they show it for Gaussian mixtures and variational autoencoders as well as language models."),
    ]),
]

PAYOFF = [
    _q("The payoff's distilled and hard-label students learn from 10% of the labels; the teacher learned "
       "from all of them. What does that mean for 'the same accuracy at a fraction of the parameters'?", [
        ("nothing: the students only ever saw 10% of the images", False,
         "No: the teacher's outputs on those images were shaped by every label it trained on, and that reaches "
         "the distilled student."),
        ("the finding is void: distillation only works with all the labels", False,
         "No: distillation helps on full data too. The point is to measure how much of this gain is "
         "distillation."),
        ("the gain comes from the temperature alone", False,
         "No: T decides how much of the teacher's knowledge shows in the soft labels; it is not its source."),
        ("part of the gain is the teacher's extra labels; the control trains both students on the teacher's "
         "data", True,
         "Yes: the soft labels carry what the teacher learned from the 90% the students never saw. Hard-label "
         "and distilled students on the same data as the teacher show how much is distillation itself."),
    ]),
    _q("A student with a tenth of the teacher's parameters is barely faster at batch 1. Why?", [
        ("at batch 1 most of the time is the fixed cost of each call, which a smaller model does not remove",
         True, "Yes: Python, PyTorch's dispatch and launching each layer cost the same for any width; the "
         "arithmetic, the part that shrinks, dominates only at a large batch."),
        ("the measurement is broken: latency is proportional to the parameters", False,
         "No: latency has a fixed part per call; only the arithmetic part scales with the parameters."),
        ("the student is less accurate, so it does more work", False,
         "No: size and speed depend on the architecture, not on what the weights learned."),
        ("small models are slower per example at every batch size", False,
         "No: at a large batch the student's advantage shows; measure batch 1,024 to see it."),
    ]),
    _q("Static int8 quantization stores each weight as an 8-bit integer with a float scale. Which is true?", [
        ("the model always runs 4× faster", False,
         "No: converting the input to int8 and the result back costs time on every call; in a tiny model "
         "that can cancel the cheaper multiplications."),
        ("the weights take about a quarter of their float32 bytes, but the model is not always faster", True,
         "Yes: and the file does not shrink to exactly a quarter (biases stay 32-bit; the graph and scales "
         "take bytes). Measure it."),
        ("the predictions are unchanged bit for bit", False,
         "No: rounding to 8 bits changes the logits a little; usually not the accuracy, but that must be "
         "measured."),
        ("it needs no calibration data", False,
         "No: that is dynamic quantization. Static quantization fixes the activations' scales in advance, from "
         "calibration images."),
    ]),
    _q("A model is on the Pareto front of accuracy against parameters when…", [
        ("it is the most accurate model", False,
         "No: the most accurate model is on the front, but so is every model no other beats on both axes; "
         "the smallest model usually is too."),
        ("it has the best accuracy per parameter", False,
         "No: that ratio ranks models one way; the front keeps every model that is not dominated, whatever "
         "its ratio."),
        ("it is a distilled student", False,
         "No: the front is a property of the points, not of how they were trained."),
        ("no other model is at least as accurate with no more parameters, and better on one of the two", True,
         "Yes: every model off the front is a bad deal, since another is more accurate for no more cost, or "
         "as accurate for less."),
    ]),
    _q("What does exporting the student to ONNX give you?", [
        ("a smaller model: ONNX compresses the weights", False,
         "No: a float32 ONNX file weighs about what the weights do; the drop in size comes from int8 "
         "quantization, a separate step."),
        ("a file with the graph and the weights that ONNX Runtime runs without Python or PyTorch", True,
         "Yes: the same predictions (the export compares the logits with PyTorch's), shipped without the "
         "training stack."),
        ("a more accurate model", False,
         "No: an export reproduces what the model computes; it changes nothing it learned."),
        ("a model that only runs on a GPU", False,
         "No: ONNX Runtime runs it on a CPU too; the payoff's timings are CPU timings."),
    ]),
]

BEYOND = [
    _q("Before Hinton et al. (2015), how did Ba & Caruana (2014) train shallow networks to mimic deep ones?", [
        ("on the deep net's hard predictions only", False,
         "No: a hard prediction keeps only the top class. Ba & Caruana regressed the deep net's logits, which "
         "keep how it ranks and spaces every class."),
        ("by copying the deep net's first layers into the shallow one", False,
         "No: the mimic network is trained from scratch on the deep net's outputs; no weights are copied."),
        ("by regressing the deep net's logits with a squared error (L2)", True,
         "Yes: logit matching, ½ · Σ (s − t)². Hinton et al. then showed that KD at a high temperature, with "
         "each example's logits centred, becomes this same loss (their section 2.1)."),
        ("by matching its soft labels at a raised temperature", False,
         "No: that is Hinton et al. 2015, a year later. The temperature turns logit matching into one end of "
         "a family: KD at a high T is logit matching."),
    ]),
    _q("Buciluă, Caruana & Niculescu-Mizil (2006) compressed a large ensemble into one small neural network. "
       "What did the small network train on?", [
        ("only the original labelled training set, with the ensemble as a tie-breaker", False,
         "No: on the original data alone a small net stays less accurate. The gain came from the ensemble "
         "labelling far more inputs than the training set held."),
        ("the ensemble's weights, averaged into one network", False,
         "No: an ensemble of trees, SVMs and networks has no weights to average. The small network only ever "
         "saw the ensemble's outputs."),
        ("the ensemble's soft labels at a high temperature", False,
         "No: temperature-softened targets came with Hinton et al. 2015. The 2006 paper's contribution was "
         "where to find enough inputs to label."),
        ("a large set of extra inputs, many made synthetically (MUNGE), labelled by the ensemble", True,
         "Yes: the ensemble labels many inputs close to the real data, and the small net learns its function "
         "from them; synthetic inputs that follow the data (MUNGE) worked better than random ones."),
    ]),
    _q("KD at a very high temperature is logit matching. What does a moderate temperature do that logit "
       "matching does not?", [
        ("it matches only the teacher's top class", False,
         "No: that is the limit T → 0. A moderate T still matches every class's probability."),
        ("it pays less attention to logits far below the rest, which training barely constrains", True,
         "Yes (Hinton et al. 2015, section 2.1): the very negative logits can be noisy; at a moderate T their "
         "probabilities are tiny and hardly move the loss, while logit matching weighs every logit alike."),
        ("it also matches the mean of the logits", False,
         "No: the softmax ignores a shift common to all classes, so KD never matches the mean; plain logit "
         "matching on uncentred logits is the one that does."),
        ("it trains without the teacher", False,
         "No: both compare the student with the teacher; they differ in what of the teacher's outputs counts."),
    ]),
    _q("A small student learns from teachers of rising size. What did Cho & Hariharan (2019) and Mirzadeh et "
       "al. (2020) find?", [
        ("the most accurate teacher always gives the best student", False,
         "No: past some size a larger, more accurate teacher gives a worse student: the student cannot mimic "
         "it."),
        ("past some size, a larger and more accurate teacher gives a worse student", True,
         "Yes: the capacity gap. Cho & Hariharan stopped the large teacher early; Mirzadeh et al. put a "
         "middle-sized teacher assistant in between."),
        ("the student's accuracy rises with the teacher's until it equals it", False,
         "No: a student far smaller than its teacher does not reach it, and a too-large teacher lowers it."),
        ("only the teacher's accuracy matters, never its size", False,
         "No: their larger teachers were the more accurate ones, and their students still got worse: what "
         "matters is how hard the teacher is for this student to mimic."),
    ]),
    _q("Which remedy for a teacher too large for its student did Cho & Hariharan (2019) find to work?", [
        ("a chain of distillation steps through ever smaller networks", False,
         "No: they found such sequences ineffective. A single middle-sized teacher assistant is Mirzadeh et "
         "al.'s (2020) remedy; on digits (notebook 10), distilled from the large teacher, it does not close "
         "the gap."),
        ("a smaller student", False,
         "No: a smaller student widens the gap; the student is the model you must ship."),
        ("a higher learning rate for the student", False,
         "No: the gap is between what the teacher computes and what the student can represent; a learning "
         "rate does not change either."),
        ("stopping the teacher's training early", True,
         "Yes: a teacher stopped early is less sharp and easier to mimic, and its student does better, even "
         "though the teacher itself is less accurate."),
    ]),
    _q("A student the same size as its teacher is distilled from it on the same real training data (a "
       "born-again network, Furlanello et al. 2018). What happens?", [
        ("it ends identical to the teacher, since their architecture is the same", False,
         "No: it starts from other weights and learns from soft labels plus the true labels; it ends as a "
         "different network with different errors."),
        ("it can end more accurate than its teacher", True,
         "Yes: their born-again DenseNets beat their teachers on CIFAR-10 and CIFAR-100. Unlike a collapse "
         "chain, every generation still trains on the real data. On digits the gain shows only with noisy "
         "labels (notebook 10)."),
        ("it can at best equal its teacher: it only copies it", False,
         "No: the soft labels act as a teacher-shaped regulariser on the real data, and the students beat "
         "their teachers."),
        ("it ends worse, as in model collapse", False,
         "No: collapse comes when samples of the previous model replace the real data. A born-again student "
         "keeps the real inputs and labels."),
    ]),
    _q("A teacher trained with label smoothing is as accurate and better calibrated. Why is it a worse "
       "teacher (Müller, Kornblith & Hinton 2019)?", [
        ("it is less accurate", False,
         "No: label smoothing usually keeps or improves accuracy; the loss shows in what its wrong-class "
         "probabilities say."),
        ("its soft labels are too sharp", False,
         "No: label smoothing makes a model less confident, not sharper. What it removes is the differences "
         "between the wrong classes."),
        ("the examples of a class cluster tightly, so its logits say little about which other classes an "
         "image resembles", True,
         "Yes: the wrong classes get nearly equal probabilities; the dark knowledge, which wrong class this "
         "image looks like, is largely erased."),
        ("a student cannot learn from a calibrated teacher", False,
         "No: calibration is not the problem; a calibrated teacher that keeps its class similarities teaches "
         "well."),
    ]),
    _q("Yuan et al. (2020) found that even a poorly trained teacher, less accurate than its student, improves "
       "it. What do they conclude?", [
        ("KD is partly a learned label smoothing: the soft targets' regularisation matters, not only the "
         "class similarities", True,
         "Yes: and label smoothing is KD from a hand-made 'teacher' that spreads its mass evenly over the "
         "wrong classes. Part of KD's gain needs no teacher at all."),
        ("dark knowledge does not exist", False,
         "No: they argue the regularisation is part of the gain, not all of it; a good teacher's class "
         "similarities still add to it."),
        ("any teacher is as good as the best one", False,
         "No: the weak teacher helps, but that does not make every teacher equal; a uniform teacher gives "
         "only the regularisation part."),
        ("teachers must be retrained with label smoothing before distilling", False,
         "No: that goes against Müller et al., for whom a label-smoothed teacher is a worse teacher."),
    ]),
    _q("Decoupled KD (Zhao et al. 2022) splits the KD term into TCKD (the target class against the rest) and "
       "NCKD (among the other classes). In Hinton's KD, NCKD is multiplied by…", [
        ("a constant, 8", False,
         "No: 8 is DKD's default weight β for NCKD, the constant DKD puts in place of KD's own weight."),
        ("T², like the whole term", False,
         "No: T² scales TCKD and NCKD alike. Inside the term, NCKD carries a weight of its own that depends "
         "on the example."),
        ("1 − the teacher's probability of the true class", True,
         "Yes: KD = TCKD + (1 − p_target) · NCKD. The surer the teacher, the less NCKD, the dark knowledge, "
         "counts; DKD frees that weight."),
        ("the student's probability of the true class", False,
         "No: the weight comes from the teacher's distribution, the target of the KL."),
    ]),
    _q("Logit standardization (Sun et al. 2024) z-scores each example's logits before the softmax. What does "
       "the student then no longer have to match?", [
        ("the scale and the mean of the teacher's logits", True,
         "Yes: only their relations count, which class is how many standard deviations above which. Each "
         "side in effect gets its own temperature, T times the std of its logits."),
        ("the order of the teacher's classes", False,
         "No: z-scoring keeps the order, and the student must still match it: that is part of the relations "
         "it learns."),
        ("the teacher's top class", False,
         "No: the top class survives z-scoring and is still matched."),
        ("the teacher's wrong-class probabilities", False,
         "No: those are the relations that remain after z-scoring; they are what the student learns."),
    ]),
    _q("Stanton et al. (2021) asked 'Does knowledge distillation really work?'. What did they find?", [
        ("yes: a student with enough capacity matches its teacher's predictions", False,
         "No: even students able to represent the teacher exactly ended with clearly different predictive "
         "distributions."),
        ("students often do not match their teachers, even when they could, largely because the optimisation "
         "is hard", True,
         "Yes: fidelity to the teacher is often low. The data distilled on matters too, and matching the "
         "teacher more closely does not always give a better student."),
        ("a student that matches its teacher more closely always generalises better", False,
         "No: they found that closer matching does not always bring better generalization."),
        ("students fail to match only because they are smaller", False,
         "No: they showed low fidelity in self-distillation, where the student is as large as the teacher."),
    ]),
    _q("What does a student's fidelity measure, as opposed to its generalization?", [
        ("its accuracy on the test set", False,
         "No: that is generalization. A student can be accurate and still disagree with its teacher on many "
         "images."),
        ("its calibration", False,
         "No: calibration compares confidence with accuracy against the true labels; fidelity ignores the "
         "labels."),
        ("the teacher's accuracy on the images the student gets wrong", False,
         "No: that mixes both models with the labels; fidelity compares the student with the teacher alone."),
        ("how closely its predictions match the teacher's, right or wrong (top-1 agreement, KL to the "
         "teacher)", True,
         "Yes: fidelity asks whether the student copies the teacher, generalization whether it is right."),
    ]),
    _q("You distil with alpha = 1, so only the teacher's soft labels on the transfer set train the student. "
       "Which transfer set teaches it least about digits?", [
        ("the real training images, with their labels removed", False,
         "No: with alpha = 1 the labels are never used anyway, and real images are where the teacher's soft "
         "labels say the most."),
        ("20 real images, shifted and noised to fill the set", False,
         "No: few, but real digits: the teacher's answers on their variations still carry much of what it "
         "knows."),
        ("only the images of digits 0 to 4", False,
         "Closer: the student learns little of 5-9 from them, but it learns 0-4 well."),
        ("images of uniform noise", True,
         "Yes: the teacher is never asked about anything that looks like a digit, so its answers teach "
         "about as much as chance. Lopes et al. (2017) rebuilt inputs that look like the data for this "
         "reason."),
    ]),
    _q("Lopes, Fenu & Starner (2017) distilled without the training data. What did the student learn from?", [
        ("random noise images, labelled by the teacher", False,
         "No: random inputs teach little. They rebuilt inputs whose activations in the teacher match "
         "records kept from the real data."),
        ("inputs reconstructed from a few statistics of the teacher's activations on the training data, "
         "shipped with the model", True,
         "Yes: 'metadata' released with the teacher, from which inputs resembling the data are rebuilt and "
         "then used as the transfer set."),
        ("the teacher's weights, copied into the student", False,
         "No: the student has another architecture; it learns from the teacher's outputs."),
        ("the test set", False,
         "No: training on the test set would make its accuracy meaningless."),
    ]),
]

REASONING = [
    _q("A student trained on the teacher's worked steps learns 3-digit addition; the same student trained on the "
       "teacher's final answers to the same problems does not. Why?", [
        ("it trains on more problems", False,
         "No: both train on the same teacher queries, with the same optimizer steps. The worked steps do give it "
         "more characters to predict on each problem, and those characters are the point: they are the "
         "intermediate results."),
        ("each step is a small computation (one column: two digits and a carry) it can learn, and the answer is "
         "built from steps already written", True,
         "Yes: that is what scratchpads showed (Nye et al. 2021). From the answer alone the student must produce "
         "every digit of a + b, carries included, in one go, and a few hundred examples do not teach that."),
        ("the teacher's final answers are often wrong", False,
         "No: the teacher is right on about 93% of them at T = 1.4, and the hard-label control, trained on the "
         "true answers to the same problems, fails as well: the answers carry too little, right or wrong."),
        ("it has memorised the test problems", False,
         "No: no teacher query is a held-out problem; accuracy there measures addition learned, not recall."),
    ]),
    _q("The lab's verifier keeps a teacher trace for the student (rejection sampling) when…", [
        ("every step and the final answer are right", False,
         "No: that would be a process check. This verifier, like the rule-based answer checks of DeepSeek-R1's "
         "data, reads only the final answer: a trace with a wrong step and the right answer passes."),
        ("the teacher was sure of it", False,
         "No: a black-box teacher gives only text, no probabilities. The verifier compares the answer with the "
         "known truth."),
        ("the student, asked the same problem, gives the same answer", False,
         "No: agreement with the student is not evidence that the answer is right; the verifier checks it "
         "against the truth (here a + b)."),
        ("its final answer equals a + b, whatever its steps", True,
         "Yes: it checks the outcome only. That is cheap and needs no teacher internals, but a kept trace can "
         "still teach a wrong step."),
    ]),
    _q("Compared with training on all of the teacher's traces (b), what does keeping only the verified ones (c) "
       "change?", [
        ("the student no longer repeats the teacher's wrong answers on the problems the teacher got wrong", True,
         "Yes: it never trains on them. The student of all traces inherits a share of those mistakes; the "
         "verified one, at the lab's default, almost none."),
        ("the student becomes more accurate than its teacher", False,
         "No: the filter takes wrong examples away; it adds nothing the teacher did not know, and the student "
         "here stays below its teacher (which adds correctly when greedy)."),
        ("nothing is lost: the same traces are used", False,
         "No: the rejected traces were paid for as queries and thrown away: about 7% here, and far more where "
         "the teacher is right less often (the queries needed are the traces wanted divided by the share right)."),
        ("the teacher's logits are needed to filter", False,
         "No: it needs only the text and a way to check the answer (the true sum here; unit tests or a math "
         "checker elsewhere), so it works with a black-box teacher."),
    ]),
    _q("At the lab's default, the student trained on the teacher's final answers alone gives the teacher's own "
       "wrong answer on most of the training problems the teacher got wrong, and adds almost no held-out problem "
       "correctly. What does that show?", [
        ("it learned the teacher's way of adding, errors and all", False,
         "No: it adds almost no held-out problem correctly, so it learned no way of adding. It learned a list of "
         "answers."),
        ("the teacher's mistakes are systematic, so any student makes them", False,
         "No: the student of verified traces, which never saw them, almost never makes them; nor does the "
         "hard-label control trained on the true answers."),
        ("it memorised its training pairs, mistakes included, without learning addition", True,
         "Yes: over many passes it inherits each answer it was shown, wrong ones included, and learns nothing "
         "that carries to a new problem. The hard-label control shows the same accuracy without the inherited "
         "mistakes: the failure is in answers alone, not in the teacher's errors."),
        ("the verifier let the wrong answers through", False,
         "No: this student's data is not filtered at all; only way (c) uses the verifier."),
    ]),
    _q("Every student, however well it adds 3-digit numbers, scores about 0 on 4-digit problems. Why?", [
        ("4-digit addition needs a larger model", False,
         "No: the column rule is the same at any length, and the same students do it well on 3 digits. What "
         "changes is where each digit sits."),
        ("the students did not train long enough", False,
         "No: more steps on 3-digit problems add nothing at positions that training never reaches."),
        ("the verifier rejects 4-digit answers", False,
         "No: the verifier only chooses training data; accuracy on longer problems compares each answer with the "
         "true sum."),
        ("the student learned each column at fixed positions (learned absolute position embeddings): in a "
         "longer problem every digit sits where training put another, and the steps run past any position it "
         "saw", True,
         "Yes: a failure of length generalisation, not of the steps. McLeish et al. (2024) gave each digit an "
         "embedding of its place within its own number, and their transformers trained on numbers of up to 20 "
         "digits added numbers of 100."),
    ]),
    _q("Li et al. (2025), 'Small Models Struggle to Learn from Strong Reasoners', found that…", [
        ("longer chains of thought from a stronger teacher help a student of any size", False,
         "No: that is the assumption they tested. Small students did not consistently gain from long chains of "
         "thought or from larger teachers."),
        ("small students (about 3B parameters or less) learned better from shorter, simpler chains of thought, "
         "and mixing long and short ones (Mix Distillation) helped", True,
         "Yes: they called it the small model learnability gap: what a student can learn from depends on its "
         "size. The lab's verbose-against-terse comparison asks the same question on addition."),
        ("small models cannot be distilled from chains of thought at all", False,
         "No: they learned from short chains and from mixtures; the gap is about which chains, not whether."),
        ("small students should be trained with RL instead", False,
         "No: they compared distillation data, not RL. DeepSeek-AI (2025) found that distilling R1 into small "
         "models beat large-scale RL on a small model of their own."),
    ]),
    _q("How were DeepSeek-R1's distilled students (Qwen and Llama models) made?", [
        ("by matching R1's token probabilities (white-box KL)", False,
         "No: they were fine-tuned on R1's text, as a black-box student is; the students' tokenizers were not "
         "R1's anyway."),
        ("by RL with R1's rule-based rewards", False,
         "No: the distilled students had supervised fine-tuning only; the paper reports that distillation beat "
         "large-scale RL on a 32B student."),
        ("by fine-tuning on 1,000 carefully chosen examples", False,
         "No: that was s1 (Muennighoff et al. 2025): 1,000 questions with reasoning traces, and budget forcing "
         "at test time."),
        ("by supervised fine-tuning on about 800,000 samples curated with R1, its reasoning samples kept by "
         "rejection sampling", True,
         "Yes: the samples were filtered for right answers (and readable text) before fine-tuning: the "
         "verifier filter of exercise 09, at scale."),
    ]),
    _q("STaR (Zelikman et al. 2022) bootstrapped a model's own rationales. What did it do with a rationale that "
       "reached a wrong answer?", [
        ("trained on it with a negative weight", False,
         "No: STaR trained on kept rationales only, with ordinary fine-tuning."),
        ("threw it away, and for a problem the model failed it generated a rationale with the right answer given "
         "as a hint (rationalization), keeping it if it reached that answer", True,
         "Yes: a filter on the final answer, as in the lab's way (c), plus rationalization so that hard problems "
         "are not simply lost."),
        ("kept it, since its steps could still be useful", False,
         "No: only rationales that reached the right answer were fine-tuned on; that filter is the heart of "
         "STaR."),
        ("asked a larger teacher to correct it", False,
         "No: STaR had no teacher; the model taught itself, with the right answers as its only check."),
    ]),
]

QUESTIONS = {
    "soft_labels": SOFT_LABELS,
    "kd_loss": KD_LOSS,
    "temperature_alpha": TEMPERATURE_ALPHA,
    "left_out": LEFT_OUT,
    "features_relations": FEATURES_RELATIONS,
    "white_black_box": WHITE_BLACK_BOX,
    "collapse": COLLAPSE,
    "payoff": PAYOFF,
    "beyond": BEYOND,
    "reasoning": REASONING,
}
