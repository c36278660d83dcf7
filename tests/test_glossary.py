"""The glossary decides one term per concept; the book's pages use those terms.

`book/glossary.yml` lists, for each concept, the English term, the book's Chinese term, and
the Chinese variants the book does not use. `scripts/glossary.py` writes the glossary pages
from it and holds the checks that these tests run on every page of the book.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_spec = importlib.util.spec_from_file_location("glossary", ROOT / "scripts" / "glossary.py")
glossary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(glossary)

GLOSSARY = glossary.load()
TERMS = glossary.terms(GLOSSARY)
PAGES = [(lang, path) for lang in ("en", "zh") for path in glossary.checked_pages(lang)]


def _page_id(page: tuple[str, Path]) -> str:
    return str(page[1].relative_to(ROOT))


# --- The glossary itself -----------------------------------------------------------------


def test_every_term_has_both_languages_once():
    for term in TERMS:
        assert term.get("en") and term.get("zh"), term
        assert term.get("d2l") != term["zh"], f"{term['en']}: give d2l only where it differs"
        assert term["zh"] not in term.get("reject", []), f"{term['en']} rejects its own term"
    for lang in ("en", "zh"):
        names = [term[lang] for term in TERMS]
        assert len(names) == len(set(names)), f"a {lang} term is listed twice"


def test_the_glossary_terms_pass_their_own_check():
    """No term the book uses is a variant that another term rejects."""
    for term in TERMS:
        found = glossary.rejected_terms(term["zh"], GLOSSARY)
        assert not found, f"{term['zh']} ({term['en']}) is rejected as {found}"


def test_fast_track_and_quick_mode_are_kept_apart():
    pairs = [tuple(pair) for pair in GLOSSARY["apart"]]
    assert ("fast track", "ALEXNET_QUICK") in pairs
    assert ("快速通道", "ALEXNET_QUICK") in pairs


# --- The glossary pages ------------------------------------------------------------------


def test_glossary_pages_are_generated_from_the_glossary():
    stale = [str(path.relative_to(ROOT)) for path in glossary.stale_pages(GLOSSARY)]
    assert not stale, f"out of date: {stale}; run: python scripts/glossary.py --fix"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_glossary_page_lists_every_term(lang):
    page = glossary.page_path(lang).read_text(encoding="utf-8")
    for term in TERMS:
        assert f"| {term[lang]} |" in page.replace("\\|", "|")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_intro_links_to_the_glossary(lang):
    intro = (ROOT / "book" / lang / "intro.md").read_text(encoding="utf-8")
    assert "](glossary.md)" in intro


# --- The book's pages --------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_uses_the_glossary_terms(page):
    lang, path = page
    found = glossary.page_problems(path, lang, GLOSSARY)
    assert not found, "\n".join(found)


# --- The checks, on made-up text ---------------------------------------------------------


def test_a_rejected_variant_is_found_with_the_term_to_use():
    found = glossary.rejected_terms("最大汇聚层之后训练三个周期", GLOSSARY)
    assert [(variant, preferred) for variant, preferred, _ in found] == [
        ("汇聚", "池化"),
        ("周期", "迭代周期"),
    ]


def test_a_variant_inside_an_allowed_term_is_not_a_mistake():
    text = "用单周期调度训练三个迭代周期；数值精度是 bf16；重启 Jupyter 内核；继续训练"
    assert glossary.rejected_terms(text, GLOSSARY) == []
    assert glossary.rejected_terms("测试精度", GLOSSARY)[0][:2] == ("精度", "准确率")


def test_english_variants_match_whole_words_outside_code():
    assert glossary.rejected_terms("运行这个 notebook。", GLOSSARY)[0][:2] == ("notebook", "笔记本")
    assert glossary.rejected_terms(glossary.prose("导入 `alexnet_lib.notebook`。"), GLOSSARY) == []
    assert glossary.rejected_terms("notebooks", GLOSSARY) == []


def test_half_width_punctuation_next_to_chinese_is_found():
    assert glossary.half_width_punctuation("迭代周期 (epoch)")
    assert glossary.half_width_punctuation("准确率:0.9")
    assert glossary.half_width_punctuation("p = 0.5, 其余")
    assert not glossary.half_width_punctuation("迭代周期（epoch）：0.9，和 1. 列表")
    assert not glossary.half_width_punctuation(glossary.prose("调用 `f(x, y)` 即可，$f(x)$ 也是"))


def test_names_kept_apart_may_not_share_a_paragraph():
    pairs = GLOSSARY["apart"]
    together = "The CPU fast track: set `ALEXNET_QUICK=1`."
    assert glossary.names_together(together, pairs) == [("fast track", "ALEXNET_QUICK")]
    apart = "The CPU fast track trains at 67 px.\n\nQuick mode (`ALEXNET_QUICK=1`) is for tests."
    assert glossary.names_together(apart, pairs) == []


def test_code_comments_and_literals_are_read_but_not_code():
    source = 'label = {"zh": "迭代周期 (epoch)"}  # 汇聚\n%env ALEXNET_QUICK=1\nx = notebook\n'
    assert list(glossary.code_texts(source)) == [
        ("literal", '"zh"'),
        ("literal", '"迭代周期 (epoch)"'),
        ("comment", "# 汇聚"),
    ]
