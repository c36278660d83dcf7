"""Measuring a network: accuracy, predictions, a confusion matrix, its mistakes.

One rule for every evaluation: dropout off (eval mode), no gradients, and fp32 arithmetic,
whatever number format training used, so that the same weights always get the same score.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from .devices import resolve_device
from .errors import UsageError
from .training.distributed import distributed, sum_across_processes


@dataclass
class Predictions:
    """Every example's class probabilities and true label, on the CPU."""

    probs: torch.Tensor  # [N, num_classes]
    labels: torch.Tensor  # [N]

    @property
    def predicted(self) -> torch.Tensor:
        return self.probs.argmax(dim=1)

    @property
    def accuracy(self) -> float:
        return (self.predicted == self.labels).float().mean().item()


@contextmanager
def eval_mode(net: nn.Module) -> Iterator[None]:
    """Evaluation mode (dropout off) and no gradients inside; the previous mode after."""
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        net.train(was_training)


def _device_of(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


def _nothing_to(action: str) -> UsageError:
    """The error for a data_iter without examples: an accuracy or a mean loss of nothing is no
    number, and 0.0 would pass for one."""
    return UsageError(f"data_iter yielded no batches: nothing to {action}. Pass a loader with "
                      "at least one example (an iterator or a generator is used up after one "
                      "pass: pass the loader itself).")


def _outputs(net: nn.Module, data_iter: Iterable, device: torch.device
             ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(logits in fp32, labels) for every batch, computed in eval mode on `device`, in fp32
    even when called inside an autocast block."""
    with eval_mode(net):
        for X, y in data_iter:
            X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device.type, enabled=False):
                logits = net(X).float()
            yield logits, y


def count_correct(net: nn.Module, data_iter: Iterable,
                  device: torch.device | None = None) -> tuple[torch.Tensor, int]:
    """(correct predictions as a tensor on the device, number of examples), summed over all
    processes in data-parallel training. Reads nothing back from the device but the count."""
    correct, _, count = correct_and_loss(net, data_iter, device)
    return correct, count


def correct_and_loss(net: nn.Module, data_iter: Iterable, device: torch.device | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(correct predictions, summed cross-entropy, number of examples), the first two as
    tensors on the device, summed over all processes in data-parallel training. Raises
    UsageError (a ValueError) when `data_iter` holds no examples."""
    device = device or _device_of(net)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    loss_sum = torch.zeros((), dtype=torch.float32, device=device)
    count = 0
    for logits, y in _outputs(net, data_iter, device):
        correct += (logits.argmax(dim=1) == y).sum()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        count += len(y)
    if distributed():
        total = torch.tensor([count], device=device)
        sum_across_processes(correct, loss_sum, total)
        count = int(total.item())
    if count == 0:  # after the sum: every process raises, or none does
        raise _nothing_to("evaluate")
    return correct, loss_sum, count


def accuracy_and_loss(net: nn.Module, data_iter: Iterable, device: torch.device | None = None
                      ) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of `net` on `data_iter` (eval mode, fp32)."""
    correct, loss_sum, count = correct_and_loss(net, data_iter, device)
    return correct.item() / count, loss_sum.item() / count


def evaluate_loss(net: nn.Module, data_iter: Iterable,
                  device: str | torch.device | None = None) -> float:
    """Mean cross-entropy over `data_iter`, in eval mode and fp32, like `evaluate_accuracy`."""
    device = resolve_device(device) if device is not None else None
    _, loss_sum, count = correct_and_loss(net, data_iter, device)
    return loss_sum.item() / count


def evaluate_accuracy(net: nn.Module, data_iter: Iterable,
                      device: str | torch.device | None = None) -> float:
    """Fraction of correctly classified examples, with `net` in eval mode (dropout off).

    The mode `net` was in before is restored afterwards.
    """
    device = resolve_device(device) if device is not None else None
    correct, count = count_correct(net, data_iter, device)
    return correct.item() / count


def predict(net: nn.Module, data_iter: Iterable) -> Predictions:
    """Run `net` in eval mode over `data_iter`; return the softmax probabilities and labels."""
    probs, labels = [], []
    for logits, y in _outputs(net, data_iter, _device_of(net)):
        probs.append(logits.softmax(dim=1).cpu())
        labels.append(y.cpu())
    if not probs:
        raise _nothing_to("predict")
    return Predictions(torch.cat(probs), torch.cat(labels))


_TO_PASS = {"predicted": "predictions.predicted (the argmax of the probabilities)",
            "labels": "predictions.labels"}  # fmt: skip
"""What to pass for each of confusion_matrix's tensors, as its errors say."""


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor,
                     num_classes: int) -> torch.Tensor:
    """counts[i, j] = how many examples of true class i were predicted as class j.

    predicted, labels: 1-D integer tensors of class indices in [0, num_classes), such as
    `predictions.predicted` and `predictions.labels`. Anything else is refused with a
    UsageError (a ValueError) naming it, rather than miscounted.
    """
    for name, tensor in (("predicted", predicted), ("labels", labels)):
        if not isinstance(tensor, torch.Tensor):
            raise UsageError(f"{name} must be a tensor of class indices, got "
                             f"{type(tensor).__name__}: pass {_TO_PASS[name]}.")
    if predicted.shape != labels.shape or predicted.dim() != 1:
        raise UsageError(
            f"predicted and labels must be 1-D and of the same length, got shapes "
            f"{list(predicted.shape)} and {list(labels.shape)}."
        )
    if not isinstance(num_classes, Integral) or isinstance(num_classes, bool) or num_classes < 1:
        raise UsageError(f"num_classes must be a positive whole number (10 for Fashion-MNIST), "
                         f"got {num_classes!r}.")
    num_classes = int(num_classes)
    for name, tensor in (("predicted", predicted), ("labels", labels)):
        _check_class_indices(name, tensor, num_classes)
    pairs = labels.long() * num_classes + predicted.long().to(labels.device)
    return torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def _check_class_indices(name: str, tensor: torch.Tensor, num_classes: int) -> None:
    """Refuse a tensor that is not integer class indices in [0, num_classes)."""
    if tensor.dtype == torch.bool or tensor.is_floating_point() or tensor.is_complex():
        what = "True/False" if tensor.dtype == torch.bool else f"{tensor.dtype}"
        raise UsageError(f"{name} holds {what} values, not class indices: pass integer class "
                         f"indices, such as {_TO_PASS[name]}.")
    outside = ((tensor < 0) | (tensor >= num_classes)).nonzero()
    if len(outside):
        i = int(outside[0])
        raise UsageError(f"{name}[{i}] is {int(tensor[i])}, outside the classes 0 to "
                         f"{num_classes - 1} of num_classes={num_classes}: pass class indices "
                         "in that range, or the number of classes as num_classes.")


def confident_mistakes(predictions: Predictions, k: int = 8) -> torch.Tensor:
    """Indices of the k wrongly classified examples the network was most sure about."""
    wrong = (predictions.predicted != predictions.labels).nonzero().squeeze(1)
    confidence = predictions.probs[wrong].max(dim=1).values
    order = confidence.argsort(descending=True)[:k]
    return wrong[order]
