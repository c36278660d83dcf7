"""Chapter 2's self-checks: they accept right answers and reject typical mistakes with a hint."""

import functools

import numpy as np
import pytest
import torch

from alexnet_lib import AlexNet, layer_summary
from alexnet_lib.book.exercises import check_alexnet_params, check_conv_flops, check_memory_mb


def assert_rejected(capsys, result, *hints, lang="en"):
    out = capsys.readouterr().out
    assert result is False, out
    if lang == "en":
        assert "Not yet" in out and "Hint: " in out, out
    else:
        assert "还不对" in out and "提示：" in out, out
    for hint in hints:
        assert hint in out, (hint, out)


# --- check_alexnet_params -----------------------------------------------------------------

NAMES = ["conv.0", "conv.3", "conv.6", "conv.8", "conv.10", "fc.0", "fc.3", "fc.6"]


@pytest.fixture(scope="module")
def counts():
    summary = layer_summary(AlexNet(), (1, 224, 224))
    by_name = {layer.name: layer.params for layer in summary.layers if layer.params}
    assert list(by_name) == NAMES
    return [by_name[name] for name in NAMES]


def test_param_counts_by_hand(counts):
    assert counts == [
        96 * 1 * 11 * 11 + 96,
        256 * 96 * 5 * 5 + 256,
        384 * 256 * 3 * 3 + 384,
        384 * 384 * 3 * 3 + 384,
        256 * 384 * 3 * 3 + 256,
        256 * 5 * 5 * 4096 + 4096,
        4096 * 4096 + 4096,
        4096 * 10 + 10,
    ]
    assert sum(counts) == 46_764_746


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_param_check_accepts_the_counts(capsys, counts, lang):
    assert check_alexnet_params(counts, lang=lang) is True
    out = capsys.readouterr().out
    assert "46,764,746" in out and "26,218,496" in out


@pytest.mark.parametrize(
    "convert",
    [tuple, np.array, torch.tensor, lambda c: dict(zip(NAMES, c, strict=True)),
     lambda c: [float(x) for x in c]],
)  # fmt: skip
def test_param_check_accepts_other_containers(counts, convert):
    assert check_alexnet_params(convert(counts)) is True


def replace(counts, name, value):
    changed = list(counts)
    changed[NAMES.index(name)] = value
    return changed


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("conv.3", 256 * 96 * 5 * 5, "weights only"),
        ("fc.3", 4096 * 4096, "weights only"),
        ("conv.0", 96 * 3 * 11 * 11 + 96, "1 input channel"),
        ("conv.6", 384 * 256 * 3 + 384, "k * k"),
        ("conv.8", 384 * 3 * 3 + 384, "input channels (384)"),
        ("fc.0", 256 * 6 * 6 * 4096 + 4096, "5x5, not 6x6"),
        ("fc.6", 4096 * 1000 + 1000, "10 outputs"),
        ("conv.10", 1, "weights of conv.10 for every input-output pair"),
        ("fc.6", 1, "weights of fc.6"),
    ],
)
def test_param_check_names_the_wrong_layer_with_a_hint(capsys, counts, name, value, hint):
    result = check_alexnet_params(replace(counts, name, value))
    assert_rejected(capsys, result, name, hint)


def test_param_check_reports_the_first_wrong_layer(capsys, counts):
    wrong = replace(replace(counts, "fc.6", 0), "conv.3", 0)
    assert_rejected(capsys, check_alexnet_params(wrong), "Your count for conv.3, 0,")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (46_764_746, "the total"),
        (12, "list of 8 whole numbers"),
        ("11712, 614656", "list of 8 whole numbers"),
        ([11_712, 614_656], "list of 8 whole numbers"),
        ([0.5] * 8, "list of 8 whole numbers"),
        (None, "conv.0, conv.3, conv.6"),
    ],
)
def test_param_check_rejects_malformed_answers(capsys, answer, hint):
    assert_rejected(capsys, check_alexnet_params(answer), hint)


def test_param_check_hint_in_chinese(capsys, counts):
    result = check_alexnet_params(replace(counts, "fc.0", 256 * 6 * 6 * 4096 + 4096), lang="zh")
    assert_rejected(capsys, result, "fc.0", "6x6", lang="zh")


# --- check_conv_flops ---------------------------------------------------------------------

CONVS = ["conv.0", "conv.3", "conv.6", "conv.8", "conv.10"]
# (c_in, c_out, k, input side, output side) of each convolution for a 224x224 image
CONV_SIZES = [(1, 96, 11, 224, 54), (96, 256, 5, 26, 26), (256, 384, 3, 12, 12),
              (384, 384, 3, 12, 12), (384, 256, 3, 12, 12)]  # fmt: skip


def conv_flops(c_in, c_out, k, n_in, n_out):
    return 2 * c_out * n_out * n_out * c_in * k * k


@pytest.fixture(scope="module")
def flops():
    summary = layer_summary(AlexNet(), (1, 224, 224))
    by_name = {layer.name: layer.flops for layer in summary.layers if layer.kind == "Conv2d"}
    assert list(by_name) == CONVS
    return [by_name[name] for name in CONVS]


def test_conv_flops_by_hand(flops):
    assert flops == [conv_flops(*size) for size in CONV_SIZES]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_flops_check_accepts_the_counts(capsys, flops, lang):
    assert check_conv_flops(flops, lang=lang) is True
    out = capsys.readouterr().out
    assert f"{sum(flops):,}" in out and "830,668,800" in out and "95.4%" in out


def test_flops_check_accepts_a_dict_and_floats(flops):
    assert check_conv_flops(dict(zip(CONVS, flops, strict=True))) is True
    assert check_conv_flops([float(f) for f in flops]) is True


def replace_flops(flops, name, value):
    changed = list(flops)
    changed[CONVS.index(name)] = value
    return changed


@pytest.mark.parametrize(
    ("name", "mistake", "hint"),
    [
        ("conv.0", lambda c_in, c_out, k, n_in, n_out: c_out * n_out**2 * c_in * k * k,
         "multiply-adds"),
        ("conv.3", lambda c_in, c_out, k, n_in, n_out: 2 * c_out * n_out**2 * c_in * k * k
         + c_out * n_out**2, "biases"),
        ("conv.0", lambda c_in, c_out, k, n_in, n_out: 2 * c_out * n_in**2 * c_in * k * k,
         "input side (224)"),
        ("conv.6", lambda c_in, c_out, k, n_in, n_out: 2 * c_out * c_in * k * k,
         "one output value"),
        ("conv.8", lambda c_in, c_out, k, n_in, n_out: 2 * c_out * n_out**2 * c_in * k,
         "k * k"),
        ("conv.10", lambda c_in, c_out, k, n_in, n_out: 2 * c_out * n_out**2 * k * k,
         "input channels (384)"),
        ("conv.3", lambda c_in, c_out, k, n_in, n_out: 1,
         "Count the output values of conv.3"),
    ],
)  # fmt: skip
def test_flops_check_names_the_wrong_layer_with_a_hint(capsys, flops, name, mistake, hint):
    wrong = mistake(*CONV_SIZES[CONVS.index(name)])
    result = check_conv_flops(replace_flops(flops, name, wrong))
    assert_rejected(capsys, result, name, hint)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (sum(conv_flops(*size) for size in CONV_SIZES), "the total"),
        ([1, 2, 3], "list of 5 whole numbers"),
        ("830668800", "conv.0, conv.3, conv.6, conv.8, conv.10"),
        ([float("nan")] * 5, "list of 5 whole numbers"),
    ],
)
def test_flops_check_rejects_malformed_answers(capsys, answer, hint):
    assert_rejected(capsys, check_conv_flops(answer), hint)


def test_flops_hint_in_chinese(capsys, flops):
    wrong = replace_flops(flops, "conv.0", flops[0] // 2)
    assert_rejected(capsys, check_conv_flops(wrong, lang="zh"), "conv.0", "乘加", lang="zh")


# --- check_memory_mb ----------------------------------------------------------------------


@functools.cache
def params_of(image_size=224):
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        return sum(p.numel() for p in AlexNet(image_size=image_size).parameters())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_memory_check_accepts_megabytes_and_mebibytes(capsys, lang):
    exact = params_of() * 4 * 4 / 1e6
    assert 740 < exact < 760
    assert check_memory_mb(exact, lang=lang) is True
    assert check_memory_mb(round(exact), lang=lang) is True
    assert check_memory_mb(params_of() * 16 / 2**20, lang=lang) is True
    out = capsys.readouterr().out
    assert "46,764,746" in out and "MiB" in out


@pytest.mark.parametrize(("optimizer", "copies"), [("sgd", 2), ("momentum", 3), ("adam", 4)])
def test_memory_check_counts_the_optimizer_state(optimizer, copies):
    params = params_of(96)
    assert check_memory_mb(params * 4 * copies / 1e6, image_size=96, optimizer=optimizer)
    other = 3 if copies == 4 else 4
    assert not check_memory_mb(params * 4 * other / 1e6, image_size=96, optimizer=optimizer)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (params_of() * 4 * 2 / 1e6, "2 numbers per parameter"),  # weights + gradients
        (params_of() * 4 * 3 / 1e6, 'optimizer="adam" keeps 4'),
        (params_of() * 4 / 1e6, "weights alone"),
        (params_of() * 4 * 32 / 1e6, "32 bits"),
        (params_of() * 16 / 1e9, "gigabytes"),
        (params_of() * 16, "bytes"),
        (1000, "Count the parameters"),
        ("748 MB", "one number"),
        (float("inf"), "one number"),
        (0.0, "placeholder"),  # the exercise's starting point
    ],
)
def test_memory_check_rejects_mistakes_with_a_hint(capsys, answer, hint):
    assert_rejected(capsys, check_memory_mb(answer), hint)


def test_memory_check_spots_the_default_image_size(capsys):
    wrong = params_of(224) * 4 * 3 / 1e6
    result = check_memory_mb(wrong, image_size=96, optimizer="momentum")
    assert_rejected(capsys, result, "AlexNet(image_size=96)", "fc.0")


def test_memory_check_spots_counts_instead_of_bytes(capsys):
    result = check_memory_mb(params_of(96) * 3 / 1e6, image_size=96, optimizer="momentum")
    assert_rejected(capsys, result, "4 bytes")


def test_memory_check_hint_in_chinese(capsys):
    result = check_memory_mb(params_of() * 8 / 1e6, lang="zh")
    assert_rejected(capsys, result, "每个参数 2 个数", lang="zh")


def test_memory_check_refuses_unknown_optimizers_and_languages():
    with pytest.raises(ValueError, match="optimizer"):
        check_memory_mb(748, optimizer="rmsprop")
    with pytest.raises(ValueError, match="lang"):
        check_memory_mb(748, lang="fr")
