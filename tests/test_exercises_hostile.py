"""Every self-check against hostile answers: whatever it is given, in whatever position it takes
an answer, it prints a verdict in English and in Chinese, without raising and without giving
the answer away. The checks are those in `alexnet_lib.book.exercises.__all__`, with their answers
from the catalogue, so a new check is covered as soon as it is catalogued."""

import copy
import math
import random
import re
from fractions import Fraction
from numbers import Real

import numpy as np
import pytest
import torch
from test_exercises_catalogue import CATALOGUE, CHECKS, assert_no_answer

from alexnet_lib.book.exercises import _common, architecture

LANGS = ("en", "zh")
START = {"en": ("Correct!", "Not yet."), "zh": ("正确！", "还不对。")}


class Unprintable:
    """An object that fails whenever it is looked at."""

    def __repr__(self):
        raise ValueError("no repr")

    __str__ = __repr__

    def __float__(self):
        raise ValueError("no float")


class BrokenReal:
    """Registered as a real number, but fails to become a float."""

    def __float__(self):
        raise ArithmeticError("no float")


Real.register(BrokenReal)


def another_device(value):
    """`value` as a tensor on another device: "meta" tensors fail, when read, as a GPU's would
    where the check's own tensors are on the CPU."""
    return torch.as_tensor(value).to("meta")


HOSTILE = {  # name: a factory, so that no test sees what another did to its value
    "huge int": lambda: 10**400,
    "huge negative int": lambda: -(10**400),
    "int too long to print": lambda: 10**5000,
    "huge fraction": lambda: Fraction(10**400, 3),
    "inf": lambda: math.inf,
    "-inf": lambda: -math.inf,
    "nan": lambda: math.nan,
    "negative zero": lambda: -0.0,
    "text": lambda: "42",
    "empty text": lambda: "",
    "bytes": lambda: b"42",
    "None": lambda: None,
    "True": lambda: True,
    "False": lambda: False,
    "complex": lambda: 1 + 2j,
    "list": lambda: [1, 2],
    "empty list": lambda: [],
    "dict": lambda: {"a": 1},
    "numpy float": lambda: np.float64(0.5),
    "numpy int": lambda: np.int64(7),
    "numpy bool": lambda: np.bool_(True),
    "numpy inf": lambda: np.float64("inf"),
    "numpy complex": lambda: np.complex128(1j),
    "numpy array": lambda: np.ones(3),
    "0-d tensor": lambda: torch.tensor(2.0),
    "n-d tensor": lambda: torch.ones(2, 3),
    "empty tensor": lambda: torch.empty(0),
    "nan tensor": lambda: torch.tensor(math.nan),
    "bool tensor": lambda: torch.tensor(True),
    "complex tensor": lambda: torch.tensor(1 + 2j),
    "tensor needing grad": lambda: torch.tensor(1.5, requires_grad=True),
    "n-d tensor needing grad": lambda: torch.ones(3, requires_grad=True),
    "0-d tensor on another device": lambda: torch.empty((), device="meta"),
    "n-d tensor on another device": lambda: torch.empty(3, device="meta"),
    "unprintable object": Unprintable,
    "broken number": BrokenReal,
    "object": object,
}


def floating(tensor):
    return tensor.detach().clone() if tensor.is_floating_point() else tensor.double()


DISGUISES = {  # the right answer in a form that may trip a check up
    "on another device": another_device,
    "needing grad": lambda v: floating(torch.as_tensor(v)).requires_grad_(),
    "as a complex tensor": lambda v: torch.as_tensor(v).to(torch.complex64),
    "as a NumPy array": lambda v: np.asarray(torch.as_tensor(v)),
    "as text": lambda v: str(v.tolist() if isinstance(v, torch.Tensor) else v),
    "in a list": lambda v: [v],
}


def raises(*args):
    raise RuntimeError("the learner's bug")


class Returning(torch.nn.ReLU):
    """A layer that looks like a ReLU and returns a given value: a learner's layer may return
    anything."""

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return self.value


def is_network(name):
    """Whether the check takes a network (an nn.Module), rather than numbers or a function."""
    return isinstance(reference(name), torch.nn.Module)


NETWORK_DISGUISES = {  # the right network in a form that may trip a check up
    "on the CPU": lambda net: copy.deepcopy(net).to_empty(device="cpu"),
    "needing no grad": lambda net: copy.deepcopy(net).requires_grad_(False),
    "in half precision": lambda net: copy.deepcopy(net).half(),
    "in eval mode": lambda net: copy.deepcopy(net).eval(),
    "nested in another Sequential": lambda net: torch.nn.Sequential(copy.deepcopy(net)),
    "as a list of layers": lambda net: list(copy.deepcopy(net).children()),
}


def reference(name):
    """The check's first right answer in the catalogue: a value, or a function."""
    return CATALOGUE[name][1][0]


def positions(name):
    """{position: how to make the check's argument from a hostile value} for every place a
    check takes something from the learner."""
    right = reference(name)
    if is_network(name) and isinstance(right, torch.nn.Sequential):
        return {"as the network": lambda v: v,
                "returned by a layer": lambda v: torch.nn.Sequential(
                    right[0], Returning(v), *list(right)[2:])}  # fmt: skip
    if is_network(name):
        return {"as the network": lambda v: v,
                "returned by the network": lambda v: torch.nn.Sequential(Returning(v))}
    if callable(right):
        return {"as the function": lambda v: v,
                "returned by the function": lambda v: lambda *args: v}  # fmt: skip
    places = {"as the answer": lambda v: v}
    if isinstance(right, list):
        places["as every item"] = lambda v: [v] * len(right)
        places["as the first item"] = lambda v: [v, *right[1:]]
    by_name = next((a for a in CATALOGUE[name][1] if isinstance(a, dict)), None)
    if by_name:
        places["as every value of a dict"] = lambda v: dict.fromkeys(by_name, v)
    return places


def disguised(name, disguise):
    """The right answer (or the reference function's results) in the given disguise."""
    right, change = reference(name), disguises(name)[disguise]
    if is_network(name):
        return change(right)
    return (lambda *args: change(right(*args))) if callable(right) else change(right)


def disguises(name):
    return NETWORK_DISGUISES if is_network(name) else DISGUISES


HOSTILE_CASES = [(name, place, value) for name in CHECKS for place in positions(name)
                 for value in HOSTILE]  # fmt: skip
DISGUISED_CASES = [(name, disguise) for name in CHECKS for disguise in disguises(name)]
FUNCTION_CHECKS = [name for name in CHECKS if callable(reference(name)) and not is_network(name)]
NUMBER_CHECKS = [name for name in CHECKS if isinstance(reference(name), Real)]


def judge(capsys, name, argument, lang):
    """Run a check the way a notebook does; its result and what it printed, checked for what
    every verdict needs: a message in the language asked for, and unless the answer is right,
    nothing that gives it away."""
    random.seed(0)
    torch.manual_seed(0)
    result = CHECKS[name](argument, lang=lang, **CATALOGUE[name][0])
    out = capsys.readouterr().out
    assert result is True or result is False, result
    assert out.strip() and out.startswith(START[lang]), out
    if result is False:
        assert_no_answer(name, out)
    return result, out


def template_parts(key, lang):
    return [part for part in re.split(r"\{[^}]*\}", _common.SHARED[lang][key]) if part.strip()]


def not_unjudged(out, lang):
    """The verdict came from reading the value, not from the last-resort guard."""
    return template_parts("unjudged", lang)[0] not in out


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("name", "place", "value"), HOSTILE_CASES,
                         ids=[f"{n}-{p}-{v}" for n, p, v in HOSTILE_CASES])  # fmt: skip
def test_a_hostile_value_gets_a_verdict(capsys, name, place, value, lang):
    result, out = judge(capsys, name, positions(name)[place](HOSTILE[value]()), lang)
    assert result is False, out
    assert not_unjudged(out, lang), out


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("name", "disguise"), DISGUISED_CASES,
                         ids=[f"{n}-{d}" for n, d in DISGUISED_CASES])  # fmt: skip
def test_the_right_answer_in_disguise_gets_a_verdict(capsys, name, disguise, lang):
    _, out = judge(capsys, name, disguised(name, disguise), lang)
    assert not_unjudged(out, lang), out


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", FUNCTION_CHECKS)
@pytest.mark.parametrize("function", [raises, lambda: 0, lambda *args: Unprintable()],
                         ids=["raises", "takes nothing", "returns an unprintable object"])
def test_a_broken_function_gets_a_verdict(capsys, name, function, lang):
    result, out = judge(capsys, name, function, lang)
    assert result is False and not_unjudged(out, lang), out


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NUMBER_CHECKS)
@pytest.mark.parametrize(("value", "what", "hint"), [
    (10**400, "got_infinite", "not_number"),
    (Fraction(10**400, 3), "got_infinite", "not_number"),
    (math.inf, "got_infinite", "not_number"),
    (math.nan, "got_nan", "not_number"),
    ("42", "got_text", "not_number"),
    (None, "got_none", "not_number"),
    (True, "got_bool", "not_number"),
    (1 + 2j, "got_complex", "not_number"),
    ([1, 2], "got_several", "not_number"),
    (torch.ones(2, 2), "got_several", "not_number"),
    (object(), "got_other", "not_number"),
    (torch.empty((), device="meta"), "got_unreadable", "cpu"),
], ids=lambda v: v if isinstance(v, str) else None)  # fmt: skip
def test_what_is_not_a_number_is_named_with_its_hint(capsys, name, value, what, hint, lang):
    _, out = judge(capsys, name, value, lang)
    for key in (what, hint):
        for part in template_parts(key, lang):
            assert part in out, (key, part, out)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", FUNCTION_CHECKS)
def test_results_on_another_device_are_named_with_the_cpu_hint(capsys, name, lang):
    _, out = judge(capsys, name, disguised(name, "on another device"), lang)
    assert all(part in out for part in template_parts("cpu", lang)), out


@pytest.mark.parametrize("name", ["check_sigmoid_grad", "check_dropout", "check_batched_flip",
                                  "check_confusion_matrix", "check_conv_output_size"])
def test_right_results_needing_grad_pass(capsys, name):
    result, out = judge(capsys, name, disguised(name, "needing grad"), "en")
    assert result is True, out


@pytest.mark.parametrize("lang", LANGS)
def test_what_no_reading_foresaw_is_a_verdict_too(capsys, monkeypatch, lang):
    def broken(*args):
        raise RuntimeError("a reading the check did not foresee")

    monkeypatch.setattr(architecture, "alexnet_layers", broken)
    assert CHECKS["check_alexnet_params"]([1] * 8, lang=lang) is False
    out = capsys.readouterr().out
    assert out.startswith(START[lang][1]) and not not_unjudged(out, lang), out
    assert "RuntimeError" in out and "did not foresee" not in out, out


def test_a_wrong_setting_is_still_raised():
    with pytest.raises(ValueError, match="lang"):
        CHECKS["check_dropout"](raises, lang="fr")
    with pytest.raises(ValueError, match="optimizer"):
        CHECKS["check_memory_mb"](748, optimizer="rmsprop")
    with pytest.raises(TypeError):
        CHECKS["check_run_hours"](44.0)  # the record is missing
