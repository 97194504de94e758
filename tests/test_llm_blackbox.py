"""The black-box boundary (issue 21, defect 5): nothing reachable from a TextAPI object
by attributes, closures or the garbage collector's referents is a model or a tensor; and
a temperature too small to sample in float32 is a ValueError naming it."""
import gc
import types

import pytest
import torch

import workbench as wb
from workbench.llm import TextAPI
from workbench.llm.gpt import MIN_TEMPERATURE, generate


@pytest.fixture(scope="module")
def teacher():
    return wb.llm.teacher("facts", device="cpu")


def shared_code(obj):
    """Classes, modules, code and module namespaces are shared by every instance (the
    class TextAPI's own module imports torch): the walk looks at the instance's state."""
    if isinstance(obj, (type, types.ModuleType, types.CodeType, types.BuiltinFunctionType)):
        return True
    return isinstance(obj, dict) and "__name__" in obj and "__builtins__" in obj


def neighbours(obj):
    """What plain access reaches from obj: gc referents, a function's closure cells and
    their contents, a bound method's function and self, an object's __dict__ and slots."""
    out = list(gc.get_referents(obj))
    if isinstance(obj, types.FunctionType):
        out += [c.cell_contents for c in obj.__closure__ or () if c.cell_contents is not None]
    if isinstance(obj, types.MethodType):
        out += [obj.__func__, obj.__self__]
    if isinstance(obj, types.CellType):
        try:
            out.append(obj.cell_contents)
        except ValueError:
            pass
    out += list(getattr(obj, "__dict__", {}).values())
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            out.append(getattr(obj, name))
    if not isinstance(obj, type):
        for name in dir(obj):
            if not name.startswith("__"):
                try:
                    out.append(getattr(obj, name))
                except Exception:  # noqa: BLE001 - a refusing method or property
                    pass
    return out


def reachable(root, depth=8):
    """Every object within `depth` steps of root (shared code excluded)."""
    seen, frontier = {id(root): root}, [root]
    for _ in range(depth):
        nxt = []
        for obj in frontier:
            if isinstance(obj, (torch.nn.Module, torch.Tensor)):
                continue  # found: the test fails on it; no need to look inside
            for o in neighbours(obj):
                if id(o) not in seen and not shared_code(o):
                    seen[id(o)] = o
                    nxt.append(o)
        frontier = nxt
    return list(seen.values())


def test_no_attribute_closure_or_gc_path_leads_from_the_api_to_the_teacher(teacher):
    api = TextAPI(teacher, max_new_tokens=8, stop=".")
    api.complete(["gunu likes", "tuli lives in"])  # after a query, too: nothing left behind
    for name in dir(api):  # the closure the old TextAPI kept its teacher in, tried by name
        value = getattr(api, name, None)
        for cell in getattr(value, "__closure__", None) or ():
            assert not isinstance(cell.cell_contents, (torch.nn.Module, torch.Tensor)), name
    found = reachable(api)
    assert len(found) > 10  # the walk does reach the api's own state (queues, lock, counters)
    leaks = [type(o).__name__ for o in found if isinstance(o, (torch.nn.Module, torch.Tensor))]
    assert leaks == [], f"reachable from the TextAPI: {leaks}"
    assert not any(o is teacher for o in found)
    with pytest.raises(AttributeError):
        api.teacher
    with pytest.raises(AttributeError):
        api.model = teacher  # no attribute can be added to smuggle it in


def test_the_walk_would_find_a_teacher_kept_in_a_closure(teacher):
    """The walk's control: the old TextAPI's design (the model in a closure held by a
    slot) is caught."""
    class Leaky:
        __slots__ = ("_complete",)

        def __init__(self, model):
            def complete(prompts):
                return model
            self._complete = complete
    assert any(o is teacher for o in reachable(Leaky(teacher)))


def test_errors_in_the_worker_come_back_as_the_same_value_error(teacher):
    api = TextAPI(teacher, max_new_tokens=8, stop=".")
    with pytest.raises(ValueError, match="prompt may only use the model's .* it contains 'ü'") as info:
        api("gunu lives in zürich")
    frames = []  # the frames the error passed through, below this test's own (which holds the teacher)
    tb = info.value.__traceback__.tb_next
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    assert not any(isinstance(v, torch.nn.Module) for f in frames for v in f.f_locals.values())
    assert api.queries == 0 and isinstance(api("gunu likes"), str) and api.queries == 1


def test_the_same_seed_gives_the_same_answers_through_the_worker(teacher):
    prompts = ["gunu likes", "tuli lives in", "bupi likes"] * 4
    a = TextAPI(teacher, max_new_tokens=8, stop=".", seed=3).complete(prompts)
    b = TextAPI(teacher, max_new_tokens=8, stop=".", seed=3).complete(prompts)
    ids = teacher.tokenizer.batch([teacher.bos + p for p in prompts])[0]
    direct = generate(teacher, ids, 8, 1.0, None, teacher.tokenizer.stoi["."], torch.Generator().manual_seed(3))
    assert a == b == [teacher.tokenizer.decode(r[len(teacher.bos) + len(p):]) for r, p in zip(direct, prompts)]


@pytest.mark.parametrize("value", [1e-300, 1e-39, -1.0, float("nan"), float("inf"), True, "1"])
def test_a_temperature_sampling_cannot_use_is_a_value_error_naming_the_range(teacher, value):
    message = (f"temperature must be 0 \\(greedy\\) or a finite number from {MIN_TEMPERATURE:.3g} .* up, "
               f"got {value!r}")
    with pytest.raises(ValueError, match=message):
        TextAPI(teacher, temperature=value)
    api = TextAPI(teacher)
    with pytest.raises(ValueError, match=message):
        api.temperature = value
    with pytest.raises(ValueError, match=message):
        generate(teacher, torch.ones(1, 3, dtype=torch.long), 4, temperature=value)


def test_the_smallest_allowed_temperature_samples_finitely_and_is_greedy(teacher):
    """MIN_TEMPERATURE is float32's smallest normal number: logits are shifted to a
    maximum of 0 before dividing, so sampling there is finite and picks the argmax."""
    assert MIN_TEMPERATURE == pytest.approx(1.1755e-38, rel=1e-4)
    prompts = ["gunu likes", "tuli lives in", "bupi likes", "gunu lives in"]
    greedy = TextAPI(teacher, temperature=0, max_new_tokens=8, stop=".").complete(prompts)
    assert TextAPI(teacher, temperature=MIN_TEMPERATURE, max_new_tokens=8, stop=".").complete(prompts) == greedy
    assert TextAPI(teacher, temperature=1e-30, max_new_tokens=8, stop=".").complete(prompts) == greedy
