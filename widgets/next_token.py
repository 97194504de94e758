"""NextTokenViewer: what white-box and black-box access each show of a teacher.

Type a prompt: on the left, the teacher's whole next-token distribution at a temperature
(what a white-box student learns from); on the right, what a black-box user gets for the
same prompt: one sampled text, and a count of the queries spent."""
import html

import ipywidgets as W
import torch

import workbench as wb

from . import plots
from . import a11y
from .controls import LLM_T_MAX, LLM_T_MIN, temperature_slider
from .live import Message, guarded, live, refresh

NEW_TOKENS = {"facts": 8, "pydoc": 32}
STOPS = {"facts": wb.llm.facts.STOP, "pydoc": None}


def default_prompt(name):
    """A prompt worth looking at: for the facts teacher, a two-answer fact of a frequent
    subject (its 60/40 split shows at the first letter)."""
    if name == "facts":
        lang = wb.llm.pretrained.language()
        f = next(f for f in lang.facts if f.kind == "two")
        return lang.prompt(f.subject, f.relation) + " "
    return "The for statement is used to "


class NextTokenViewer:
    def __init__(self, teacher_names=("facts", "pydoc"), temperature=1.0, seed=0):
        style = {"description_width": "initial"}
        self.teacher = W.Dropdown(options=list(teacher_names), value=teacher_names[0], description="teacher")
        self.prompt = W.Text(value=default_prompt(teacher_names[0]), description="prompt", style=style,
                             layout=W.Layout(width="420px"))
        self.temperature = temperature_slider(temperature, low=LLM_T_MIN, high=LLM_T_MAX, description="temperature")
        self.ask = W.Button(description="Ask the black-box teacher", icon="comment", layout=W.Layout(width="240px"))
        self.message = Message()
        self.answer = W.HTML(layout=W.Layout(width="420px"))
        self.apis, self.seed, self.probs = {}, seed, None
        self.bars = live(self.figure(), width=560, height=340)

        update = guarded(self.message, lambda *_: self.update())
        self.temperature.observe(update, names="value")
        self.prompt.observe(update, names="value")
        self.teacher.observe(guarded(self.message, lambda change: self.switch(change["new"])), names="value")
        self.ask.on_click(guarded(self.message, lambda _: self.sample()))
        right = W.VBox([W.HTML("<b>Black-box access</b>: text in, text out"), self.ask, self.answer],
                       layout=W.Layout(padding="40px 0 0 12px"))
        self.widget = W.VBox([W.HTML("<b>White-box access</b>: the teacher's next-token distribution"),
                              self.teacher, self.prompt, self.temperature, self.message,
                              W.HBox([self.bars.view, right]), a11y.ensure()])

    def model(self):
        return wb.llm.teacher(self.teacher.value)

    def figure(self):
        """The bars for the current prompt and temperature."""
        model, prompt, t = self.model(), self.prompt.value, self.temperature.value
        if not model.bos + prompt:
            raise ValueError("prompt must have at least one character for this teacher: type the start of a text")
        ids = torch.tensor([model.tokenizer.encode(model.bos + prompt, "prompt")], dtype=torch.long,
                           device=next(model.parameters()).device)
        with torch.no_grad():
            logits = model(ids)[0, -1].float().cpu()
        logits[0] = float("-inf")  # padding is never a next token
        self.probs = torch.softmax(logits / t, -1)
        return plots.next_token_bars(self.probs, model.tokenizer.chars,
                                     title=f"After {plots.text(repr(prompt[-24:]))} at T = {t:.2f}")

    def update(self):
        refresh(self.bars, self.figure())
        self.message.clear()

    def switch(self, name):
        self.prompt.value = default_prompt(name)  # triggers update
        self.answer.value = ""

    def api(self):
        name = self.teacher.value
        if name not in self.apis:
            self.apis[name] = wb.llm.TextAPI(self.model(), max_new_tokens=NEW_TOKENS.get(name, 16),
                                             stop=STOPS.get(name), seed=self.seed)
        return self.apis[name]

    def sample(self):
        api = self.api()
        api.temperature = self.temperature.value
        text = api(self.prompt.value)
        self.answer.value = (f'<div style="font-family:monospace;white-space:pre-wrap;border:1px solid #ddd;'
                             f'padding:6px"><span style="color:#888">{html.escape(self.prompt.value)}</span>'
                             f'<b>{html.escape(text)}</b></div><div>queries spent: {api.queries} · '
                             f'teacher tokens: {api.tokens}. No probabilities come back, only this one '
                             f'sample: to learn how likely each answer is, a black-box student must ask again '
                             f'and again.</div>')
        self.message.clear()
        return text
