"""The GPU tier: AlexNet trained for real on a CUDA device, in every precision (fp32, bf16,
fp16 with a grad scaler) and compile mode: the loss falls, and a run stopped after an epoch
and resumed ends bit for bit where the uninterrupted run does. Without a CUDA device every
test is skipped. `python scripts/gpu_check.py` runs this tier first; on its own:

    ALEXNET_DATA=/path/to/data python -m pytest -q -m gpu tests/test_gpu.py
"""

import math
from types import SimpleNamespace

import pytest
import torch

from alexnet_lib import (
    AlexNet,
    FashionMNISTBatches,
    load_checkpoint,
    read_fashion_mnist,
    set_seed,
    train,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

CUDA = torch.device("cuda")
PRECISIONS = ("fp32", "bf16", "fp16")
COMPILE_MODES = ("off", "default", "reduce-overhead")
SETTINGS = [(precision, mode) for precision in PRECISIONS for mode in COMPILE_MODES]
IMAGE_SIZE = 67  # the smallest AlexNet accepts
IMAGES, BATCH = 192, 16  # the first 192 training images: 12 batches an epoch
EPOCHS, STOP_AFTER = 3, 1  # 36 steps; the resumed run trains epochs 2 and 3


@pytest.fixture(scope="module")
def deterministic_kernels():
    """Kernels that give the same bits every time (cuDNN's, cuBLAS's, Inductor's), so that two
    runs can be compared exactly; the settings as they were afterwards."""
    before = (torch.backends.cudnn.deterministic, torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # what deterministic cuBLAS needs
        torch.backends.cudnn.deterministic = True
        # warn_only: an operation with no deterministic kernel warns instead of stopping the
        # run, and the exact comparisons show whether it mattered.
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            yield
        finally:
            torch.backends.cudnn.deterministic = before[0]
            torch.use_deterministic_algorithms(before[1], warn_only=before[2])


@pytest.fixture(scope="module")
def first_images(real_data_root):
    """The first IMAGES training images and their labels, on the CPU."""
    images, labels = read_fashion_mnist(real_data_root, train=True)
    return images[:IMAGES], labels[:IMAGES]


def train_alexnet(first_images, precision, compile_mode, epochs, checkpoint, seed=0,
                  resume=False):
    """Make the loader and AlexNet from `seed` (in that order), then train on the GPU."""
    set_seed(seed)
    images, labels = first_images
    train_iter = FashionMNISTBatches(images, labels, BATCH, shuffle=True, resize=IMAGE_SIZE,
                                     device=CUDA)
    net = AlexNet(image_size=IMAGE_SIZE)
    history = train(net, train_iter, None, epochs, device="cuda", precision=precision,
                    compile=compile_mode, checkpoint=checkpoint, resume=resume, progress=False)
    return net, history


@pytest.fixture(scope="module", params=SETTINGS, ids=[f"{p}-{m}" for p, m in SETTINGS])
def straight(request, deterministic_kernels, first_images, tmp_path_factory):
    """An uninterrupted run of EPOCHS epochs in one precision and compile mode."""
    precision, compile_mode = request.param
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    torch.compiler.reset()  # nothing compiled for another setting
    folder = tmp_path_factory.mktemp(f"{precision}-{compile_mode}")
    with pytest.MonkeyPatch.context() as patch:  # set up before tests/conftest.py unsets it
        patch.delenv("ALEXNET_QUICK", raising=False)
        net, history = train_alexnet(first_images, precision, compile_mode, EPOCHS,
                                     folder / "straight.pt")
    return SimpleNamespace(precision=precision, compile_mode=compile_mode, folder=folder,
                           net=net, history=history,
                           grad_scaler=load_checkpoint(folder / "straight.pt")["grad_scaler"])


def differences(a: dict, b: dict) -> dict[str, float]:
    """The tensors of two state dicts that differ, each with its largest difference."""
    assert a.keys() == b.keys()
    return {name: (a[name].double() - b[name].double()).abs().max().item()
            for name in a if not torch.equal(a[name], b[name])}


def test_the_loss_falls(straight):
    losses = straight.history.train_loss
    assert len(losses) == EPOCHS and all(map(math.isfinite, losses))
    # On a CPU the first epoch's mean was 2.35-2.53 (chance: ln 10 = 2.30), the third's 1.5-1.8.
    assert losses[-1] < 0.85 * losses[0], losses


def test_the_run_trains_on_the_gpu_in_the_precision_and_compile_mode_asked_for(straight):
    settings = straight.history.settings
    assert settings["device"].startswith("cuda")
    assert settings["precision"] == straight.precision
    assert settings["compile"] == straight.compile_mode  # compiled, not fallen back to eager


def test_fp16_scales_its_loss_and_fp32_and_bf16_need_no_scaler(straight):
    if straight.precision == "fp16":
        assert straight.grad_scaler, "fp16 trained without a grad scaler"
        assert 0 < straight.grad_scaler["scale"] < math.inf
    else:
        assert straight.grad_scaler == {}


def test_a_run_stopped_after_an_epoch_and_resumed_ends_bit_for_bit_where_it_would_have(
        straight, first_images):
    checkpoint = straight.folder / "stopped.pt"
    train_alexnet(first_images, straight.precision, straight.compile_mode, STOP_AFTER,
                  checkpoint)
    assert load_checkpoint(checkpoint)["position"]["epoch"] == STOP_AFTER
    # Another seed changes every random state: the checkpoint must restore them all.
    net, history = train_alexnet(first_images, straight.precision, straight.compile_mode,
                                 EPOCHS, checkpoint, seed=123, resume=True)
    assert len(history) == EPOCHS and not history.interrupted
    assert history.settings["compile"] == straight.compile_mode
    # Compiled runs too: Inductor's deterministic mode (on with the fixture) picks kernels
    # without timing them, and dropout draws from the CUDA random state, which is restored.
    assert differences(net.state_dict(), straight.net.state_dict()) == {}
    assert load_checkpoint(checkpoint)["grad_scaler"] == straight.grad_scaler
    assert [(e.train_loss, e.train_acc) for e in history.epochs] == [
        (e.train_loss, e.train_acc) for e in straight.history.epochs]
