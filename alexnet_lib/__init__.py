"""alexnet_lib: the library behind the book "AlexNet, hands-on"."""

from . import augment
from .book.plots import (
    plot_architecture,
    plot_confusion_matrix,
    plot_experiment_curves,
    plot_history,
    show_filters,
    show_images,
    use_language,
)
from .book.summary import LayerInfo, Summary, layer_summary
from .data import (
    FASHION_MNIST_CLASSES,
    FashionMNISTBatches,
    class_names,
    load_fashion_mnist,
    read_fashion_mnist,
    resize_batch,
    split_validation,
    text_labels,
)
from .devices import resolve_device, set_seed, try_gpu
from .evaluation import (
    Predictions,
    confident_mistakes,
    confusion_matrix,
    evaluate_accuracy,
    predict,
)
from .models import (
    ALEXNET_MIN_IMAGE_SIZE,
    AlexNet,
    LeNet,
    alexnet_feature_size,
    conv_output_size,
    init_weights,
)
from .quick import quick_mode
from .training.checkpoint import load_checkpoint, save_checkpoint
from .training.config import TrainConfig
from .training.history import EpochRecord, History
from .training.loop import NonFiniteLossError, OutOfMemoryError, TrainingError, train, train_step
from .training.precision import choose_precision

__version__ = "0.1.0"

__all__ = [
    "ALEXNET_MIN_IMAGE_SIZE",
    "FASHION_MNIST_CLASSES",
    "AlexNet",
    "EpochRecord",
    "FashionMNISTBatches",
    "History",
    "LayerInfo",
    "LeNet",
    "NonFiniteLossError",
    "OutOfMemoryError",
    "Predictions",
    "Summary",
    "TrainConfig",
    "TrainingError",
    "augment",
    "alexnet_feature_size",
    "choose_precision",
    "class_names",
    "confident_mistakes",
    "confusion_matrix",
    "conv_output_size",
    "evaluate_accuracy",
    "init_weights",
    "layer_summary",
    "load_checkpoint",
    "load_fashion_mnist",
    "plot_architecture",
    "plot_confusion_matrix",
    "plot_experiment_curves",
    "plot_history",
    "predict",
    "quick_mode",
    "read_fashion_mnist",
    "resize_batch",
    "resolve_device",
    "save_checkpoint",
    "set_seed",
    "show_filters",
    "show_images",
    "split_validation",
    "text_labels",
    "train",
    "train_step",
    "try_gpu",
    "use_language",
]
