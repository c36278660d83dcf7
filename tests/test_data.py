import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import Compose, Resize, ToTensor
from torchvision.transforms.v2 import functional as TF

from alexnet_lib import class_names, load_fashion_mnist, read_fashion_mnist, resize_batch
from alexnet_lib.data import FASHION_MNIST_FILES, MESSAGES, split_validation, text_labels
from conftest import write_idx


def test_loader_reads_tiny_idx_files_through_torchvision(tiny_root):
    root, arrays = tiny_root
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    assert len(train_iter) == 4 and len(test_iter) == 2
    X, y = next(iter(test_iter))  # the test split is not shuffled
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.shape == (16, 1, 28, 28)
    images, labels = arrays["t10k"]
    assert torch.equal(X[:, 0], torch.from_numpy(images[:16]).float() / 255)
    assert torch.equal(y, torch.from_numpy(labels[:16]).long())


def test_training_order_is_a_new_permutation_each_epoch(tiny_root):
    root, arrays = tiny_root
    train_iter, _ = load_fashion_mnist(64, root=root, device="cpu")
    labels = torch.from_numpy(arrays["train"][1]).long()
    first = next(iter(train_iter))[1]
    second = next(iter(train_iter))[1]
    assert sorted(first.tolist()) == sorted(labels.tolist())  # every example once
    assert not torch.equal(first, second)  # 64 random labels: equal orders are all but impossible


def test_resize_limit_and_len(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(10, resize=96, root=root, limit=25, device="cpu")
    assert train_iter.num_examples == 25 and test_iter.num_examples == 25
    assert len(train_iter) == 3  # 10 + 10 + 5
    sizes = [len(y) for _, y in train_iter]
    assert sizes == [10, 10, 5]
    X, _ = next(iter(train_iter))
    assert X.shape == (10, 1, 96, 96)
    assert train_iter.image_shape == (1, 96, 96)


def test_augment_applies_to_training_batches_only(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(8, root=root, augment=lambda X: 1 - X,
                                               device="cpu")
    X_train, _ = next(iter(train_iter))
    X_test, _ = next(iter(test_iter))
    images = train_iter.images[: len(X_train)]
    assert X_test.min() >= 0 and X_train.max() <= 1
    assert not torch.equal(X_test, test_iter.make_batch(images[:8]))
    assert torch.allclose(train_iter.make_batch(images), 1 - images.float() / 255)


def test_batched_resize_equals_torchvision_tensor_resize():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)
    X = images.float() / 255
    for size in (224, 67, 20):  # up, up, and down (antialiased)
        ours = resize_batch(X, size)
        theirs = torch.stack([TF.resize(x, [size, size], antialias=True) for x in X])
        assert (ours - theirs).abs().max().item() < 1e-5


def test_batched_resize_matches_the_naive_versions_pil_pipeline_to_one_grey_level():
    torch.manual_seed(1)
    images = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    source = Compose([Resize(224), ToTensor()])
    pil = torch.stack([source(Image.fromarray(x[0].numpy(), mode="L")) for x in images])
    ours = resize_batch(images.float() / 255, 224)
    assert (ours - pil).abs().max().item() <= 1 / 255 + 1e-6  # PIL rounds to uint8


def test_missing_data_offline_names_folder_files_and_variable(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(32, root=tmp_path / "nowhere")
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "FashionMNIST" / "raw") in message
    assert all(name in message for name in FASHION_MNIST_FILES)
    assert "ALEXNET_DATA" in message


def test_data_root_comes_from_the_environment(tiny_root, monkeypatch):
    root, _ = tiny_root
    monkeypatch.setenv("ALEXNET_DATA", str(root))
    images, labels = read_fashion_mnist(train=False)
    assert images.shape == (32, 28, 28) and labels.shape == (32,)


def test_download_is_tried_only_in_the_cache_folder(tmp_path, monkeypatch):
    calls = []

    def fake_download(root, train, download):
        calls.append(root)
        (Path(root) / "FashionMNIST" / "raw").mkdir(parents=True)  # as torchvision does
        raise RuntimeError("no network")

    monkeypatch.setattr("alexnet_lib.data.FashionMNIST", fake_download)
    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="download failed: no network"):
        read_fashion_mnist()
    assert calls == [str(tmp_path / "cache" / "alexnet-hands-on")]
    assert not (tmp_path / "cache").exists()  # no empty cache folder left behind
    with pytest.raises(FileNotFoundError):
        read_fashion_mnist(root=tmp_path / "given")
    assert len(calls) == 1  # an explicit root is never downloaded into


def test_truncated_file_error_names_the_file(tiny_root):
    root, _ = tiny_root
    path = root / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte"):
        read_fashion_mnist(root, train=False)


def test_mismatched_label_file_is_reported(tiny_root):
    root, _ = tiny_root
    raw = root / "FashionMNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte").write_bytes((raw / "train-labels-idx1-ubyte").read_bytes())
    with pytest.raises(ValueError, match="labels"):
        read_fashion_mnist(root, train=False)


def test_images_that_are_not_28_by_28_are_refused_naming_the_file(tiny_root):
    root, arrays = tiny_root
    count = len(arrays["t10k"][1])  # as many images as labels, but of 32 x 24 pixels
    write_idx(root / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte",
              np.zeros((count, 32, 24), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte holds images of 32 x 24"):
        read_fashion_mnist(root, train=False)


def test_a_label_outside_0_to_9_is_refused_naming_the_file(tiny_root):
    root, arrays = tiny_root
    labels = arrays["t10k"][1].copy()
    labels[5] = 10
    write_idx(root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte holds the label 10 \(example 5"):
        read_fashion_mnist(root, train=False)


def test_read_only_data_folder_works(tiny_root):
    root, _ = tiny_root
    paths = [p for p in root.rglob("*")]
    for p in paths:
        os.chmod(p, stat.S_IREAD | (stat.S_IEXEC if p.is_dir() else 0))
    try:
        train_iter, _ = load_fashion_mnist(8, root=root, device="cpu")
        assert sum(len(y) for _, y in train_iter) == 64
        assert sorted(p.name for p in (root / "FashionMNIST" / "raw").iterdir()) == sorted(
            FASHION_MNIST_FILES
        )
    finally:
        for p in paths:
            os.chmod(p, stat.S_IRWXU)


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"batch_size": 8, "resize": -1},
                                    {"batch_size": 8, "limit": 0}, {"batch_size": 2.5}])
def test_bad_loader_arguments(kwargs, tiny_root):
    with pytest.raises(ValueError):
        load_fashion_mnist(root=tiny_root[0], **kwargs)


def test_class_names_in_both_languages():
    assert class_names("en")[9] == "Ankle boot"
    assert class_names("zh")[0] == "T恤"
    assert len(set(class_names("zh"))) == 10
    assert text_labels(torch.tensor([1, 7]), lang="zh") == ["裤子", "运动鞋"]
    with pytest.raises(ValueError):
        class_names("fr")


# --- The messages follow lang ----------------------------------------------------------------


def test_every_message_is_written_in_both_languages():
    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])
    for key, text in MESSAGES["zh"].items():
        assert any("\u4e00" <= c <= "\u9fff" for c in text), key


def test_missing_data_is_reported_in_chinese_with_the_same_facts(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(32, root=tmp_path / "nowhere", lang="zh")
    message = str(info.value)
    assert message.startswith("找不到 Fashion-MNIST：")
    assert str(tmp_path / "nowhere" / "FashionMNIST" / "raw") in message
    assert all(name in message for name in FASHION_MNIST_FILES)
    assert "ALEXNET_DATA" in message and "lacks" not in message


def test_a_failed_download_is_reported_in_chinese(tmp_path, monkeypatch):
    def no_network(root, train, download):
        raise RuntimeError("no network")

    monkeypatch.setattr("alexnet_lib.data.FashionMNIST", no_network)
    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="下载失败：no network"):
        read_fashion_mnist(lang="zh")


def test_a_damaged_file_is_reported_in_chinese_naming_it(tiny_root):
    root, arrays = tiny_root
    labels = arrays["t10k"][1].copy()
    labels[5] = 10
    write_idx(root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte 中有标签 10（第 5 个样本）"):
        read_fashion_mnist(root, train=False, lang="zh")
    path = root / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"无法读取 .*t10k-images-idx3-ubyte：文件不完整"):
        read_fashion_mnist(root, train=False, lang="zh")


@pytest.mark.parametrize("lang, said", [("en", "batch_size must be a positive whole number"),
                                        ("zh", "batch_size 必须是正整数")])
def test_a_bad_argument_is_refused_in_the_learners_language(tiny_root, lang, said):
    with pytest.raises(ValueError, match=said):
        load_fashion_mnist(0, root=tiny_root[0], lang=lang)


def test_too_large_a_validation_set_is_refused_in_chinese(tiny_root):
    train_iter, _ = load_fashion_mnist(8, root=tiny_root[0], device="cpu")
    with pytest.raises(ValueError, match="无法从 64 张训练图像中留出 64 张验证图像"):
        split_validation(train_iter, 64, lang="zh")


def test_an_unknown_language_is_refused_before_the_data_is_read(tmp_path):
    with pytest.raises(ValueError, match="lang must be one of"):
        load_fashion_mnist(32, root=tmp_path / "nowhere", lang="fr")  # not FileNotFoundError


def test_the_offline_copy_of_the_real_data(real_data_root):
    train_iter, test_iter = load_fashion_mnist(1000, root=real_data_root, device="cpu")
    assert train_iter.num_examples == 60_000 and test_iter.num_examples == 10_000
    counts = torch.bincount(test_iter.labels, minlength=10)
    assert counts.tolist() == [1000] * 10
    X, y = next(iter(test_iter))
    assert X.shape == (1000, 1, 28, 28) and 0.2 < X.mean().item() < 0.4
    assert np.isclose(X.max().item(), 1.0)
