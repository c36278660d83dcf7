import math

import pytest
import torch
from torch import nn

from alexnet_lib import (
    ALEXNET_MIN_IMAGE_SIZE,
    AlexNet,
    LeNet,
    alexnet_feature_size,
    load_fashion_mnist,
    set_seed,
    train_step,
)

SOURCE_NOTEBOOK_PRINT = """AlexNet(
  (conv): Sequential(
    (0): Conv2d(1, 96, kernel_size=(11, 11), stride=(4, 4))
    (1): ReLU()
    (2): MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)
    (3): Conv2d(96, 256, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    (4): ReLU()
    (5): MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)
    (6): Conv2d(256, 384, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (7): ReLU()
    (8): Conv2d(384, 384, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (9): ReLU()
    (10): Conv2d(384, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (11): ReLU()
    (12): MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)
  )
  (fc): Sequential(
    (0): Linear(in_features=6400, out_features=4096, bias=True)
    (1): ReLU()
    (2): Dropout(p=0.5, inplace=False)
    (3): Linear(in_features=4096, out_features=4096, bias=True)
    (4): ReLU()
    (5): Dropout(p=0.5, inplace=False)
    (6): Linear(in_features=4096, out_features=10, bias=True)
  )
)"""


def count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_alexnet_matches_the_source_notebook():
    net = AlexNet()
    assert count(net) == 46_764_746
    assert str(net) == SOURCE_NOTEBOOK_PRINT


def test_alexnet_output_shape_at_224_and_at_the_smallest_size():
    net = AlexNet().eval()
    assert net(torch.zeros(2, 1, 224, 224)).shape == (2, 10)
    small = AlexNet(image_size=ALEXNET_MIN_IMAGE_SIZE).eval()
    assert alexnet_feature_size(ALEXNET_MIN_IMAGE_SIZE) == 1
    assert small(torch.zeros(3, 1, 67, 67)).shape == (3, 10)
    assert small.fc[0].in_features == 256


def test_alexnet_three_channels_and_other_class_count():
    net = AlexNet(in_channels=3, num_classes=1000).eval()
    assert net(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def test_alexnet_rejects_images_below_the_smallest_size():
    assert alexnet_feature_size(ALEXNET_MIN_IMAGE_SIZE - 1) < 1
    with pytest.raises(ValueError, match="at least 67"):
        AlexNet(image_size=66)


@pytest.mark.parametrize(
    "shape",
    [(2, 3, 224, 224), (2, 1, 96, 96), (1, 224, 224), (2, 1, 224, 200)],
)
def test_alexnet_wrong_input_shape_is_a_value_error_naming_both_shapes(shape):
    net = AlexNet()
    with pytest.raises(ValueError) as info:
        net(torch.zeros(shape))
    message = str(info.value)
    assert "[batch, 1, 224, 224]" in message
    assert str(list(shape)) in message


def test_alexnet_init_ran():
    torch.manual_seed(0)
    net = AlexNet()
    *hidden, output = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for layer in hidden:
        assert torch.count_nonzero(layer.bias) == 0  # PyTorch's default init has non-zero biases
        fan_in = layer.weight[0].numel()
        expected_std = (2.0 / fan_in) ** 0.5  # Kaiming normal for ReLU
        assert layer.weight.std().item() == pytest.approx(expected_std, rel=0.1)
    assert torch.count_nonzero(output.weight) == 0 and torch.count_nonzero(output.bias) == 0


def test_a_fresh_alexnet_starts_at_the_loss_of_a_uniform_guess():
    torch.manual_seed(0)
    net = AlexNet(image_size=67)
    X, y = torch.rand(16, 1, 67, 67), torch.randint(0, 10, (16,))
    loss = torch.nn.functional.cross_entropy(net(X), y)
    assert loss.item() == pytest.approx(math.log(10), abs=1e-4)


FIRST_BATCHES_LOSS_BOUND = 4.0
"""A uniform guess scores ln 10 = 2.30; the Kaiming-scale output layer reached 30-50."""


def test_the_first_ten_batches_at_224_px_stay_calm(real_data_root):
    set_seed(0)
    train_iter, _ = load_fashion_mnist(32, resize=224, root=real_data_root, limit=320,
                                       device="cpu")
    net = AlexNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    losses = [train_step(net, X, y, optimizer)[1].item() for X, y in train_iter]
    assert len(losses) == 10
    assert max(losses) < FIRST_BATCHES_LOSS_BOUND, losses


def test_lrn_and_pooling_options_follow_the_paper():
    net = AlexNet(lrn=True)
    norms = [i for i, m in enumerate(net.conv) if isinstance(m, nn.LocalResponseNorm)]
    relus = [i for i, m in enumerate(net.conv) if isinstance(m, nn.ReLU)]
    assert norms == [relus[0] + 1, relus[1] + 1]  # right after the first two ReLUs
    lrn = net.conv[norms[0]]
    assert (lrn.size, lrn.beta, lrn.k) == (5, 0.75, 2.0)
    # PyTorch divides alpha by n: the paper's alpha = 1e-4 on the plain sum of squares.
    x = torch.rand(1, 96, 3, 3)
    window = torch.stack([(x[:, max(0, c - 2): c + 3] ** 2).sum(dim=1) for c in range(96)], 1)
    paper = x / (2 + 1e-4 * window) ** 0.75
    assert torch.allclose(lrn(x), paper, atol=1e-6)
    assert net(torch.zeros(2, 1, 224, 224)).shape == (2, 10)
    plain = AlexNet(pooling="non-overlapping")
    pools = [m for m in plain.conv if isinstance(m, nn.MaxPool2d)]
    assert {(p.kernel_size, p.stride) for p in pools} == {(2, 2)}
    assert alexnet_feature_size(224, "non-overlapping") == 6 and plain.fc[0].in_features == 9216
    assert plain.eval()(torch.zeros(1, 1, 224, 224)).shape == (1, 10)
    assert AlexNet(image_size=67, pooling="non-overlapping")(torch.zeros(1, 1, 67, 67)).shape == (
        1, 10)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_alexnet_other_activations(activation):
    net = AlexNet(image_size=67, activation=activation)
    kinds = {type(m) for m in net.modules()}
    assert nn.ReLU not in kinds and {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[activation] in kinds
    assert net.eval()(torch.zeros(1, 1, 67, 67)).shape == (1, 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_size": "224"}, "whole number such as 224"),
        ({"image_size": 224.0}, "whole number such as 224"),
        ({"activation": "gelu"}, "activation must be one of"),
        ({"pooling": "average"}, "pooling must be one of"),
        ({"dropout": 1.0}, "dropout must be"),
    ],
)
def test_alexnet_bad_arguments_say_what_to_pass(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AlexNet(**kwargs)


def test_lenet_shapes_parameters_and_activations():
    for activation, act_type in (("sigmoid", nn.Sigmoid), ("relu", nn.ReLU)):
        net = LeNet(activation).eval()
        assert net(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
        assert count(net) == 61_706
        assert sum(isinstance(m, act_type) for m in net.modules()) == 4
        assert [m.out_channels for m in net.conv if isinstance(m, nn.Conv2d)] == [6, 16]
        assert [m.out_features for m in net.fc if isinstance(m, nn.Linear)] == [120, 84, 10]
    with pytest.raises(ValueError, match="activation"):
        LeNet("tanh")
    with pytest.raises(ValueError, match=r"\[batch, 1, 28, 28\]"):
        LeNet()(torch.zeros(1, 1, 224, 224))


def test_batch_norm_follows_every_convolution_and_replaces_lrn():
    net = AlexNet(image_size=67, batch_norm=True)
    layers = list(net.conv)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    assert len(convs) == 5
    for i in convs:  # convolution, then batch norm over its channels, then the activation
        norm = layers[i + 1]
        assert isinstance(norm, nn.BatchNorm2d) and norm.num_features == layers[i].out_channels
        assert isinstance(layers[i + 2], nn.ReLU)
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in layers)
    net.train()
    out = net(torch.rand(4, 1, 67, 67))
    assert out.shape == (4, 10) and net.conv[1].num_batches_tracked == 1  # statistics kept
    plain = AlexNet(image_size=67)
    assert sum(p.numel() for p in net.parameters()) == sum(
        p.numel() for p in plain.parameters()) + 2 * (96 + 256 + 384 + 384 + 256)
    with pytest.raises(ValueError, match="batch norm is what replaced local response"):
        AlexNet(lrn=True, batch_norm=True)
