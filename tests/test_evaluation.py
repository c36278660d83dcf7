"""Predictions, the confusion matrix, the most confident mistakes, and their plots."""

import matplotlib
import pytest
import torch
from torch import nn
from toy_models import FixedLogits, ToyNet

from alexnet_lib import (
    confident_mistakes,
    confusion_matrix,
    evaluate_accuracy,
    load_fashion_mnist,
    plot_confusion_matrix,
    predict,
    show_filters,
    train,
)
from alexnet_lib.evaluation import correct_and_loss, count_correct, evaluate_loss
from alexnet_lib.experiments.records import recorded_results

matplotlib.use("Agg")


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predicted = torch.tensor([0, 1, 1, 2, 0, 2])
    counts = confusion_matrix(predicted, labels, num_classes=3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert counts.sum() == len(labels)


def test_confusion_matrix_matches_a_loop_on_random_data():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (500,), generator=generator)
    predicted = torch.randint(0, 10, (500,), generator=generator)
    expected = torch.zeros(10, 10, dtype=torch.int64)
    for t, p in zip(labels.tolist(), predicted.tolist(), strict=True):
        expected[t, p] += 1
    assert torch.equal(confusion_matrix(predicted, labels, 10), expected)


def test_confusion_matrix_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix(torch.zeros(3), torch.zeros(4), 10)


LABELS = torch.tensor([0, 1, 2, 2])


@pytest.mark.parametrize(("predicted", "labels", "num_classes", "message"), [
    (torch.tensor([0, 1, 3, 2]), LABELS, 3, r"predicted\[2\] is 3, outside the classes 0 to 2"),
    (torch.tensor([0, 1, 2, 2]), torch.tensor([0, 10, 2, 2]), 10, r"labels\[1\] is 10"),
    (torch.tensor([0, -1, 2, 2]), LABELS, 3, r"predicted\[1\] is -1, outside"),
    (torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, -3, 2], dtype=torch.int8), 3,
     r"labels\[2\] is -3"),
    (torch.tensor([0.0, 1.0, 2.7, 2.0]), LABELS, 3, r"predicted holds torch.float32 values.*"
                                                     r"predictions.predicted"),
    (torch.tensor([0, 1, 2, 2]), LABELS.double(), 3, r"labels holds torch.float64.*"
                                                     r"predictions.labels"),
    (torch.tensor([0, 1, 2, 2]), LABELS.half(), 3, "labels holds torch.float16"),
    (torch.tensor([0, 1, 2, 2]).to(torch.complex64), LABELS, 3, "predicted holds torch.complex64"),
    (torch.tensor([0, 1, 2, 0]) == LABELS, LABELS, 3, "predicted holds True/False values"),
    (torch.tensor([0, 1, 2, 2]), LABELS.bool(), 3, "labels holds True/False values"),
    ([0, 1, 2, 2], LABELS, 3, "predicted must be a tensor.*got list"),
    (torch.tensor([0, 1, 2, 2]), None, 3, "labels must be a tensor.*got NoneType"),
    (torch.tensor([0, 1, 2, 2]), LABELS, 0, "num_classes must be a positive whole number"),
    (torch.tensor([0, 1, 2, 2]), LABELS, -3, "num_classes must be a positive whole number"),
    (torch.tensor([0, 1, 2, 2]), LABELS, 3.0, r"num_classes .* got 3\.0"),
    (torch.tensor([0, 1, 2, 2]), LABELS, True, "num_classes .* got True"),
    (torch.tensor([0, 1, 2, 2]), LABELS, "3", "num_classes .* got '3'"),
])  # fmt: skip
def test_confusion_matrix_refuses_what_it_would_miscount(predicted, labels, num_classes,
                                                           message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(predicted, labels, num_classes)


def test_confusion_matrix_takes_any_integer_dtype_and_empty_tensors():
    predicted = torch.tensor([0, 1, 2, 2], dtype=torch.uint8)
    counts = confusion_matrix(predicted, LABELS.int(), 3)
    assert counts.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    empty = torch.empty(0, dtype=torch.int64)
    assert confusion_matrix(empty, empty, 2).tolist() == [[0, 0], [0, 0]]


def used_up(root):
    """The test batches as an iterator that a first pass has already emptied."""
    batches = iter(load_fashion_mnist(8, root=root, device="cpu")[1])
    list(batches)
    return batches


@pytest.mark.parametrize("empty", [
    lambda root: [], lambda root: iter(()), lambda root: (batch for batch in []), used_up,
], ids=["empty list", "empty iterator", "empty generator", "used-up iterator"])  # fmt: skip
@pytest.mark.parametrize("evaluate", [
    evaluate_accuracy, evaluate_loss, predict, correct_and_loss, count_correct,
], ids=lambda f: f.__name__)  # fmt: skip
def test_evaluating_no_batches_is_refused(tiny_root, evaluate, empty):
    root, _ = tiny_root
    with pytest.raises(ValueError, match="yielded no batches"):
        evaluate(ToyNet(), empty(root))


def test_predict_returns_probabilities_and_labels_and_restores_the_mode(tiny_root):
    root, arrays = tiny_root
    _, test_iter = load_fashion_mnist(10, root=root, device="cpu")
    logits = torch.tensor([[0.0, 3.0, 1.0, 0, 0, 0, 0, 0, 0, 0]])
    net = FixedLogits(logits)
    net.train()
    predictions = predict(net, test_iter)
    assert net.training
    assert predictions.probs.shape == (len(arrays["t10k"][1]), 10)
    assert torch.allclose(predictions.probs.sum(dim=1), torch.ones(len(predictions.labels)))
    assert predictions.labels.tolist() == arrays["t10k"][1].tolist()
    assert predictions.accuracy == pytest.approx((predictions.labels == 1).float().mean().item())


def test_confident_mistakes_are_wrong_and_sorted_by_confidence():
    from alexnet_lib import Predictions

    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.95, 0.05]])
    labels = torch.tensor([0, 0, 1, 0, 1])  # wrong: 1 (0.8), 2 (0.6), 3 (0.7), 4 (0.95)
    indices = confident_mistakes(Predictions(probs, labels), k=3)
    assert indices.tolist() == [4, 1, 3]


def test_plots_draw_the_matrix_and_one_image_per_filter():
    counts = torch.tensor([[5, 1], [0, 4]])
    ax = plot_confusion_matrix(counts, ["T-shirt", "Trouser"], lang="zh")
    assert ax.get_xlabel() == "预测类别" and len(ax.texts) == 3  # zero counts are left blank
    conv = nn.Conv2d(1, 20, kernel_size=11)
    axes = show_filters(conv.weight, num_cols=8)
    assert axes.shape == (3, 8) and sum(bool(a.images) for a in axes.flat) == 20
    image = axes.flat[0].images[0].get_array()
    assert image.min() == pytest.approx(0) and image.max() == pytest.approx(1)


def test_recorded_benchmarks_ship_with_the_library():
    records = recorded_results()
    assert records, "alexnet_lib/results/ holds no benchmark record"
    for record in records:
        assert record["file"].endswith(".json")
        for key in ("date", "device", "torch", "image_size", "train_source_batch1",
                    "train_library", "pipeline_source", "pipeline_library"):
            assert key in record, f"{record['file']} lacks {key}"


def test_every_evaluation_is_fp32_even_inside_autocast(tiny_root):
    root, _ = tiny_root
    _, test_iter = load_fashion_mnist(10, root=root, device="cpu")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    X, _ = next(iter(test_iter))
    fp32_logits = net(X)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not torch.equal(net(X).float(), fp32_logits)  # autocast does change the result
        inside = predict(net, test_iter)
        accuracy_inside = evaluate_accuracy(net, test_iter)
    outside = predict(net, test_iter)
    assert torch.equal(inside.probs, outside.probs)
    assert accuracy_inside == outside.accuracy == evaluate_accuracy(net, test_iter)


def test_the_epochs_test_accuracy_is_the_same_evaluation(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    net = ToyNet()  # with dropout: only eval mode gives the same score twice
    history = train(net, train_iter, test_iter, 1, device="cpu", progress=False,
                    precision="bf16")
    assert history.test_acc[-1] == evaluate_accuracy(net, test_iter)
    assert history.test_acc[-1] == predict(net, test_iter).accuracy
