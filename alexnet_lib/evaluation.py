"""Looking at a trained network's predictions: probabilities, a confusion matrix, its mistakes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn


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


def predict(net: nn.Module, data_iter: Iterable) -> Predictions:
    """Run `net` in eval mode over `data_iter`; return the softmax probabilities and labels."""
    device = next(net.parameters()).device
    probs, labels = [], []
    with eval_mode(net):
        for X, y in data_iter:
            probs.append(net(X.to(device)).float().softmax(dim=1).cpu())
            labels.append(y.cpu())
    if not probs:
        raise ValueError("data_iter yielded no batches: nothing to predict.")
    return Predictions(torch.cat(probs), torch.cat(labels))


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor,
                     num_classes: int) -> torch.Tensor:
    """counts[i, j] = how many examples of true class i were predicted as class j."""
    if predicted.shape != labels.shape or predicted.dim() != 1:
        raise ValueError(
            f"predicted and labels must be 1-D and of the same length, got shapes "
            f"{list(predicted.shape)} and {list(labels.shape)}."
        )
    pairs = labels.long() * num_classes + predicted.long()
    return torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def confident_mistakes(predictions: Predictions, k: int = 8) -> torch.Tensor:
    """Indices of the k wrongly classified examples the network was most sure about."""
    wrong = (predictions.predicted != predictions.labels).nonzero().squeeze(1)
    confidence = predictions.probs[wrong].max(dim=1).values
    order = confidence.argsort(descending=True)[:k]
    return wrong[order]
