"""What every self-check shares: its verdict in two languages, and mistakes kept as data."""

import math
from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any


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
)  # fmt: skip


class Verdict:
    """Prints a check's verdict in `lang` ("en" or "zh") from its chapter's `messages`."""

    def __init__(self, messages: dict[str, dict[str, str]], lang: str) -> None:
        if lang not in SHARED:
            raise ValueError(f"lang must be one of {sorted(SHARED)}, got {lang!r}.")
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


def as_number(value: object) -> float | None:
    """A finite real number (or a one-element tensor) as a float; anything else is None."""
    if hasattr(value, "numel") and hasattr(value, "item"):
        value = value.item() if value.numel() == 1 else None
    if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def call(fn: Callable, *args: Any) -> tuple[Any, str | None]:
    """fn(*args) and None, or None and what it raised: a learner's function may fail anyhow."""
    try:
        return fn(*args), None
    except Exception as err:
        return None, f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def check_number(verdict: Verdict, answer: object, targets: list[tuple[float, dict]],
                 mistakes: list[tuple[Any, str]], close: Callable[[float, float], bool],
                 prefix: str, **facts: Any) -> bool:
    """A number: right (`prefix`_right, with the target's facts) when `close` to a target; else
    the first mistake (a wrong value, or a predicate) it is close to or meets names the hint,
    `prefix`_generic when none does and for the placeholder 0."""
    number = as_number(answer)
    if number is None:
        return verdict.fail("off", "not_number", **facts)
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
    numbers = [as_number(a) for a in answers]

    def close(number: float, value: float | None) -> bool:
        return value is None or math.isclose(number, value, rel_tol=rel_tol, abs_tol=abs_tol)

    def agree(formula: Callable) -> list[bool]:
        return [n is not None and close(n, formula(*case))
                for n, case in zip(numbers, cases, strict=True)]  # fmt: skip

    if all(agree(formula)):
        return verdict.ok(f"{prefix}_right", **facts)
    i = agree(formula).index(False)
    hint = (f"{prefix}_call" if None in numbers
            else first_hint(mistakes, lambda m: all(agree(m)), f"{prefix}_generic"))
    got = repr(answers[i])[:60] if numbers[i] is None else f"{numbers[i]:.6g}"
    return verdict.fail("returned", hint, case=describe(*cases[i]), got=got)
