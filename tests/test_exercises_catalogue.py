"""Every self-check, against its catalogue: the reference answers pass; every catalogued mistake
fails with its own hint, in English and in Chinese; no message gives the answer away, not
even on the placeholder answer a notebook starts from."""

import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from test_exercises_architecture import NETWORK_ANSWER, NETWORK_MISTAKES, NETWORKS_RIGHT

from alexnet_lib import AlexNet, confusion_matrix, layer_summary
from alexnet_lib.augment import RandomHorizontalFlip
from alexnet_lib.book import exercises as ex
from alexnet_lib.book.exercises import (
    _common,
    ablation,
    activations,
    architecture,
    augmentation,
    dropout,
    lenet,
    training,
)
from alexnet_lib.experiments import EXPERIMENTS, RESULTS, ExperimentResult, recorded_experiment
from alexnet_lib.experiments.records import recorded_results

BOOK = Path(__file__).resolve().parent.parent / "book"
MODULES = [lenet, architecture, activations, dropout, augmentation, training, ablation]
# Message keys that say what was found or that the answer is right, rather than give a hint.
DETAIL_KEYS = {"dropout_stats", "dropout_case", "dropout_inplace", "dropout_fixed", "flip_case",
               "cm_case", "layers_case", "net_got", "net_got_class", "net_kind", "net_at",
               "net_count_conv", "net_count_linear", "net_missing", "net_extra", "net_moved",
               "net_raised", "net_returned", "net_shape", "tm_not_module", "tm_raised",
               "tm_shape", "tm_trains", "dropout_p0_got", "dropout_p1_got"}  # fmt: skip


# --- reference answers -------------------------------------------------------------------

SUMMARY = layer_summary(AlexNet(), (1, 224, 224))
LAYERS = [layer.name for layer in SUMMARY.layers if layer.params]
COUNTS = [layer.params for layer in SUMMARY.layers if layer.params]
CONVS = [layer.name for layer in SUMMARY.layers if layer.kind == "Conv2d"]
FLOPS = [layer.flops for layer in SUMMARY.layers if layer.kind == "Conv2d"]
FC = [layer for layer in SUMMARY.layers if layer.kind == "Linear"]
SHARE = sum(layer.params for layer in FC) / SUMMARY.total_params
FC_FLOPS_SHARE = sum(layer.flops for layer in FC) / SUMMARY.total_flops
LENET5 = 60_000  # LeNet-5 (1998): C1 156 + S2 12 + C3 1,516 + S4 32 + C5 48,120 + F6 10,164
CPU = recorded_results()[0]  # the record chapter 6 calls `cpu`
CPU_2 = recorded_results()[1]  # the second record at 224 px, shown in the same chapter
assert (CPU["image_size"], CPU_2["image_size"]) == (224, 224)


def params_of(image_size):
    with torch.device("meta"):
        return sum(p.numel() for p in AlexNet(image_size=image_size).parameters())


def conv_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def sigmoid_grad(x):
    s = torch.sigmoid(x)
    return s * (1 - s)


def dead_fraction(A):
    return (A.transpose(0, 1).flatten(1).amax(dim=1) == 0).float().mean().item()


def dead_fraction_2d(A):  # chapter 3's version, the exercise's starting point
    return ((A > 0).sum(dim=0) == 0).float().mean().item()


def inverted_dropout(X, p):
    return torch.zeros_like(X) if p == 1 else X * (torch.rand_like(X) >= p) / (1 - p)


def bernoulli_dropout(X, p):  # exercise 1's solution
    if p == 1:
        return torch.zeros_like(X)
    return X * torch.bernoulli(torch.full_like(X, 1 - p)) / (1 - p)


def masked(X, p, keep, scale=None):
    """Dropout with a given keep mask and survivor scale (1/(1-p) unless given); p=1 gives 0."""
    if p == 1:
        return torch.zeros_like(X)
    return X * keep / (1 - p) if scale is None else X * keep * scale


def random_flip(X):
    return torch.where(torch.rand(len(X), 1, 1, 1) < 0.5, X.flip(-1), X)


def flip_in_a_loop(X):
    return torch.stack([image.flip(-1) if random.random() < 0.5 else image for image in X])


def matrix_with_a_loop(predicted, labels, num_classes):
    counts = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for t, p in zip(labels.tolist(), predicted.tolist(), strict=True):
        counts[t, p] += 1
    return counts


def replace(values, names, name, value):
    changed = list(values)
    changed[names.index(name)] = value
    return changed


def hours(speed, epochs=5, images=60_000):
    return epochs * images / speed / 3600


def fancy_index(p, t, k):
    counts = torch.zeros(k, k, dtype=torch.int64)
    counts[t, p] += 1  # a repeated pair is counted once
    return counts


def off_by_one(p, t, k):
    counts = confusion_matrix(p, t, k)
    counts[0, 1] += 1
    counts[0, 0] -= 1
    return counts


def size_from_data(p, t, k):
    n = int(max(t.max(), p.max())) + 1
    return torch.bincount(t * n + p, minlength=n * n).reshape(n, n)


def seeded_flip(X):
    flip = torch.rand(len(X), 1, 1, 1, generator=torch.Generator().manual_seed(0)) < 0.5
    return torch.where(flip, X.flip(-1), X)


def ablation_result(accuracies):
    """An ablation result with the given {variant: [test accuracy per seed]}, the runs otherwise
    copied from the record's first run."""
    record = json.loads((RESULTS / "experiment_ablation.json").read_text())
    first = record["runs"][0]
    record["runs"] = [first | {"variant": label, "seed": seed, "test_acc": acc}
                      for label, values in accuracies.items() for seed, acc in enumerate(values)]
    return ExperimentResult(EXPERIMENTS["ablation"], record)


ABLATION = ablation_result({"baseline": [0.880, 0.884, 0.878], "no dropout": [0.879, 0.880, 0.881]})
# paired differences in points: -0.1, -0.4, +0.3; mean -0.0667, sd 0.351, standard error 0.203
PAIRED_SD = float(np.std([-0.1, -0.4, 0.3], ddof=1))
UNPAIRED = float(np.sqrt(np.var([88.0, 88.4, 87.8], ddof=1) / 3
                         + np.var([87.9, 88.0, 88.1], ddof=1) / 3))


def adapted_alexnet(channels=1, classes=10, train="head"):
    """torchvision's AlexNet (no weights), adapted for Fashion-MNIST as exercise 5 asks."""
    net = torchvision.models.alexnet(weights=None)
    if channels == 1:
        first = net.features[0]
        net.features[0] = torch.nn.Conv2d(1, 64, 11, stride=4, padding=2)
        net.features[0].weight.data = first.weight.data.sum(dim=1, keepdim=True)
    net.classifier[6] = torch.nn.Linear(4096, classes)
    if train != "all":
        net.requires_grad_(False)
    if train in ("head", "head+conv1"):
        net.classifier[6].requires_grad_(True)
    if train == "head+conv1":
        net.features[0].requires_grad_(True)
    return net


class RepeatGrey(torch.nn.Module):
    def forward(self, x):
        return x.expand(-1, 3, -1, -1)


# check: (keyword arguments, right answers, [(wrong answer, hint key[, other keyword
# arguments])], strings that would give the answer away)
CATALOGUE = {
    "check_alexnet_layers": ({}, [make() for make in NETWORKS_RIGHT.values()],
                             [(make(), key) for make, key, _ in NETWORK_MISTAKES.values()],
                             NETWORK_ANSWER),
    "check_conv_output_size": ({}, [
        conv_size, lambda n, k, s, p: math.floor((n + 2 * p - k) / s) + 1,
        lambda n, k, s, p: float(conv_size(n, k, s, p)),  # 28.0 is 28
    ], [
        (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "conv_not_int"),
        (lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1, "conv_ceil"),
        (lambda n, k, s, p: (n + 2 * p - k) // s, "conv_no_plus_one"),
        (lambda n, k, s, p: (n + p - k) // s + 1, "conv_padding_once"),
        (lambda n, k, s, p: (n - k) // s + 1, "conv_no_padding"),
        (lambda n, k, s, p: n + 2 * p - k + 1, "conv_no_stride"),
        (lambda n, k, s, p: n, "conv_unchanged"),
        (lambda n, k, s, p: n // s, "conv_generic"),
        (lambda n, k, s: n, "conv_call"),
        (lambda n, k, s, p: None, "conv_call"),
    ], ["// s + 1", "/ s) + 1", "2p - k) / s", "2 * padding - kernel) //"]),
    "check_lenet5_param_count": ({}, [LENET5, float(LENET5)], [
        (LENET5 - 248, "lenet_biases"),
        (LENET5 - 156, "lenet_layer_missing"),
        (LENET5 - 48_120, "lenet_layer_missing"),
        (LENET5 + 900, "lenet_c3_full"),
        (LENET5 - 44, "lenet_pool_free"),
        (LENET5 - 44 + 22 * 5, "lenet_pool_kernel"),
        (LENET5 + 840, "lenet_rbf"),
        (61_706, "lenet_modern"),
        (LENET5 + 0.5, "lenet_not_int"),
        ("60000", "not_number"),
        (LENET5 + 1, "lenet_generic"),
    ], ["60,000", "60000", "1,516", "1516"]),
    "check_alexnet_fc_share": ({}, [SHARE, round(SHARE, 2), 0.9], [  # 0.9: "nine in ten"
        (100 * SHARE, "percent"),
        (1 - SHARE, "share_conv"),
        (FC_FLOPS_SHARE, "share_flops"),
        (-1.0, "share_range"),
        (0.5, "share_generic"),
        ("92%", "not_number"),
        (float("nan"), "not_number"),
    ], ["0.92", "92.0%", "92%", "0.920"]),
    "check_alexnet_params": ({}, [
        COUNTS, tuple(COUNTS), np.array(COUNTS), torch.tensor(COUNTS),
        dict(zip(LAYERS, COUNTS, strict=True)), [float(c) for c in COUNTS],
    ], [
        (replace(COUNTS, LAYERS, "conv.3", 256 * 96 * 5 * 5), "params_biases"),
        (replace(COUNTS, LAYERS, "fc.3", 4096 * 4096), "params_biases"),
        (replace(COUNTS, LAYERS, "conv.0", 96 * 3 * 11 * 11 + 96), "params_rgb"),
        (replace(COUNTS, LAYERS, "conv.6", 384 * 256 * 3 + 384), "kernel"),
        (replace(COUNTS, LAYERS, "conv.8", 384 * 3 * 3 + 384), "in_channels"),
        (replace(COUNTS, LAYERS, "fc.0", 256 * 6 * 6 * 4096 + 4096), "params_6x6"),
        (replace(COUNTS, LAYERS, "fc.6", 4096 * 1000 + 1000), "params_classes"),
        (replace(COUNTS, LAYERS, "conv.10", 1), "params_generic"),
        (sum(COUNTS), "layers_total"),
        ([11_712, 614_656], "layers_order"),
        ([0.5] * 8, "layers_order"),
        (None, "layers_order"),
    ], [*(f"{c:,}" for c in COUNTS), *map(str, COUNTS), "96 x 1 x 11 x 11", "4,096 x 10",
        "256 x 384 x 3 x 3"]),
    "check_conv_flops": ({}, [FLOPS, dict(zip(CONVS, FLOPS, strict=True))], [
        (replace(FLOPS, CONVS, "conv.0", FLOPS[0] // 2), "flops_macs"),
        (replace(FLOPS, CONVS, "conv.3", FLOPS[1] + 256 * 26 * 26), "flops_bias"),
        (replace(FLOPS, CONVS, "conv.0", 2 * 96 * 224 * 224 * 121), "flops_input_side"),
        (replace(FLOPS, CONVS, "conv.6", 2 * 384 * 256 * 9), "flops_per_position"),
        (replace(FLOPS, CONVS, "conv.8", 2 * 384 * 144 * 384 * 3), "kernel"),
        (replace(FLOPS, CONVS, "conv.10", 2 * 256 * 144 * 9), "in_channels"),
        (replace(FLOPS, CONVS, "conv.3", 1), "flops_generic"),
        (sum(FLOPS), "layers_total"),
        ([1, 2, 3], "layers_order"),
    ], [*(f"{f:,}" for f in FLOPS), *map(str, FLOPS), "2 x 96 x 54 x 54", "x 26 x 26 x 96"]),
    "check_memory_mb": ({"image_size": 96, "optimizer": "momentum"}, [
        params_of(96) * 12 / 1e6, round(params_of(96) * 12 / 1e6), params_of(96) * 12 / 2**20,
    ], [
        (params_of(224) * 4 / 1e6, "mem_weights_or_numbers", {"image_size": 224,
                                                              "optimizer": "adam"}),
        (params_of(96) * 4 / 1e6, "mem_copies"),
        (params_of(96) * 16 / 1e6, "mem_copies"),
        (params_of(96) * 3 / 1e6, "mem_no_bytes"),
        (params_of(96) * 96 / 1e6, "mem_bits"),
        (params_of(96) * 12 / 1e9, "mem_gb"),
        (params_of(96) * 12, "mem_bytes"),
        (params_of(224) * 12 / 1e6, "mem_image_size"),
        (1000, "mem_generic"),
        ("259 MB", "not_number"),
    ], ["259", "21,598,922", "21598922", "247.2"]),
    "check_sigmoid_grad": ({}, [
        sigmoid_grad, lambda x: torch.sigmoid(x) * torch.sigmoid(-x),
        lambda x: sigmoid_grad(x.double()),
    ], [
        (lambda x: torch.exp(-x) / (1 + torch.exp(-x)) ** 2, "sgrad_overflow_neg"),
        (lambda x: torch.exp(x) / (1 + torch.exp(x)) ** 2, "sgrad_overflow_pos"),
        (torch.sigmoid, "sgrad_itself"),
        (lambda x: x * (1 - x), "sgrad_on_x"),
        (lambda x: 1 - torch.sigmoid(x), "sgrad_one_factor"),
        (lambda x: 1 - torch.sigmoid(x) ** 2, "sgrad_tanh"),
        (lambda x: (x > 0).float(), "sgrad_relu"),
        (torch.zeros_like, "sgrad_zero"),
        (lambda x: 0.5 * sigmoid_grad(x), "sgrad_generic"),
        (lambda x: math.exp(-x), "sgrad_call"),
        (lambda x: sigmoid_grad(x)[:5], "sgrad_call"),
    ], ["s * (1 - s)", "(1 - s)", "sigmoid(x) * (1 -", "(1 - sigma(x))", "0.25"]),
    "check_dead_fraction": ({}, [
        dead_fraction,
        lambda A: sum(bool((A[:, u] == 0).all()) for u in range(A.shape[1])) / A.shape[1],
    ], [
        (dead_fraction_2d, "dead_positions"),
        (lambda A: (A == 0).float().mean().item(), "dead_zeros"),
        (lambda A: (A == 0).any(dim=0).float().mean().item(), "dead_any"),
        (lambda A: ((A > 0).sum(dim=1) == 0).float().mean().item(), "dead_batch_axis"),
        (lambda A: int(((A > 0).sum(dim=0) == 0).sum()), "dead_count"),
        (lambda A: 100 * dead_fraction(A), "percent"),
        (lambda A: (A < 0).all(dim=0).float().mean().item(), "dead_negative"),
        (lambda A: dead_fraction_2d(A) if A.dim() == 2 else 0.3, "dead_conv"),
        (lambda A: 0.5, "dead_generic"),
        (lambda A: (A > 0).sum(dim=0) == 0, "dead_call"),
        (lambda A, B: 0.0, "dead_call"),
    ], ["transpose(0, 1)", "flatten(1)", "amax(", "dim=[0, 2, 3]"]),
    "check_dropout": ({}, [inverted_dropout, bernoulli_dropout, F.dropout,
                           lambda X, p: torch.nn.Dropout(p)(X)], [
        (lambda X, p: X, "dropout_none_dropped"),
        (lambda X, p: masked(X, p, torch.rand(X.shape[1:]) >= p), "dropout_shared_mask"),
        (lambda X, p: masked(X, p, torch.rand(X.shape[-1]) >= p), "dropout_shared_mask"),
        (lambda X, p: masked(X, p, torch.rand(X.shape[0], *[1] * (X.dim() - 1)) >= p),
         "dropout_whole_examples"),
        (lambda X, p: masked(X, p, torch.rand_like(X) < p), "dropout_swapped"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p / 2), "dropout_fraction"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p, 1.0), "dropout_no_scale"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p, 1 / max(p, 0.1)), "dropout_scale_p"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p, 1 - p), "dropout_scale_keep"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p, 1 + torch.rand_like(X)),
         "dropout_scale_mixed"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p, 2 / (1 - p)), "dropout_scale_generic"),
        (lambda X, p: X.mul_(torch.rand_like(X) >= p) / (1 - p) if p < 1 else X.zero_(),
         "dropout_inplace_hint"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p).flatten(), "dropout_shape"),
        (lambda X, p: masked(X, p, (torch.rand(X.shape) >= p).float()).float(), "dropout_dtype"),
        (lambda X, p: masked(X, p, torch.rand_like(X) >= p).numpy(), "dropout_call"),
        (lambda X: X, "dropout_call"),
        (lambda X, p: masked(X, max(p, 0.1), torch.rand_like(X) >= max(p, 0.1)), "dropout_p0"),
        (lambda X, p: X * (torch.rand_like(X) >= p) / (1 - p), "dropout_p1"),
        (lambda X, p: masked(X, p, torch.arange(X.numel()).reshape(X.shape) % 100 >= 100 * p),
         "dropout_fixed_hint"),
    ], ["bernoulli", "full_like(X, 1 - p)", "X * mask / (1 - p)", "zeros_like(X)"]),
    "check_dropout_variance": ({}, [lambda h, p: p / (1 - p) * h**2,
                                    lambda h, p: h * h / (1 - p) - h * h], [
        (lambda h, p: h**2 / (1 - p), "var_second_moment"),
        (lambda h, p: p * (1 - p) * h**2, "var_no_scale"),
        (lambda h, p: p / (1 - p) * h, "var_not_squared"),
        (lambda h, p: (p / (1 - p)) ** 0.5 * abs(h), "var_std"),
        (lambda h, p: 0.0, "var_zero"),
        (lambda h, p: p * h**2, "var_generic"),
        (lambda h: h, "var_call"),
        (lambda h, p: "one", "var_call"),
    ], ["p/(1-p) * h", "p / (1 - p)", "h^2/(1-p) - h^2", "variance is 1", "h^2 / (1-p)"]),
    "check_batched_flip": ({}, [random_flip, RandomHorizontalFlip()], [
        (lambda X: X, "flip_never"),
        (lambda X: X.flip(-1), "flip_always"),
        (lambda X: X.flip(-1) if torch.rand(()) < 0.5 else X, "flip_whole_batch"),
        (lambda X: torch.where((torch.arange(len(X)) % 2 == 0).view(-1, 1, 1, 1), X.flip(-1), X),
         "flip_repeats"),
        (seeded_flip, "flip_repeats"),
        (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.9, X.flip(-1), X), "flip_rate"),
        (lambda X: torch.where(torch.randn(len(X), 1, 1, 1) < 0.5, X.flip(-1), X), "flip_rate"),
        (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.5, X.flip(-2), X), "flip_vertical"),
        (lambda X: random_flip(X) * 0.5, "flip_changed"),
        (lambda X: (X + X.flip(-1)) / 2, "flip_changed"),
        (lambda X: X.half(), "flip_changed"),
        (lambda X: torch.where(torch.rand(len(X)) < 0.5, X.flip(-1), X), "flip_raised"),
        (lambda X, p: X, "flip_raised"),
        (lambda X: [image.flip(-1) for image in X], "flip_not_tensor"),
        (lambda X: X[torch.rand(len(X)) < 0.5].flip(-1), "flip_shape"),
        (flip_in_a_loop, "flip_loop"),
    ], ["torch.rand(len(X), 1, 1, 1)", "torch.where(", "< 0.5"]),
    "check_confusion_matrix": ({}, [confusion_matrix, matrix_with_a_loop,
                                    lambda p, t, k: matrix_with_a_loop(p, t, k).tolist()], [
        (lambda p, t, k: confusion_matrix(p, t, k).T, "cm_transposed"),
        (lambda p, t, k: confusion_matrix(p, t, k) / len(t), "cm_shares"),
        (lambda p, t, k: torch.diag(confusion_matrix(p, t, k).diagonal()), "cm_diagonal"),
        (fancy_index, "cm_total"),
        (size_from_data, "cm_shape"),
        (lambda p, t, k: torch.zeros(k, k, dtype=torch.int64), "cm_empty"),
        (lambda p, t, k: 1 / 0, "cm_raised"),
        (lambda p, t, k: "matrix", "cm_not_tensor"),
        (off_by_one, "cm_wrong"),
    ], ["labels * num_classes", "bincount(pairs", "minlength=num_classes"]),
    "check_run_hours": ({"record": CPU}, [
        hours(CPU["train_source_batch1"]), round(hours(CPU["train_source_batch1"]), 1),
        46.3,  # the second 224 px record, at its speed as printed (1.8 images/s)
        *(hours(r["train_source_batch1"]) for r in recorded_results()
          if r.get("image_size") == 224 and "train_source_batch1" in r),
    ], [
        (hours(CPU["train_source_batch1"]) * 3600, "hours_seconds"),
        (hours(CPU["train_source_batch1"]) * 60, "hours_minutes"),
        (hours(CPU["train_source_batch1"]) / 5, "hours_one_epoch"),
        (hours(CPU["train_source_batch128"]), "hours_batch"),
        (hours(CPU_2["train_library"]), "hours_library"),
        (hours(CPU["train_source_batch1"], images=70_000), "hours_test"),
        (hours(next(r for r in recorded_results() if r.get("image_size") == 67)[
            "train_source_batch1"]), "hours_size"),
        ("eight", "not_number"),
        (1.0, "hours_generic"),
    ], ["44.0", "46.8", "/ 3600", "/ 3,600", "300,000"]),
    "check_paired_error": ({"result": ABLATION}, [
        PAIRED_SD / 3**0.5, round(PAIRED_SD / 3**0.5, 2), np.float64(PAIRED_SD / 3**0.5),
    ], [
        (PAIRED_SD / 3**0.5 / 100, "se_fraction"),
        (PAIRED_SD, "se_sd"),
        (PAIRED_SD / 3, "se_over_n"),
        (UNPAIRED, "se_unpaired"),
        (-0.1 / 1.5, "se_mean"),
        (1.0, "se_generic"),
        ("0.2", "not_number"),
    ], ["0.20 ", "0.203", "0.35"]),
    "check_seeds_needed": ({}, [8, 8.0, np.int64(8)], [
        (4, "seeds_one_mean"),
        (2, "seeds_one_se"),
        (7.5, "seeds_not_int"),
        (16, "seeds_generic"),
        (None, "not_number"),
    ], [" 8 ", "8 seeds", "8 个"]),
    "check_transfer_model": ({}, [
        adapted_alexnet(), torch.nn.Sequential(RepeatGrey(), adapted_alexnet(channels=3)),
    ], [
        (adapted_alexnet(channels=3), "tm_channels"),
        (adapted_alexnet(classes=1000), "tm_classes"),
        (adapted_alexnet(train="all"), "tm_all_trainable"),
        (adapted_alexnet(train="none"), "tm_nothing_trains"),
        (adapted_alexnet(train="head+conv1"), "tm_more"),
        (torchvision.models.alexnet, "tm_generic"),
    ], ["Linear(4096, 10)", "requires_grad_(False)\n", "sum(dim=1"]),
}  # fmt: skip

CHECKS = {name: getattr(ex, name) for name in ex.__all__}
MESSAGES = {name: module.MESSAGES for module in MODULES for name in dir(module)
            if name.startswith("check_")}  # fmt: skip
RIGHT = [(name, i) for name, (_, answers, _, _) in CATALOGUE.items() for i in range(len(answers))]
WRONG = [(name, i, mistake[1]) for name, (_, _, mistakes, _) in CATALOGUE.items()
         for i, mistake in enumerate(mistakes)]  # fmt: skip


def run(name, answer, lang, capsys, **kwargs):
    random.seed(0)
    torch.manual_seed(0)
    result = CHECKS[name](answer, lang=lang, **(CATALOGUE[name][0] | kwargs))
    return result, capsys.readouterr().out


def template_parts(template):
    """The fixed text of a message, between its {fields}."""
    return [part for part in re.split(r"\{[^}]*\}", template) if part.strip()]


def assert_no_answer(name, out):
    for text in CATALOGUE[name][3]:
        assert text not in out, f"{name} gives away {text!r}:\n{out}"


def test_the_catalogue_covers_every_check():
    assert set(CATALOGUE) == set(CHECKS)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("name", "i"), RIGHT, ids=[f"{n}-{i}" for n, i in RIGHT])
def test_a_right_answer_passes(capsys, name, i, lang):
    result, out = run(name, CATALOGUE[name][1][i], lang, capsys)
    assert result is True, out
    assert out.startswith("Correct!" if lang == "en" else "正确！"), out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("name", "i", "key"), WRONG, ids=[f"{n}-{k}-{i}" for n, i, k in WRONG])
def test_a_catalogued_mistake_gets_its_own_hint(capsys, name, i, key, lang):
    answer, _, *kwargs = CATALOGUE[name][2][i]
    result, out = run(name, answer, lang, capsys, **(kwargs[0] if kwargs else {}))
    assert result is False, out
    assert out.startswith("Not yet." if lang == "en" else "还不对。"), out
    hint = out.split("\nHint: " if lang == "en" else "\n提示：", 1)[1]
    text = (_common.SHARED[lang] | MESSAGES[name][lang])[key]
    for part in template_parts(text):
        assert part in hint, (key, part, out)
    assert_no_answer(name, out)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_hint_is_catalogued_and_written_in_both_languages(module):
    en, zh = module.MESSAGES["en"], module.MESSAGES["zh"]
    assert set(en) == set(zh)
    for key in en:
        assert en[key] != zh[key], key
        assert set(re.findall(r"\{(\w+)", en[key])) == set(re.findall(r"\{(\w+)", zh[key])), key
    checks = [name for name in CATALOGUE if MESSAGES[name] is module.MESSAGES]
    caught = {mistake[1] for name in checks for mistake in CATALOGUE[name][2]}
    hints = {key for key in en if not key.endswith("_right")} - DETAIL_KEYS
    assert hints <= caught, f"hints no catalogued mistake reaches: {sorted(hints - caught)}"


def test_the_shared_messages_exist_in_both_languages():
    en, zh = _common.SHARED["en"], _common.SHARED["zh"]
    assert set(en) == set(zh) and all(en[key] != zh[key] for key in en)


def placeholder_cells():
    """(notebook, cell index, the cell's code with the code cell before it when that one only
    defines the placeholder function) for every cell that calls a self-check."""
    cells = []
    for path in sorted(BOOK.glob("*/*.ipynb")):
        code = [(i, "".join(cell["source"])) for i, cell in
                enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"])
                if cell["cell_type"] == "code"]  # fmt: skip
        for (_, before), (i, source) in zip([(None, "")] + code, code, strict=False):
            if re.search(r"^check_\w+\(", source, re.MULTILINE):
                setup = before if before.startswith("def ") else ""
                cells.append((f"{path.parent.name}/{path.name}", i, setup + "\n" + source))
    return cells


PLACEHOLDERS = placeholder_cells()


def offline_alexnet(lang="en"):
    """pretrained_alexnet as it answers offline, without trying the network."""
    return torchvision.models.alexnet(weights=None), False


def test_every_check_is_called_by_a_notebook_in_both_languages():
    called = {(cell[0].split("/")[0], name) for cell in PLACEHOLDERS
              for name in re.findall(r"^(check_\w+)\(", cell[2], re.MULTILINE)}  # fmt: skip
    assert called == {(lang, name) for lang in ("en", "zh") for name in CHECKS}


@pytest.mark.parametrize(("notebook", "index", "code"), PLACEHOLDERS,
                         ids=[f"{nb}:{i}" for nb, i, _ in PLACEHOLDERS])  # fmt: skip
def test_the_placeholder_answer_gets_a_hint_not_the_answer(capsys, notebook, index, code):
    lang = notebook.split("/")[0]
    namespace = {"LANG": lang, "torch": torch, "nn": torch.nn, "cpu": CPU,
                 "records": recorded_results(), "result": recorded_experiment("ablation"),
                 "pretrained_alexnet": offline_alexnet, **CHECKS}
    exec(compile(code, f"{notebook}:{index}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert out.startswith("Not yet." if lang == "en" else "还不对。"), out
    assert ("\nHint: " if lang == "en" else "\n提示：") in out
    for name in re.findall(r"^(check_\w+)\(", code, re.MULTILINE):
        assert_no_answer(name, out)
