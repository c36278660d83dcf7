"""AlexNet (as in the book's source notebook) and LeNet-5, for 1-channel Fashion-MNIST."""

from __future__ import annotations

import torch
from torch import nn

ALEXNET_MIN_IMAGE_SIZE = 67
"""The smallest square input whose feature map survives AlexNet's three max-pools."""


def _conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a convolution or pooling window: floor((n + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def alexnet_feature_size(image_size: int) -> int:
    """Side of the last feature map for a square input (5 for 224, 1 for 67)."""
    size = _conv_out(image_size, 11, 4)  # conv 11x11, stride 4
    size = _conv_out(size, 3, 2)  # max-pool 3, stride 2
    size = _conv_out(size, 5, 1, 2)  # conv 5x5, pad 2 keeps the size
    size = _conv_out(size, 3, 2)  # max-pool
    # the three 3x3 convs with padding 1 keep the size
    return _conv_out(size, 3, 2)  # max-pool


def check_input(x: torch.Tensor, expected: tuple[int, int, int], model_name: str) -> None:
    """Raise a ValueError naming both shapes when a batch doesn't fit the model."""
    if x.dim() != 4 or tuple(x.shape[1:]) != expected:
        c, h, w = expected
        raise ValueError(
            f"{model_name} expects a batch shaped [batch, {c}, {h}, {w}], "
            f"but got {list(x.shape)}. Resize the images to {h}x{w} "
            f"(e.g. load_fashion_mnist(..., resize={h})) or build the model for your input size."
        )


class AlexNet(nn.Module):
    """AlexNet with 5 convolutional and 3 fully connected layers, for `in_channels`-channel images.

    The channel widths (96-256-384-384-256) are the 2012 paper's, as in the source notebook,
    not torchvision's later "one weird trick" variant (64-192-384-256-256).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        dropout: float = 0.5,
        image_size: int = 224,
    ) -> None:
        super().__init__()
        if image_size < ALEXNET_MIN_IMAGE_SIZE:
            raise ValueError(
                f"AlexNet needs images of at least {ALEXNET_MIN_IMAGE_SIZE}x"
                f"{ALEXNET_MIN_IMAGE_SIZE} pixels (its 11x11/stride-4 convolution and three "
                f"max-pools shrink anything smaller to nothing); got image_size={image_size}."
            )
        if in_channels < 1 or num_classes < 2:
            raise ValueError(
                f"in_channels must be >= 1 and num_classes >= 2, "
                f"got in_channels={in_channels}, num_classes={num_classes}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        self.input_shape = (in_channels, image_size, image_size)
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        side = alexnet_feature_size(image_size)
        # The fully connected layers are several times wider than LeNet's; dropout tames them.
        self.fc = nn.Sequential(
            nn.Linear(256 * side * side, 4096),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )
        init_weights(self, nonlinearity="relu")

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        check_input(img, self.input_shape, "AlexNet")
        feature = self.conv(img)
        return self.fc(torch.flatten(feature, 1))


_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}


class LeNet(nn.Module):
    """LeNet-5 for 28x28 one-channel images, with sigmoid (as in 1998) or ReLU activations."""

    def __init__(self, activation: str = "sigmoid", num_classes: int = 10) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
            )
        act = _ACTIVATIONS[activation]
        self.activation = activation
        self.input_shape = (1, 28, 28)
        self.conv = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2),
            act(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            act(),
            nn.AvgPool2d(kernel_size=2, stride=2),
        )
        self.fc = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )
        init_weights(self, nonlinearity=activation)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        check_input(img, self.input_shape, "LeNet")
        feature = self.conv(img)
        return self.fc(torch.flatten(feature, 1))


def init_weights(net: nn.Module, nonlinearity: str = "relu") -> None:
    """Kaiming init for ReLU nets, Xavier (Glorot) for any other `nonlinearity`; zero biases.

    Kaiming's variance 2/fan_in keeps a ReLU layer's signal the same size layer after layer.
    Xavier suits activations that are close to linear around 0 (tanh, sigmoid); a sigmoid's
    slope is at most 1/4, so gradients still shrink through a deep sigmoid stack.
    """
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if nonlinearity == "relu":
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
