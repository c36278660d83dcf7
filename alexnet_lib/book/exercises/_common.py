"""What every self-check shares: its verdict in two languages, mistakes kept as data, and a
careful reading of the learner's values, which may be anything at all."""

import functools
import inspect
import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from numbers import Complex, Real
from typing import Any, NamedTuple

import numpy as np
import torch

from ...errors import UsageError


def bilingual(**messages: tuple[str, str]) -> dict[str, dict[str, str]]:
    """{"en": {key: English}, "zh": {key: Chinese}} from key=(English, Chinese) pairs."""
    return {lang: {key: pair[i] for key, pair in messages.items()}
            for i, lang in enumerate(("en", "zh"))}  # fmt: skip


SHARED = bilingual(
    right=("Correct! {}", "正确！{}"),
    wrong=("Not yet. {}\nHint: {}", "还不对。{}\n提示：{}"),
    blank=("That is still the placeholder the exercise starts from.",
           "这还是练习一开始给出的占位答案。"),
    off=("That is not the number asked for.", "这不是题目要的数。"),
    not_number=("Give one number.", "请给出一个数。"),
    percent=("Give a fraction between 0 and 1, not a percentage.",
             "请给出 0 到 1 之间的比例，而不是百分数。"),
    raised=("For {case} your function raised {error}.", "{case} 时，你的函数抛出了 {error}。"),
    returned=("For {case} your function returned {got}.", "{case} 时，你的函数返回了 {got}。"),
    # What an answer is instead of one number: the verdict's first line, before "not_number".
    got_none=("That is None: a function without return gives None.",
              "这是 None：没有 return 语句的函数返回的就是 None。"),
    got_bool=("That is {value}, a truth value, not a number.", "这是真值 {value}，不是数。"),
    got_text=("That is text (a str), not a number, even when it holds digits.",
              "这是文本（str），不是数，即使里面写的是数字。"),
    got_complex=("That is a complex number: the answer is a real one.", "这是复数：答案是实数。"),
    got_nan=("That is nan, \"not a number\", what an undefined operation such as 0/0 gives.",
             "这是 nan，即“不是数”，0/0 这类没有定义的运算会得到它。"),
    got_infinite=("That is infinite, or too large for a float (beyond about 1.8e308).",
                  "这是无穷大，或者大到浮点数放不下（超过约 1.8e308）。"),
    got_several=("That holds {count} values, not one.", "这里有 {count} 个值，而不是一个。"),
    got_other=("That is an object of type {kind}, not a number.",
               "这是 {kind} 类型的对象，不是数。"),
    got_unreadable=("That is a tensor on the device \"{device}\", whose values can't be read.",
                    "这是计算设备“{device}”上的张量，它的值读不出来。"),
    cpu=("Only values that can be read on the CPU can be checked: a Python number (.item()), a "
         "list (.tolist()) or a tensor on the CPU (.cpu()). A \"meta\" tensor has a shape but "
         "no values.",
         "只有能在 CPU 上读取的值才能检查：Python 数（.item()）、列表（.tolist()）或 CPU "
         "上的张量（.cpu()）。“meta”张量只有形状，没有值。"),
    unjudged=("The check could not read this answer: reading it raised {error}.",
              "检查无法读取这个答案：读取时出现了 {error}。"),
    unjudged_hint=("Give the answer in the form the exercise asks for: Python numbers, lists, "
                   "tensors on the CPU, or a function that returns them.",
                   "请按练习要求的形式给出答案：Python 数、列表、CPU 上的张量，"
                   "或者返回这些值的函数。"),
)  # fmt: skip


class SetupError(UsageError):
    """A check called with a setting it does not know (a language, an optimiser): a mistake in
    the notebook, raised rather than judged."""


class Verdict:
    """Prints a check's verdict in `lang` ("en" or "zh") from its chapter's `messages`."""

    def __init__(self, messages: dict[str, dict[str, str]], lang: str) -> None:
        if lang not in SHARED:
            raise SetupError(f"lang must be one of {sorted(SHARED)}, got {lang!r}.")
        self.text = SHARED[lang] | messages[lang]

    def say(self, key: str, **facts: Any) -> str:
        return self.text[key].format(**facts)

    def ok(self, detail: str, **facts: Any) -> bool:
        print(self.text["right"].format(self.say(detail, **facts)))
        return True

    def fail(self, detail: str, hint: str, **facts: Any) -> bool:
        print(self.text["wrong"].format(self.say(detail, **facts), self.say(hint, **facts)))
        return False


def first_hint(mistakes: Iterable[tuple[Any, str]], matches: Callable, default: str | None):
    """The hint key of the first (mistake, hint key) pair whose mistake `matches`."""
    return next((key for mistake, key in mistakes if matches(mistake)), default)


class Unreadable(Exception):
    """A learner's tensor whose values can't be read on the CPU (a "meta" tensor has none)."""

    def __init__(self, device: object) -> None:
        super().__init__(f"no values to read on the device {device}")
        self.device = str(device)


def on_cpu(tensor: torch.Tensor) -> torch.Tensor:
    """A learner's tensor as a plain tensor on the CPU, detached: the check's own tensors are
    there, and a learner's may be on a GPU or need grad. Raises Unreadable when it can't move."""
    try:
        return tensor.detach().cpu().as_subclass(torch.Tensor)
    except Exception as err:  # a "meta" tensor, a device gone: whatever it raises, no values
        raise Unreadable(tensor.device) from err


def to_python(value: object) -> object:
    """A learner's tensor (on any device) or NumPy value as Python numbers and lists, via
    .tolist(); any other value as it is. Raises Unreadable for a tensor without values."""
    if isinstance(value, torch.Tensor):
        return on_cpu(value).tolist()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


class Reading(NamedTuple):
    """A learner's value read as one finite real `number`; or None, and `what` it is instead
    (the key of a message saying so) with the `facts` that message needs."""

    number: float | None
    what: str = ""
    facts: dict[str, Any] = {}


def read_number(value: object) -> Reading:
    """One finite real number, whatever form it comes in: a Python, NumPy or Decimal number, or
    a one-element tensor (on any device, needing grad or not) or array. Never raises."""
    try:
        return _read_number(value)
    except Unreadable as lost:
        return Reading(None, "got_unreadable", {"device": lost.device})
    except Exception:  # a learner's object may fail in any way when read
        return Reading(None, "got_other", {"kind": type(value).__name__})


def _read_number(value: object) -> Reading:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        size = value.numel() if isinstance(value, torch.Tensor) else value.size
        if size != 1:
            return Reading(None, "got_several", {"count": size})
        value = to_python(value.reshape(()))
    value = to_python(value)  # a NumPy scalar
    if value is None:
        return Reading(None, "got_none")
    if isinstance(value, bool):
        return Reading(None, "got_bool", {"value": value})
    if isinstance(value, (str, bytes)):
        return Reading(None, "got_text")
    if isinstance(value, (Real, Decimal)):
        try:
            number = float(value)
        except OverflowError:  # an int or a Fraction beyond any float
            return Reading(None, "got_infinite")
        if math.isnan(number):
            return Reading(None, "got_nan")
        return Reading(number) if math.isfinite(number) else Reading(None, "got_infinite")
    if isinstance(value, Complex):
        return Reading(None, "got_complex")
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return Reading(None, "got_several", {"count": len(value)})
    return Reading(None, "got_other", {"kind": type(value).__name__})


def as_number(value: object) -> float | None:
    """`value` as a finite real number (see read_number), or None."""
    return read_number(value).number


def shown(value: object, width: int = 60) -> str:
    """repr(value), cut to `width` characters: whatever the value, never fails."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__, an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= width else text[: width - 3] + "..."


def error_text(err: BaseException) -> str:
    """What an exception says, as "Type: message", never failing on a broken message."""
    try:
        message = str(err)
    except Exception:
        message = ""
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def self_check(check: Callable[..., bool]) -> Callable[..., bool]:
    """`check`, made to answer every input with a verdict. The checks read learner values with
    the helpers above; should some value still defeat them, the learner reads that the answer
    could not be read, rather than a traceback. A SetupError (a wrong lang) is still raised."""
    signature = inspect.signature(check)

    @functools.wraps(check)
    def judged(*args: Any, **kwargs: Any) -> bool:
        bound = signature.bind(*args, **kwargs)  # a call with missing arguments raises here
        try:
            return check(*args, **kwargs)
        except SetupError:
            raise
        except Exception as err:
            lang = bound.arguments.get("lang", signature.parameters["lang"].default)
            return Verdict({"en": {}, "zh": {}}, lang).fail("unjudged", "unjudged_hint",
                                                            error=type(err).__name__)

    return judged


def call(fn: Callable, *args: Any) -> tuple[Any, str | None]:
    """fn(*args) and None, or None and what it raised: a learner's function may fail anyhow."""
    try:
        return fn(*args), None
    except (Exception, SystemExit) as err:  # exit() in a learner's function, too
        return None, error_text(err)


def check_number(verdict: Verdict, answer: object, targets: list[tuple[float, dict]],
                 mistakes: list[tuple[Any, str]], close: Callable[[float, float], bool],
                 prefix: str, **facts: Any) -> bool:
    """A number: right (`prefix`_right, with the target's facts) when `close` to a target; else
    the first mistake (a wrong value, or a predicate) it is close to or meets names the hint,
    `prefix`_generic when none does and for the placeholder 0."""
    number, what, about = read_number(answer)
    if number is None:
        hint = "cpu" if what == "got_unreadable" else "not_number"
        return verdict.fail(what, hint, **(facts | about))
    found = next((extra for value, extra in targets if close(number, value)), None)
    if found is not None:
        return verdict.ok(f"{prefix}_right", **facts, **found)
    if number == 0:
        return verdict.fail("blank", f"{prefix}_generic", **facts)
    hint = first_hint(mistakes, lambda m: m(number) if callable(m) else close(number, m),
                      f"{prefix}_generic")
    return verdict.fail("off", hint, **facts)


def check_calls(verdict: Verdict, fn: Callable, cases: list[tuple], formula: Callable,
                mistakes: list[tuple[Callable, str]], describe: Callable[..., str], prefix: str,
                rel_tol: float = 0.0, abs_tol: float = 0.0, **facts: Any) -> bool:
    """A function of numbers: fn(*case) must be close to formula(*case) on every case (where it
    is None, any answer is); else the first mistake (a wrong formula) close on every case names
    the hint. Messages: `prefix`_right, _call (how fn is called) and _generic for the rest."""
    answers = []
    for case in cases:
        got, error = call(fn, *case)
        if error:
            return verdict.fail("raised", f"{prefix}_call", case=describe(*case), error=error)
        answers.append(got)
    readings = [read_number(a) for a in answers]
    numbers = [reading.number for reading in readings]

    def close(number: float, value: float | None) -> bool:
        return value is None or math.isclose(number, value, rel_tol=rel_tol, abs_tol=abs_tol)

    def agree(formula: Callable) -> list[bool]:
        return [n is not None and close(n, formula(*case))
                for n, case in zip(numbers, cases, strict=True)]  # fmt: skip

    if all(agree(formula)):
        return verdict.ok(f"{prefix}_right", **facts)
    i = agree(formula).index(False)
    if readings[i].what == "got_unreadable":
        return verdict.fail("returned", "cpu", case=describe(*cases[i]), got=shown(answers[i]))
    hint = (f"{prefix}_call" if None in numbers
            else first_hint(mistakes, lambda m: all(agree(m)), f"{prefix}_generic"))
    got = shown(answers[i]) if numbers[i] is None else f"{numbers[i]:.6g}"
    return verdict.fail("returned", hint, case=describe(*cases[i]), got=got)
