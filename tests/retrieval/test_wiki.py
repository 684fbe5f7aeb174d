"""The real embedded library: 10,033 Wikipedia intros, indexed once per module (~3 s)."""

from pathlib import Path

import pytest

from synthrl.retrieval import Library, open_library, retrieve_for_keywords
from synthrl.task import LibrarySpec


@pytest.fixture(scope="module")
def wiki(tmp_path_factory: pytest.TempPathFactory) -> Library:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNTHRL_HOME", str(home))
        library = open_library(LibrarySpec(), chunk_words=200, progress=False)
        assert library.built and library.folder.parent == home / "indexes"
        assert not open_library(LibrarySpec(), chunk_words=200, progress=False).built
    return library


def test_embedded_library_size(wiki: Library) -> None:
    assert wiki.meta["documents"] == 10_033
    assert 10_033 <= len(wiki) < 11_000  # a few long intros are cut in two


@pytest.mark.parametrize(
    ("keyword", "forms", "in_title"),
    [
        ("fraction", ("fraction",), True),
        ("photosynthesis", ("photosynth",), True),
        ("prime numbers", ("prime",), True),
        ("volcanic eruptions", ("volcan", "erupt"), False),  # Tuff, Mount Pelée, Pompeii, ...
    ],
)
def test_keywords_find_relevant_passages(
    wiki: Library, keyword: str, forms: tuple, in_title: bool
) -> None:
    hits = wiki.search(keyword, 5)
    assert len(hits) == 5
    text = [f"{p.title} {p.text}".lower() for p, _ in hits]
    assert all(any(f in t for f in forms) for t in text)
    assert not in_title or any(f in (hits[0][0].title or "").lower() for f in forms)


def test_retrieval_for_keywords_is_spread_and_distinct(wiki: Library) -> None:
    keywords = ["fraction", "photosynthesis", "percentage", "Fractions"]
    hits = retrieve_for_keywords(wiki, keywords, per_keyword=3)
    assert [h.keyword for h in hits[:3]] == keywords[:3]
    assert len(hits) == 9 and len({h.passage.id for h in hits}) == 9
    assert wiki.get(hits[1].passage.id).title == "Photosynthesis"


def test_library_works_from_a_fresh_process_view(wiki: Library) -> None:
    reopened = Library(wiki.folder, wiki.meta, built=False)
    assert reopened.search("photosynthesis", 1)[0][0].title == "Photosynthesis"
    assert Path(reopened.folder / "passages.jsonl").stat().st_size > 5_000_000
