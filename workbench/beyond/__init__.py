"""What distillation research learned since 2015, as experiments on digits (issue 24):
each module has one `run(seed=0, ..., stop=None)` returning a dict of measured numbers,
and says in its docstring what it measured over seeds.

    capacity_gap  teachers of rising size against a tiny student; assistant, early stop
    born_again    students the size of their teacher, generation after generation
    smoothing     a teacher trained with label smoothing, and a "uniform teacher"
    transfer      which inputs the teacher is asked about
    fidelity      does the student match its teacher (agreement, KL) as well as it could?
"""
from . import born_again, capacity_gap, fidelity, smoothing, transfer

__all__ = ["born_again", "capacity_gap", "fidelity", "smoothing", "transfer"]
