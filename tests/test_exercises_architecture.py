"""Chapter 2's self-checks: they accept right answers and reject typical mistakes with a hint."""

import functools
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from alexnet_lib import AlexNet, layer_summary
from alexnet_lib.book.exercises import (
    architecture,
    check_alexnet_layers,
    check_alexnet_params,
    check_conv_flops,
    check_memory_mb,
)


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


# --- check_alexnet_layers -----------------------------------------------------------------


def alexnet_sequential(*, kernel=11, stride=4, padding=0, widths=(96, 256, 384, 384, 256),
                       pool=(3, 2), flat=256 * 5 * 5, hidden=4096, p=0.5, classes=10,
                       channels=1, act=nn.ReLU, pool_kind=nn.MaxPool2d, device="meta"):
    """The book's AlexNet written out as one nn.Sequential, as the exercise asks, with any of
    its settings changed; on the "meta" device unless told, so that it costs no memory."""
    c1, c2, c3, c4, c5 = widths
    with torch.device(device):
        return nn.Sequential(
            nn.Conv2d(channels, c1, kernel_size=kernel, stride=stride, padding=padding), act(),
            pool_kind(*pool),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2), act(), pool_kind(*pool),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1), act(),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1), act(),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1), act(), pool_kind(*pool),
            nn.Flatten(),
            nn.Linear(flat, hidden), act(), nn.Dropout(p),
            nn.Linear(hidden, hidden), act(), nn.Dropout(p),
            nn.Linear(hidden, classes),
        )


def edited(edit, **settings):
    """alexnet_sequential(**settings) as a list of layers changed by `edit`, in a Sequential."""
    layers = list(alexnet_sequential(**settings))
    edit(layers)
    return nn.Sequential(*layers)


def meta_alexnet(**kwargs):
    with torch.device("meta"):
        return AlexNet(**kwargs)


class ShapeChangingReLU(nn.ReLU):
    """A ReLU whose output loses a column: the kinds and settings look right, the shape isn't."""

    def forward(self, x):
        return super().forward(x)[..., :-1]


class RaisingReLU(nn.ReLU):
    def forward(self, x):
        raise RuntimeError("a broken layer")


def swap(i, j):
    def edit(layers):
        layers[i], layers[j] = layers[j], layers[i]

    return edit


def replace_layer(i, make):
    def edit(layers):
        with torch.device("meta"):
            layers[i] = make()

    return edit


def insert_layers(i, *makes):
    def edit(layers):
        with torch.device("meta"):
            layers[i:i] = [make() for make in makes]

    return edit


def delete_layers(i, j=None):
    def edit(layers):
        del layers[i:(j or i + 1)]

    return edit


# Right answers: the book's network however it is written down.
NETWORKS_RIGHT = {
    "the Sequential": lambda: alexnet_sequential(),
    "the library's AlexNet": lambda: meta_alexnet(),
    "in-place ReLUs": lambda: alexnet_sequential(act=lambda: nn.ReLU(inplace=True)),
    "padding='same'": lambda: edited(replace_layer(3, lambda: nn.Conv2d(96, 256, 5,
                                                                        padding="same"))),
    "nested Sequentials": lambda: nn.Sequential(nn.Sequential(*alexnet_sequential()[:13]),
                                                nn.Flatten(),
                                                nn.Sequential(*alexnet_sequential()[14:])),
    "in double precision": lambda: alexnet_sequential().double(),
    "in eval mode": lambda: alexnet_sequential().eval(),
}

# Mistakes: (the learner's network, the hint key, the layer the verdict names or None).
NETWORK_MISTAKES = {
    "empty Sequential": (lambda: nn.Sequential(), "net_start", None),
    "None": (lambda: None, "net_not_module", None),
    "a tensor": (lambda: torch.zeros(1, 10), "net_not_module", None),
    "a list of layers": (lambda: list(alexnet_sequential()), "net_list", None),
    "the class": (lambda: nn.Sequential, "net_class", None),
    "local response norm": (lambda: edited(insert_layers(2, lambda: nn.LocalResponseNorm(5))),
                            "net_unknown", "net[2]"),
    "batch norm (library)": (lambda: meta_alexnet(batch_norm=True), "net_unknown",
                             "net.conv[1]"),
    "six convolutions": (lambda: edited(insert_layers(8, lambda: nn.Conv2d(384, 384, 3, padding=1),
                                                      nn.ReLU)), "layers_too_many", None),
    "four convolutions": (lambda: edited(delete_layers(8, 10)), "layers_too_few", None),
    "two fully connected layers": (lambda: edited(delete_layers(17, 20)), "layers_too_few", None),
    "no ReLU after conv 3": (lambda: edited(delete_layers(7)), "missing_relu", "net[6]"),
    "no ReLU after fc 1": (lambda: edited(delete_layers(15)), "missing_relu", "net[14]"),
    "no pooling after conv 2": (lambda: edited(delete_layers(5)), "missing_pool", "net[4]"),
    "no dropout": (lambda: edited(delete_layers(16)), "missing_dropout", "net[15]"),
    "no flatten": (lambda: edited(delete_layers(13)), "missing_flatten", "net[12]"),
    "dropout among the convolutions": (lambda: edited(insert_layers(3, nn.Dropout)),
                                       "extra_layer", "net[3]"),
    "softmax at the end": (lambda: edited(insert_layers(21, lambda: nn.Softmax(dim=1))),
                           "extra_after_last", "net[21]"),
    "ReLU at the end": (lambda: edited(insert_layers(21, nn.ReLU)), "extra_after_last",
                        "net[21]"),
    "pooling before the ReLU": (lambda: edited(swap(1, 2)), "net_order", "net[1]"),
    "dropout before the ReLU": (lambda: edited(swap(15, 16)), "net_order", "net[15]"),
    "sigmoid": (lambda: alexnet_sequential(act=nn.Sigmoid), "wrong_activation", "net[1]"),
    "average pooling": (lambda: alexnet_sequential(pool_kind=nn.AvgPool2d), "wrong_pooling",
                        "net[2]"),
    "Dropout2d": (lambda: edited(replace_layer(16, nn.Dropout2d)), "layer_kind", "net[16]"),
    "3 input channels": (lambda: alexnet_sequential(channels=3), "input_channels", "net[0]"),
    "conv 2 reads other channels": (lambda: edited(replace_layer(3, lambda: nn.Conv2d(
        64, 256, 5, padding=2))), "in_channels_chain", "net[3]"),
    "torchvision's widths": (lambda: alexnet_sequential(widths=(64, 192, 384, 256, 256)),
                             "conv_width", "net[0]"),
    "a 5 x 5 first window": (lambda: alexnet_sequential(kernel=5), "conv_kernel", "net[0]"),
    "stride 1": (lambda: alexnet_sequential(stride=1), "conv_stride", "net[0]"),
    "stride 2": (lambda: alexnet_sequential(stride=2), "conv_stride", "net[0]"),
    "torchvision's padding": (lambda: alexnet_sequential(padding=2), "conv_padding", "net[0]"),
    "conv 2 unpadded": (lambda: edited(replace_layer(3, lambda: nn.Conv2d(96, 256, 5))),
                        "conv_padding", "net[3]"),
    "grouped conv 2": (lambda: edited(replace_layer(3, lambda: nn.Conv2d(
        96, 256, 5, padding=2, groups=2))), "layer_other", "net[3]"),
    "a Linear without bias": (lambda: edited(replace_layer(17, lambda: nn.Linear(
        4096, 4096, bias=False))), "layer_other", "net[17]"),
    "ceil_mode": (lambda: alexnet_sequential(pool=(3, 2, 0, 1, False, True)), "layer_other",
                  "net[2]"),
    "2 x 2 pooling": (lambda: alexnet_sequential(pool=(2, 2), flat=256 * 6 * 6), "pool_window",
                      "net[2]"),
    "pooling stride 3": (lambda: alexnet_sequential(pool=(3, 3)), "pool_stride", "net[2]"),
    "the paper's 6 x 6": (lambda: alexnet_sequential(flat=256 * 6 * 6), "flatten_size",
                          "net[14]"),
    "fc 2 reads other features": (lambda: edited(replace_layer(17, lambda: nn.Linear(
        2048, 4096))), "in_features_chain", "net[17]"),
    "narrower hidden layers": (lambda: alexnet_sequential(hidden=2048), "fc_width", "net[14]"),
    "ImageNet's 1000 classes": (lambda: alexnet_sequential(classes=1000), "num_classes",
                                "net[20]"),
    "dropout 0.2": (lambda: alexnet_sequential(p=0.2), "dropout_p", "net[16]"),
    "a ReLU that changes the shape": (lambda: edited(replace_layer(4, ShapeChangingReLU)),
                                      "net_forward", "net[4]"),
    "a ReLU that raises": (lambda: edited(replace_layer(4, RaisingReLU)), "net_forward",
                           "net[4]"),
}  # fmt: skip

# What a hint must never print: the book's settings, which are the answer.
NETWORK_ANSWER = ["kernel_size=11", "11 x 11", "11x11", "stride=4", "stride 4", "padding=2",
                  "padding=1", "5 x 5", "3 x 3", "6400", "6,400", "4096", "4,096", "p=0.5",
                  "Conv2d(1, 96", "out_features=10"]  # fmt: skip


def hint_parts(key, lang):
    text = architecture.MESSAGES[lang][key]
    return [part for part in re.split(r"\{[^}]*\}", text) if part.strip()]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", NETWORKS_RIGHT)
def test_network_check_accepts_the_book_network(capsys, name, lang):
    assert check_alexnet_layers(NETWORKS_RIGHT[name](), lang=lang) is True
    out = capsys.readouterr().out
    assert out.startswith("Correct!" if lang == "en" else "正确！"), out
    assert "21" in out and "1 x 10" in out, out


@pytest.mark.parametrize("make", [AlexNet, lambda: alexnet_sequential(device="cpu")],
                         ids=["AlexNet()", "the Sequential on the CPU"])
def test_network_check_runs_a_real_network(capsys, make):
    assert check_alexnet_layers(make()) is True, capsys.readouterr().out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", NETWORK_MISTAKES)
def test_network_check_names_each_mistake(capsys, name, lang):
    make, key, layer = NETWORK_MISTAKES[name]
    assert check_alexnet_layers(make(), lang=lang) is False
    out = capsys.readouterr().out
    detail, hint = out.split("\nHint: " if lang == "en" else "\n提示：", 1)
    assert detail.startswith("Not yet." if lang == "en" else "还不对。"), out
    for part in hint_parts(key, lang):
        assert part in hint, (key, part, out)
    if layer:
        assert layer in detail, (layer, out)
    for answer in NETWORK_ANSWER:
        assert answer not in out, (answer, out)


def test_the_network_mistakes_reach_every_network_hint():
    reached = {key for _, key, _ in NETWORK_MISTAKES.values()}
    start = list(architecture.MESSAGES["en"]).index("net_start")
    assert reached == set(list(architecture.MESSAGES["en"])[start:])


def test_network_check_leaves_the_network_as_it_was():
    net = alexnet_sequential(device="cpu").train()
    weights = [p.detach().clone() for p in net.parameters()]
    check_alexnet_layers(net)
    assert net.training
    assert all(torch.equal(a, p) for a, p in zip(weights, net.parameters(), strict=True))


def solution_code(lang):
    """The code of the solution of the exercise that calls check_alexnet_layers."""
    path = Path(__file__).resolve().parent.parent / "book" / lang / "02_architecture.ipynb"
    cells = [cell for cell in nbformat.read(path, as_version=4).cells]
    i = next(i for i, cell in enumerate(cells)
             if cell.cell_type == "code" and "check_alexnet_layers(" in cell.source
             and "import" not in cell.source)  # fmt: skip
    solution = cells[i + 1].source
    return re.search(r"```python\n(.*?)```", solution, re.S).group(1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_solution_passes(capsys, lang):
    namespace = {"nn": nn, "torch": torch, "LANG": lang,
                 "check_alexnet_layers": check_alexnet_layers}
    exec(solution_code(lang), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert out.startswith("Correct!" if lang == "en" else "正确！"), out
