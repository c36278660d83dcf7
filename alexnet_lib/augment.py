"""Image augmentation on whole batches, on the device, with fresh random choices per image.

torchvision's `transforms.v2` treats a batch tensor as one image: a random crop picks one
window for the whole batch. The modules here draw a separate flip, crop or brightness for
every image, in a few batched tensor operations. They are `nn.Module`s, so
`nn.Sequential(RandomResizedCrop(), RandomHorizontalFlip())` chains them and prints them.
Pass the chain to `load_fashion_mnist(..., augment=...)`: it runs on training batches only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .errors import UsageError


def _per_image(X: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """One uniform random number per image, shaped [B, 1, 1, 1] to broadcast over pixels."""
    return torch.empty(len(X), 1, 1, 1, device=X.device).uniform_(low, high)


def _check_batch(X: torch.Tensor) -> None:
    if X.dim() != 4:
        raise UsageError(f"augmentations expect a batch [B, C, H, W], got {list(X.shape)}")


class RandomHorizontalFlip(nn.Module):
    """Mirror each image left-right with probability p."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_batch(X)
        flip = _per_image(X, 0, 1) < self.p
        return torch.where(flip, X.flip(-1), X)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Turn each image upside down with probability p (rarely sensible for clothes)."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_batch(X)
        flip = _per_image(X, 0, 1) < self.p
        return torch.where(flip, X.flip(-2), X)


def _sample_windows(theta: torch.Tensor, X: torch.Tensor, mode: str) -> torch.Tensor:
    """Resample every image through its own 2x3 affine map (output size = input size)."""
    grid = F.affine_grid(theta, list(X.shape), align_corners=False)
    return F.grid_sample(X, grid, mode=mode, padding_mode="zeros", align_corners=False)


class RandomResizedCrop(nn.Module):
    """Crop a random window (area fraction in `scale`, aspect ratio in `ratio`) from each
    image and stretch it back to the full size, as in the Inception and AlexNet recipes."""

    def __init__(self, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> None:
        super().__init__()
        if not 0 < scale[0] <= scale[1] <= 1:
            raise UsageError(f"scale must satisfy 0 < low <= high <= 1, got {scale}")
        self.scale, self.ratio = scale, ratio

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_batch(X)
        area = _per_image(X, *self.scale).view(-1)
        log_ratio = _per_image(X, math.log(self.ratio[0]), math.log(self.ratio[1])).view(-1)
        # window width and height as fractions of the image side
        w = torch.sqrt(area * log_ratio.exp()).clamp(max=1)
        h = torch.sqrt(area / log_ratio.exp()).clamp(max=1)
        # window centre, in affine_grid's coordinates (-1 .. 1), so that the window fits
        cx = (torch.rand_like(w) * 2 - 1) * (1 - w)
        cy = (torch.rand_like(h) * 2 - 1) * (1 - h)
        theta = torch.zeros(len(X), 2, 3, device=X.device)
        theta[:, 0, 0], theta[:, 0, 2] = w, cx
        theta[:, 1, 1], theta[:, 1, 2] = h, cy
        return _sample_windows(theta, X, mode="bilinear")

    def extra_repr(self) -> str:
        return f"scale={self.scale}, ratio={tuple(round(r, 3) for r in self.ratio)}"


class RandomCrop(nn.Module):
    """Shift each image by up to `padding` pixels in each direction, filling with black:
    the same as padding by `padding` and cropping a random window of the original size."""

    def __init__(self, padding: int = 4) -> None:
        super().__init__()
        self.padding = padding

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_batch(X)
        B, _, H, W = X.shape
        shift = torch.randint(-self.padding, self.padding + 1, (B, 2), device=X.device)
        theta = torch.zeros(B, 2, 3, device=X.device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1
        theta[:, 0, 2] = 2 * shift[:, 0] / W  # whole pixels: nearest sampling copies exactly
        theta[:, 1, 2] = 2 * shift[:, 1] / H
        return _sample_windows(theta, X, mode="nearest")

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


class RandomBrightnessContrast(nn.Module):
    """Scale each image's brightness by a factor in [1-b, 1+b] and its contrast around its
    mean by a factor in [1-c, 1+c]; the result stays in [0, 1]. The closest counterpart on
    grey images of AlexNet's lighting noise, which adds rather than multiplies."""

    def __init__(self, brightness: float = 0.3, contrast: float = 0.3) -> None:
        super().__init__()
        self.brightness, self.contrast = brightness, contrast

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_batch(X)
        X = X * _per_image(X, 1 - self.brightness, 1 + self.brightness)
        mean = X.mean(dim=(1, 2, 3), keepdim=True)
        X = (X - mean) * _per_image(X, 1 - self.contrast, 1 + self.contrast) + mean
        return X.clamp(0, 1)

    def extra_repr(self) -> str:
        return f"brightness={self.brightness}, contrast={self.contrast}"


def per_image(transform: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
    """Apply any single-image transform (e.g. from torchvision.transforms.v2) to each image of
    a batch separately, so each gets its own random draw. Correct, but one call per image:
    slower than the batched modules above."""

    def apply(X: torch.Tensor) -> torch.Tensor:
        _check_batch(X)
        return torch.stack([transform(image) for image in X])

    return apply
