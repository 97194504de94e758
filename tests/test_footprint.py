"""wb.footprint: parameters, sizes on disk and latency, measured, and bad input named.

Latency is tested on a fake clock (each scripted pass says how long it took), so that what
is checked is what latency computes (the median of the timed passes after the warm-up, of
the batch asked for, on the device asked for) and never how busy this machine is. Whether
a small student really runs faster than its teacher here is a measurement, not a test:
bench/bench_payoff.py prints it ("teacher / student latency", batch 1 and 1024)."""
import types

import pytest
import torch

import workbench as wb


def mlp(digits, hidden):
    wb.seed_everything(0)
    return wb.models.build("mlp", digits.input_shape, digits.num_classes, hidden=hidden)


def test_parameters_counts_weights_and_biases(digits):
    assert wb.footprint.parameters(mlp(digits, (32,))) == 64 * 32 + 32 + 32 * 10 + 10
    assert wb.footprint.parameters(mlp(digits, (16, 8))) == 64 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10


def test_sizes_on_disk_are_four_bytes_a_weight_in_float32_and_near_one_in_int8(digits):
    model = mlp(digits, (512,))
    n = wb.footprint.parameters(model)  # 38,410: large enough that the graph's own bytes are small
    size = wb.footprint.size_on_disk(model, digits.input_shape)
    assert 4 * n <= size["float32"] <= 4 * n + 16_000
    assert n <= size["int8"] <= 0.4 * size["float32"]


class FakeClock:
    """time.perf_counter for wb.footprint: it moves only when a scripted pass says it took time."""
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(wb.footprint, "time", types.SimpleNamespace(perf_counter=c))
    return c


WARM_UP = [1.0, 1.0, 1.0]  # the first passes are slow (allocation, caches): latency's default 3 are not timed
TIMED = [0.004, 0.002, 0.009, 0.003, 0.5]  # one stall; median 0.004 (mean 0.104, min 0.002, all 8: 0.254)


def scripted(digits, clock, seconds_of, on_the_device=False):
    """An mlp(16) whose k-th forward pass of a batch of n examples takes seconds_of(n, k)
    on `clock` (k counts passes of that size from 0), and a log of (n, training?, autograd
    on?, device) of every pass. The time shows at once or, `on_the_device`, only when
    torch.cuda.synchronize is called (a CUDA launch returns before the work is done; the
    caller patches synchronize to call `settle`)."""
    log, pending = [], []

    def tick(x, training):
        k = sum(n == len(x) for n, *_ in log)
        log.append((len(x), training, torch.is_grad_enabled(), x.device.type))
        pending.append(seconds_of(len(x), k))
        if not on_the_device:
            settle()

    def settle():
        clock.now += sum(pending)
        pending.clear()

    class Scripted(torch.nn.Module):  # copy.deepcopy copies the net, not `tick`: the log is shared
        def __init__(self):
            super().__init__()
            self.net = mlp(digits, (16,))

        def forward(self, x):
            tick(x, self.training)
            return self.net(x)

    return Scripted(), log, settle


def test_latency_is_the_median_of_the_passes_after_the_warm_up(digits, clock):
    """Not the mean (one stall would lead it), not the warm-up, not a pass of another size
    (the shape check's), in eval mode without autograd, and the model left as it was."""
    script = WARM_UP + TIMED
    model, log, _ = scripted(digits, clock, lambda n, k: script[k] if n == 7 else 100.0)
    model.train()
    assert wb.footprint.latency(model, digits.input_shape, 7, repeats=5) == pytest.approx(0.004)
    assert [entry for entry in log if entry[0] == 7] == [(7, False, False, "cpu")] * 8, log
    assert model.training and next(model.parameters()).device.type == "cpu"


def test_latency_of_an_onnx_file_is_the_median_of_onnx_runtimes_passes(digits, clock, tmp_path, monkeypatch):
    info = wb.export.onnx(mlp(digits, (32,)), tmp_path / "s.onnx", digits, int8=False)
    script, fed = WARM_UP + TIMED, []
    real_session = wb.export.session

    class Session:  # ONNX Runtime's session, each run taking its scripted time on the clock
        def __init__(self, path, threads=None):
            self.sess = real_session(path, threads)
            self.get_inputs = self.sess.get_inputs

        def run(self, outputs, feeds):
            fed.append({name: array.shape for name, array in feeds.items()})
            clock.now += script[len(fed) - 1]
            return self.sess.run(outputs, feeds)

    monkeypatch.setattr(wb.export, "session", Session)
    assert wb.footprint.latency(info["path"], digits.input_shape, 8, repeats=5) == pytest.approx(0.004)
    name = real_session(info["path"]).get_inputs()[0].name
    assert fed == [{name: (8, *digits.input_shape)}] * 8


def test_measure_reports_every_figure_on_each_device(digits, clock):
    """Each batch size's latency is that size's: here a pass costs 1 ms an example."""
    model, _, _ = scripted(digits, clock, lambda n, k: 1e-3 * n)
    fp = wb.footprint.measure(model, digits.input_shape, batch_sizes=(1, 64), sizes=False)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    assert set(fp) == {"parameters", "latency_s"} and list(fp["latency_s"]) == devices
    assert fp["parameters"] == 64 * 16 + 16 + 16 * 10 + 10
    assert fp["latency_s"] == {d: {1: pytest.approx(1e-3), 64: pytest.approx(64e-3)} for d in devices}
    size = wb.footprint.measure(mlp(digits, (16,)), digits.input_shape, batch_sizes=(1,), devices=["cpu"])["bytes"]
    assert set(size) == {"float32", "int8"} and size["float32"] >= 4 * fp["parameters"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU (CUDA); the CPU's latency is tested above")
def test_latency_on_the_gpu_waits_for_the_device_and_leaves_the_model_where_it_was(digits, clock, monkeypatch):
    """A CUDA launch returns at once: a pass's time shows on the clock only once the device
    is synchronized, which latency must do before each reading."""
    script = WARM_UP + TIMED
    model, log, settle = scripted(digits, clock, lambda n, k: script[k] if n == 1024 else 100.0, on_the_device=True)
    real_sync = torch.cuda.synchronize
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: (real_sync(*a), settle())[0])
    assert wb.footprint.latency(model, digits.input_shape, 1024, device="cuda", repeats=5) == pytest.approx(0.004)
    assert [entry for entry in log if entry[0] == 1024] == [(1024, False, False, "cuda")] * 8
    assert next(model.parameters()).device.type == "cpu"


def test_bad_input_is_named(digits, tmp_path):
    model = mlp(digits, (16,))
    cases = [
        (lambda: wb.footprint.latency(model, (3, 32, 32)), r"input_shape \(3, 32, 32\) does not fit the model"),
        (lambda: wb.footprint.latency(model, 64), "input_shape must be the shape of one example"),
        (lambda: wb.footprint.latency(model, (1, 8, 8), batch_size=0), "batch_size must be an integer >= 1"),
        (lambda: wb.footprint.latency(model, (1, 8, 8), repeats=0), "repeats must be an integer >= 1"),
        (lambda: wb.footprint.latency(model, (1, 8, 8), device="tpu"), "device must be one of"),
        (lambda: wb.footprint.latency(tmp_path / "none.onnx", (1, 8, 8)), "no such file"),
        (lambda: wb.footprint.parameters([1, 2]), "model must be a torch.nn.Module"),
        (lambda: wb.footprint.size_on_disk(model, (1, 4, 4)), r"input_shape \(1, 4, 4\) does not fit"),
        (lambda: wb.footprint.measure(model, (2, 8, 8)), r"input_shape \(2, 8, 8\) does not fit"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
