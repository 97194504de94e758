"""Fidelity beside generalization (Stanton, Izmailov, Kirichenko, Alemi & Wilson 2021,
"Does Knowledge Distillation Really Work?"): a student can generalize well and still
not match its teacher. A pure figure function: per student, its test accuracy beside
its top-1 agreement with the teacher, with its KL to the teacher in the text and table."""
import plotly.graph_objects as go

from .plots import _layout, bar_style, describe, num, plain, text

SERIES = (("accuracy", "test accuracy"), ("agreement", "top-1 agreement with the teacher"))


def fidelity_bars(rows, title="Fidelity beside accuracy (test set)"):
    """Grouped bars, one group per student: its test accuracy and its top-1 agreement with
    the teacher. rows: {student: {"accuracy", "agreement", "kl_to_teacher"}} (the
    Distillation lab's table rows; `kl_to_teacher` is the mean KL(p_teacher ‖ p_student)
    at T = 1, optional). The summary names each student's three numbers; names are text
    (escaped in the plot's labels here, and where the summary and table are shown)."""
    fig = go.Figure()
    names = list(rows)
    for i, (key, label) in enumerate(SERIES):
        fig.add_bar(x=[text(n) for n in names], y=[rows[n].get(key) for n in names], name=label, **bar_style(i))
    _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1.05], title="share of test images"),
            xaxis=dict(title="student", type="category"))
    parts = [f"{n}: accuracy {num(r.get('accuracy'))}, agreement {num(r.get('agreement'))}, "
             f"KL to the teacher {num(r.get('kl_to_teacher'), 3)}" for n, r in rows.items()]
    said = "; ".join(parts) + "." if parts else "no students yet."
    table = [[str(n), r.get("accuracy"), r.get("agreement"), r.get("kl_to_teacher")] for n, r in rows.items()]
    return describe(fig, f"{plain(title)}: {said}",
                    ["student", "test accuracy", "top-1 agreement with the teacher", "KL to the teacher (T = 1)"],
                    table)
