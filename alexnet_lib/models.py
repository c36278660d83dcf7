"""AlexNet (the 2012 paper's layers) and a modernised LeNet-5, for 1-channel Fashion-MNIST."""

from __future__ import annotations

import torch
from torch import nn

from .errors import UsageError, check_choice
from .memory import BYTES_PER_VALUE, check_fits

ALEXNET_MIN_IMAGE_SIZE = 67
"""The smallest square input whose feature map survives AlexNet's three max-pools."""

POOLING = {"overlapping": (3, 2), "non-overlapping": (2, 2)}
"""AlexNet's max-pooling choices, as (window, stride): the paper's 3x3 windows with stride 2
overlap; 2x2 windows with stride 2 are the usual non-overlapping kind."""

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a convolution or pooling window: floor((n + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def alexnet_feature_size(image_size: int, pooling: str = "overlapping") -> int:
    """Side of the last feature map for a square input (5 for 224, 1 for 67)."""
    window, stride = POOLING[pooling]
    size = conv_output_size(image_size, 11, 4)  # conv 11x11, stride 4
    size = conv_output_size(size, window, stride)  # max-pool
    size = conv_output_size(size, 5, 1, 2)  # conv 5x5, pad 2 keeps the size
    size = conv_output_size(size, window, stride)  # max-pool
    # the three 3x3 convs with padding 1 keep the size
    return conv_output_size(size, window, stride)  # max-pool


def local_response_norm() -> nn.LocalResponseNorm:
    """The paper's response normalisation: b = a / (k + alpha * sum of a^2 over n maps)^beta,
    with k = 2, n = 5, alpha = 1e-4, beta = 0.75. PyTorch divides its alpha by n, so it gets
    n * 1e-4 to match."""
    n = 5
    return nn.LocalResponseNorm(size=n, alpha=n * 1e-4, beta=0.75, k=2.0)


def check_input(x: torch.Tensor, expected: tuple[int, int, int], model_name: str) -> None:
    """Raise a ValueError naming both shapes when a batch doesn't fit the model."""
    if x.dim() != 4 or tuple(x.shape[1:]) != expected:
        c, h, w = expected
        raise UsageError(
            f"{model_name} expects a batch shaped [batch, {c}, {h}, {w}], "
            f"but got {list(x.shape)}. Resize the images to {h}x{w} "
            f"(e.g. load_fashion_mnist(..., resize={h})) or build the model for your input size."
        )


def _check_whole_number(name: str, value, example: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        try:
            whole = float(value)
            suggestion = str(int(whole)) if whole.is_integer() else example
        except (TypeError, ValueError):
            suggestion = example
        raise UsageError(f"{name} must be a whole number such as {example}, got {value!r} "
                         f"(a {type(value).__name__}): pass {name}={suggestion}.")


class AlexNet(nn.Module):
    """AlexNet with 5 convolutional and 3 fully connected layers, for `in_channels`-channel images.

    The channel widths (96-256-384-384-256) are the 2012 paper's, not torchvision's later
    "one weird trick" variant (64-192-384-256-256). The defaults give the book's network;
    `activation`, `lrn` (local response normalisation after the first two ReLUs, as in the
    paper), `pooling` ("overlapping" 3x3/2 or "non-overlapping" 2x2/2) and `batch_norm`
    (BatchNorm after each convolution, what replaced LRN from 2015 on) exist for the ablation
    study.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        dropout: float = 0.5,
        image_size: int = 224,
        *,
        activation: str = "relu",
        lrn: bool = False,
        pooling: str = "overlapping",
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        _check_whole_number("image_size", image_size, "224")
        _check_whole_number("in_channels", in_channels, "1")
        _check_whole_number("num_classes", num_classes, "10")
        check_choice("activation", activation, ACTIVATIONS, sort=True)
        check_choice("pooling", pooling, POOLING, sort=True)
        if alexnet_feature_size(image_size, pooling) < 1:
            raise UsageError(
                f"AlexNet needs images of at least {ALEXNET_MIN_IMAGE_SIZE}x"
                f"{ALEXNET_MIN_IMAGE_SIZE} pixels (its 11x11/stride-4 convolution and three "
                f"max-pools shrink anything smaller to nothing); got image_size={image_size}."
            )
        side = alexnet_feature_size(image_size, pooling)
        if torch.get_default_device().type != "meta":  # the meta device allocates nothing
            check_fits(BYTES_PER_VALUE * 256 * side * side * 4096, torch.device("cpu"),
                       f"At image_size={image_size}, AlexNet's first fully connected layer "
                       f"({256 * side * side:,} x 4096 weights)",
                       "use a smaller image_size, such as 224")
        if in_channels < 1 or num_classes < 2:
            raise UsageError(
                f"in_channels must be >= 1 and num_classes >= 2, "
                f"got in_channels={in_channels}, num_classes={num_classes}."
            )
        _check_dropout(dropout)
        if lrn and batch_norm:
            raise UsageError("Choose lrn=True or batch_norm=True, not both: batch norm is what "
                             "replaced local response normalisation.")
        self.input_shape = (in_channels, image_size, image_size)
        self.activation = activation
        act = ACTIVATIONS[activation]
        norm = local_response_norm if lrn else nn.Identity
        bn = nn.BatchNorm2d if batch_norm else lambda channels: nn.Identity()
        window, stride = POOLING[pooling]
        conv_layers = [
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4), bn(96), act(), norm(),
            nn.MaxPool2d(kernel_size=window, stride=stride),
            nn.Conv2d(96, 256, kernel_size=5, padding=2), bn(256), act(), norm(),
            nn.MaxPool2d(kernel_size=window, stride=stride),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), bn(384), act(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), bn(384), act(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), bn(256), act(),
            nn.MaxPool2d(kernel_size=window, stride=stride),
        ]  # fmt: skip
        # Without LRN or batch norm the identity placeholders are left out, so that print(net)
        # and the layer numbers (conv.0, conv.3, ...) stay those of the plain network.
        self.conv = nn.Sequential(*[m for m in conv_layers if not isinstance(m, nn.Identity)])
        # The fully connected layers are several times wider than LeNet's; dropout tames them.
        self.fc = alexnet_head(256 * side * side, num_classes, dropout, act)
        init_weights(self, nonlinearity=activation)
        # A zero output layer makes every class equally likely at the start (the first loss
        # is ln 10) and keeps Adam's first step, which moves every weight by about lr, to the
        # output layer alone. With Kaiming's scale there, or the paper's std 0.01, the second
        # batch's loss jumped to 30-50 at 224 px with Adam at lr 0.001.
        nn.init.zeros_(self.fc[-1].weight)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        check_input(img, self.input_shape, "AlexNet")
        feature = self.conv(img)
        return self.fc(torch.flatten(feature, 1))


def _check_dropout(dropout) -> None:
    if not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise UsageError(f"dropout must be a number in [0, 1), got {dropout!r}.")


def alexnet_head(in_features: int, num_classes: int, dropout: float,
                 act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """AlexNet's three fully connected layers, 4096-4096-num_classes, with dropout after the
    first two, as in the 2012 paper."""
    return nn.Sequential(
        nn.Linear(in_features, 4096),
        act(),
        nn.Dropout(dropout),
        nn.Linear(4096, 4096),
        act(),
        nn.Dropout(dropout),
        nn.Linear(4096, num_classes),
    )


class AlexNetHead(nn.Module):
    """AlexNet's fully connected head alone, on the raw pixels of `image_size`-pixel images:
    a 4096-4096 network of the kind dropout was first shown on (Hinton et al., 2012)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, dropout: float = 0.5,
                 image_size: int = 28) -> None:
        super().__init__()
        _check_whole_number("image_size", image_size, "28")
        _check_dropout(dropout)
        self.input_shape = (in_channels, image_size, image_size)
        self.fc = alexnet_head(in_channels * image_size * image_size, num_classes, dropout)
        init_weights(self)
        nn.init.zeros_(self.fc[-1].weight)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        check_input(img, self.input_shape, "AlexNetHead")
        return self.fc(torch.flatten(img, 1))


LENET_ACTIVATIONS = ("sigmoid", "relu")


class LeNet(nn.Module):
    """A modernised LeNet-5 for 28x28 one-channel images, with sigmoid or ReLU activations.

    LeNet-5 (LeCun et al., 1998) used a scaled tanh, trainable subsampling, a C3 layer wired
    to only some of S2's maps and an RBF output layer. This version keeps its layer sizes and
    replaces those with sigmoid (or ReLU), average pooling, full connections and a plain
    linear output, as most textbooks do.
    """

    def __init__(self, activation: str = "sigmoid", num_classes: int = 10) -> None:
        super().__init__()
        check_choice("activation", activation, LENET_ACTIVATIONS, sort=True)
        act = ACTIVATIONS[activation]
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
