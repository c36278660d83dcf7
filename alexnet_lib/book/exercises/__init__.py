"""Self-checks for the book's exercises, one module per chapter, each with its en/zh messages
and its mistakes as data. A `check_*` function prints a verdict that names the mistake without
giving the answer away, in lang="en" or "zh", and returns True or False: whatever the learner
gives it (a huge number, text, a tensor on a GPU, a function that raises), it answers with a
verdict rather than an error."""

from .ablation import check_paired_error, check_seeds_needed, check_transfer_model
from .activations import check_dead_fraction, check_sigmoid_grad
from .architecture import (
    check_alexnet_layers,
    check_alexnet_params,
    check_conv_flops,
    check_memory_mb,
)
from .augmentation import check_batched_flip
from .dropout import check_dropout, check_dropout_variance
from .lenet import check_alexnet_fc_share, check_conv_output_size, check_lenet5_param_count
from .training import check_confusion_matrix, check_run_hours

__all__ = ["check_alexnet_fc_share", "check_alexnet_layers", "check_alexnet_params",
           "check_batched_flip", "check_conv_flops", "check_confusion_matrix",
           "check_conv_output_size", "check_dead_fraction", "check_dropout",
           "check_dropout_variance", "check_lenet5_param_count", "check_memory_mb",
           "check_paired_error", "check_run_hours", "check_seeds_needed", "check_sigmoid_grad",
           "check_transfer_model"]
