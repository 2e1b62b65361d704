"""The README and docs/*.md: every relative link and image resolves (its #anchor too), and every
repository path they quote as code (`core/…`, `app/…`, `bench/…`, …) exists."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
HANDWRITTEN = [p for p in PAGES if p.name != "results.md"]  # results.md quotes the paths the benches recorded
REPO_ROOTS = ("core/", "app/", "bench/", "tests/", "packaging/", "resources/", "docs/")
MD = MarkdownIt("commonmark").enable("table")


def _inline(page: Path) -> list:
    return [child for tok in MD.parse(page.read_text(encoding="utf-8")) if tok.type == "inline"
            for child in tok.children or []]


@functools.cache
def anchors(page: Path) -> frozenset[str]:
    return frozenset(_anchors(page))


def _anchors(page: Path) -> Iterator[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    tokens = MD.parse(page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            slug = re.sub(r"[^\w\- ]", "", tokens[i + 1].content.lower()).replace(" ", "-")
            seen[slug] = seen.get(slug, -1) + 1
            yield slug if seen[slug] == 0 else f"{slug}-{seen[slug]}"


def links(page: Path) -> list[str]:
    return [t.attrs.get("href") or t.attrs.get("src") for t in _inline(page) if t.type in ("link_open", "image")]


def broken_links(page: Path) -> list[str]:
    broken = []
    for href in links(page):
        url = urlsplit(str(href))
        if url.scheme or url.netloc:
            continue
        target = (page.parent / unquote(url.path)).resolve() if url.path else page
        if not target.exists():
            broken.append(f"{href}: no such file")
        elif url.fragment and target.suffix == ".md" and url.fragment not in anchors(target):
            broken.append(f"{href}: no heading with that anchor in {target.name}")
    return broken


def missing_paths(page: Path, root: Path = ROOT) -> list[str]:
    quoted = [re.match(r"[\w./-]+", t.content).group(0) for t in _inline(page)
              if t.type == "code_inline" and t.content.startswith(REPO_ROOTS)]
    return [q for q in quoted if not (root / q).exists()]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert not broken_links(page)


@pytest.mark.parametrize("page", HANDWRITTEN, ids=lambda p: p.name)
def test_every_quoted_repository_path_exists(page: Path) -> None:
    assert not missing_paths(page)


def test_the_checks_find_a_broken_link_a_wrong_anchor_and_a_missing_path(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    page = tmp_path / "page.md"
    page.write_text("# Title here\n\n[ok](#title-here) [bad](#nowhere) [gone](missing.md) `core/` `core/no_such.py: f`\n")
    assert broken_links(page) == ["#nowhere: no heading with that anchor in page.md", "missing.md: no such file"]
    assert missing_paths(page, tmp_path) == ["core/no_such.py"]


def test_the_readme_stays_a_five_minute_read_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert "make run" in text and "make test" in text
