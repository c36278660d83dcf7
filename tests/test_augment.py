import pytest
import torch
from torch import nn
from torchvision.transforms import v2

from alexnet_lib import load_fashion_mnist
from alexnet_lib.augment import (
    RandomBrightnessContrast,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomVerticalFlip,
    per_image,
)


@pytest.fixture
def X():
    torch.manual_seed(0)
    return torch.rand(64, 1, 20, 20)


def test_flips_are_exact_mirrors_chosen_per_image(X):
    for module, dim in ((RandomHorizontalFlip(0.5), -1), (RandomVerticalFlip(0.5), -2)):
        out = module(X)
        flipped = torch.tensor([torch.equal(o, x.flip(dim)) for o, x in zip(out, X, strict=True)])
        kept = torch.tensor([torch.equal(o, x) for o, x in zip(out, X, strict=True)])
        assert torch.all(flipped ^ kept)  # each image either mirrored or untouched
        assert 10 < flipped.sum() < 54  # p = 0.5 over 64 images
    assert torch.equal(RandomHorizontalFlip(0.0)(X), X)
    assert torch.equal(RandomHorizontalFlip(1.0)(X), X.flip(-1))


def test_random_crop_shifts_by_whole_pixels_and_fills_black(X):
    out = RandomCrop(padding=3)(X)
    assert out.shape == X.shape
    for o, x in zip(out, X, strict=True):
        matches = [
            (dx, dy) for dx in range(-3, 4) for dy in range(-3, 4)
            if torch.equal(o, _shifted(x, dx, dy))
        ]
        assert len(matches) == 1
    assert len({tuple(o.flatten()[:50].tolist()) for o in out}) > 20  # independent shifts


def _shifted(x, dx, dy):
    """x moved so that out[i, j] = x[i + dy, j + dx], zeros outside."""
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    H, W = x.shape[-2:]
    return padded[..., 3 + dy : 3 + dy + H, 3 + dx : 3 + dx + W]


def test_resized_crop_full_window_is_the_identity_and_windows_differ(X):
    identity = RandomResizedCrop(scale=(1.0, 1.0), ratio=(1.0, 1.0))(X)
    assert torch.allclose(identity, X, atol=1e-5)
    out = RandomResizedCrop(scale=(0.2, 0.5))(X)
    assert out.shape == X.shape
    assert not torch.allclose(out[0], out[1])
    with pytest.raises(ValueError):
        RandomResizedCrop(scale=(0.0, 1.5))


def test_resized_crop_magnifies_a_window():
    # a left-half-white image: a window from inside the white half comes out all white
    X = torch.zeros(16, 1, 32, 32)
    X[..., :16] = 1
    torch.manual_seed(1)
    out = RandomResizedCrop(scale=(0.01, 0.01), ratio=(1.0, 1.0))(X)
    means = out.mean(dim=(1, 2, 3))
    assert ((means > 0.99) | (means < 0.01)).sum() >= 12  # tiny windows fall on one side


def test_brightness_contrast_stays_in_range_and_differs_per_image(X):
    out = RandomBrightnessContrast(0.5, 0.5)(X)
    assert out.min() >= 0 and out.max() <= 1
    ratios = out.mean(dim=(1, 2, 3)) / X.mean(dim=(1, 2, 3))
    assert ratios.std() > 0.05
    assert torch.allclose(RandomBrightnessContrast(0.0, 0.0)(X), X)


def test_per_image_gives_each_image_its_own_v2_draw(X):
    batch = v2.RandomCrop(16)(X)  # v2 on a batch: one window for every image
    assert batch.shape == (64, 1, 16, 16)
    same = v2.RandomCrop(16)
    each = per_image(same)(X)
    offsets = set()
    for o, x in zip(each, X, strict=True):
        for i in range(5):
            for j in range(5):
                if torch.equal(o, x[..., i : i + 16, j : j + 16]):
                    offsets.add((i, j))
    assert len(offsets) > 5


def test_chain_prints_and_runs_in_the_loader_on_training_batches_only(tiny_root):
    root, _ = tiny_root
    augment = nn.Sequential(RandomResizedCrop(), RandomHorizontalFlip())
    assert "RandomResizedCrop(scale=(0.08, 1.0)" in str(augment)
    train_iter, test_iter = load_fashion_mnist(16, resize=67, root=root, augment=augment,
                                               device="cpu")
    X, _ = next(iter(train_iter))
    assert X.shape == (16, 1, 67, 67)
    assert test_iter.augment is None
    with pytest.raises(ValueError, match="batch"):
        RandomHorizontalFlip()(torch.zeros(1, 28, 28))
