"""TemperatureExplorer: one example's soft labels as the temperature moves.

Pick a test image and a teacher, or type your own numbers for named classes, and drag the
(log-scale) temperature slider: the soft labels softmax(z / T) redraw live next to the
one-hot hard label, with their entropy and the mass on the wrong classes."""
import math

import ipywidgets as W
import torch

import workbench as wb

from . import plots
from . import a11y
from .controls import temperature_slider
from .live import Message, Picture, guarded, live, png, refresh
from .teacher_cache import teacher


def parse_numbers(names_text, values_text, kind):
    """Class names and logits from two comma-separated strings typed by a learner.

    kind "probabilities": non-negative numbers summing to 1, turned into logits log p;
    kind "logits": any finite numbers. Returns (names, logits tensor)."""
    names = [n.strip() for n in names_text.split(",") if n.strip()]
    try:
        values = [float(v) for v in values_text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"values must be numbers separated by commas, got {values_text!r}") from None
    if len(names) < 2:
        raise ValueError(f"class names must list at least 2 classes separated by commas, got {names_text!r}")
    if len(values) != len(names):
        raise ValueError(f"values must give one number per class ({len(names)} classes), got {len(values)} numbers")
    z = torch.tensor(values, dtype=torch.float32)
    if not torch.isfinite(z).all():
        raise ValueError(f"values must be finite numbers, got {values_text!r}")
    if kind == "probabilities":
        if (z < 0).any() or abs(z.sum().item() - 1) > 1e-3:
            raise ValueError(f"probabilities must be >= 0 and sum to 1, got sum {z.sum().item():.3g}")
        z = z.clamp(min=1e-12).log()  # logits whose softmax at T = 1 gives back p
    return names, z


def picture_text(index, label, shape):
    """The alternative text of a test image: which one, its class and its size."""
    h, w = shape[-2:]
    colour = "colour" if len(shape) == 3 and shape[0] == 3 else "grey-scale"
    return f"Test image {index} (class {label}): a {colour} picture of {h} × {w} pixels, enlarged."


class TemperatureExplorer:
    def __init__(self, splits=None, teacher_names=None, index=0, temperature=4.0):
        self.splits = splits or wb.data.load("digits")
        names = teacher_names or wb.teachers.available(self.splits.name)
        self._logits = {}
        self.message = Message()
        self.mode = W.ToggleButtons(options=["data set example", "your own numbers"], description="input")
        self.teacher = W.Dropdown(options=names, value=names[0], description="teacher")
        self.index = W.BoundedIntText(value=index, min=0, max=len(self.splits.test) - 1,
                                      description=f"test image (0–{len(self.splits.test) - 1})",
                                      style={"description_width": "initial"}, layout=W.Layout(width="220px"))
        self.temperature = temperature_slider(temperature)
        self.names = W.Text(value="cat, dog, bird", description="classes", layout=W.Layout(width="420px"))
        self.values = W.Text(value="0.05, 0.90, 0.05", description="values", layout=W.Layout(width="420px"))
        self.kind = W.ToggleButtons(options=["probabilities", "logits"], description="values are")
        self.stats = W.HTML()
        self.bars = live(self.figures())
        self.picture = Picture(width=160, height=160)  # an <img> with alt text
        self.caption = W.HTML()
        self.picture_box = W.VBox([self.caption, self.picture], layout=W.Layout(padding="40px 10px 0 10px"))
        self._picture_of = None
        self.data_box = W.HBox([self.teacher, self.index])
        self.own_box = W.VBox([self.names, self.values, self.kind])

        update = guarded(self.message, lambda *_: self.update())
        for control in (self.teacher, self.index, self.temperature, self.names, self.values, self.kind, self.mode):
            control.observe(update, names="value")
        self.widget = W.VBox([self.mode, self.data_box, self.own_box, self.temperature, self.message,
                              W.HBox([self.picture_box, self.bars.view]), self.stats, a11y.ensure()])
        self.update()

    def teacher_logits(self, name, index):
        """The teacher's logits for one test image (the teacher runs once per image and name)."""
        key = (name, index)
        if key not in self._logits:
            model = teacher(name, self.splits.test.x.device)
            self._logits[key] = wb.predict(model, self.splits.test.x[index:index + 1])[0].cpu()
        return self._logits[key]

    def current(self):
        """(class names, logits, hard label index, title) for what the controls select."""
        if self.mode.value == "your own numbers":
            names, z = parse_numbers(self.names.value, self.values.value, self.kind.value)
            return names, z, int(z.argmax()), "your numbers"
        i = self.index.value
        y = self.splits.test.y[i].item()
        return list(self.splits.classes), self.teacher_logits(self.teacher.value, i), y, f"a {self.splits.classes[y]}"

    def figures(self):
        """The soft-label bars for the current controls; sets the stats."""
        names, z, y, what = self.current()
        t = self.temperature.value
        p = wb.analysis.soft_labels(z, t)
        self.probs = p
        h = wb.analysis.entropy(p).item()
        wrong = wb.analysis.wrong_class_mass(p, y).item()
        names = [plots.text(n) for n in names]  # a learner's class names: shown, never run as HTML
        self.stats.value = (f"<b>entropy</b> {h:.3f} nats (max {math.log(len(names)):.3f}) · "
                            f"<b>mass on the wrong classes</b> (dark knowledge) {wrong:.3f} · "
                            f"<b>top class</b> {names[int(p.argmax())]} ({p.max().item():.3f})")
        return plots.soft_label_bars(p, names, hard_label=y, title=f"Soft labels of {what} at T = {t:.2f}")

    def update(self):
        own = self.mode.value == "your own numbers"
        self.own_box.layout.display = None if own else "none"
        self.data_box.layout.display = "none" if own else None
        self.picture_box.layout.display = "none" if own else None
        refresh(self.bars, self.figures())
        i = self.index.value
        if not own and i != self._picture_of:  # a slider move redraws the bars alone
            label = self.splits.classes[self.splits.test.y[i].item()]
            self.picture.value = png(self.splits.test.x[i])
            self.picture.alt = picture_text(i, label, self.splits.test.x[i].shape)
            self.caption.value = f"test image {i}: a <b>{label}</b>"
            self._picture_of = i
        self.message.clear()
        return self.probs
