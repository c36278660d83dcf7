"""The architecture diagram: its stages, labels and shapes are read from the model."""

import math

import matplotlib
import pytest
import torch
from torch import nn

from alexnet_lib import AlexNet, LeNet, layer_summary, plot_architecture
from alexnet_lib.book.plots import architecture_stages
from alexnet_lib.errors import UsageError

matplotlib.use("Agg")


def test_alexnet_stages_follow_the_layers():
    net = AlexNet()
    stages = architecture_stages(net)
    assert [s.kind for s in stages] == ["input", "conv", "pool", "conv", "pool", "conv", "conv",
                                        "conv", "pool", "flatten", "fc", "fc", "fc"]
    summary = {layer.name: layer.output_shape for layer in layer_summary(net, (1, 224, 224)).layers}
    for stage in stages[1:]:
        if stage.names:
            assert stage.shape == summary[stage.names[-1]]
    assert stages[0].shape == (1, 224, 224)
    flatten = stages[9]
    assert flatten.shape == (math.prod(stages[8].shape),) == (net.fc[0].in_features,)
    assert stages[1].names == ("conv.0", "conv.1")
    assert stages[1].label == "conv 11×11, stride 4 + ReLU"
    assert stages[3].label == "conv 5×5, padding 2 + ReLU"
    assert stages[2].label == "max-pool 3×3, stride 2"
    assert stages[10].label == "fully connected + ReLU + dropout p=0.5"
    assert stages[-1].label == "fully connected" and stages[-1].shape == (10,)


def test_labels_change_with_the_model():
    stages = architecture_stages(AlexNet(pooling="non-overlapping", dropout=0.3, image_size=96,
                                         lrn=True))
    assert stages[0].shape == (1, 96, 96)
    assert stages[1].label == "conv 11×11, stride 4 + ReLU + LocalResponseNorm"
    assert stages[2].label == "max-pool 2×2, stride 2"
    assert "dropout p=0.3" in stages[-3].label


def test_labels_speak_chinese():
    stages = architecture_stages(AlexNet(), lang="zh")
    assert stages[0].label == "输入"
    assert stages[1].label == "卷积 11×11，步幅 4 + ReLU"
    assert stages[2].label == "最大池化 3×3，步幅 2"
    assert stages[9].label == "展平"
    assert stages[10].label == "全连接 + ReLU + 丢弃法 p=0.5"
    with pytest.raises(UsageError, match="lang"):
        architecture_stages(AlexNet(), lang="fr")


def test_a_sequential_with_its_own_flatten_and_average_pooling():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 3 * 3, 2))
    stages = architecture_stages(net, (1, 8, 8))
    assert [s.kind for s in stages] == ["input", "conv", "pool", "flatten", "fc"]
    assert stages[2].label == "average pool 2×2, stride 2"
    assert stages[3].names == ("3",) and stages[3].shape == (36,)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("make", [AlexNet, LeNet])
def test_the_diagram_shows_every_stage(make, lang):
    net = make()
    ax = plot_architecture(net, lang=lang)
    texts = [t.get_text() for t in ax.texts]
    for stage in architecture_stages(net, lang=lang):
        assert stage.label in texts
        assert " × ".join(map(str, stage.shape)) in texts
    assert ax.get_title().startswith(f"{type(net).__name__}()")
    matplotlib.pyplot.close(ax.figure)


def test_the_diagram_needs_no_weights():
    with torch.device("meta"):  # shapes only: the diagram of a network without memory
        net = AlexNet(in_channels=3, num_classes=1000, image_size=227)
    stages = architecture_stages(net)
    assert stages[0].shape == (3, 227, 227) and stages[9].shape == (256 * 6 * 6,)
    assert stages[-1].shape == (1000,)
