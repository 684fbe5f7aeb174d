from pathlib import Path

from synthrl.retrieval import open_library, retrieve_for_keywords
from synthrl.task import LibrarySpec

from .conftest import write_jsonl


def _library(tmp_path: Path):
    rows = [{"title": f"Cat {i}", "text": f"cats are pets number {i} meow"} for i in range(6)]
    rows += [{"title": f"Dog {i}", "text": f"dogs are pets number {i} woof"} for i in range(6)]
    rows.append({"title": "Cat 0", "text": "Cats are pets  number 0 meow"})  # a duplicate text
    rows.append({"title": "Rock", "text": "granite is a rock"})
    path = write_jsonl(tmp_path / "pets.jsonl", rows)
    return open_library(LibrarySpec(source=str(path)), 50, progress=False)


def test_round_robin_spreads_over_keywords(tmp_path: Path) -> None:
    library = _library(tmp_path)
    hits = retrieve_for_keywords(library, ["cat meow", "dog woof", "granite"], per_keyword=3)
    assert [h.keyword for h in hits] == ["cat meow", "dog woof", "granite"] + [
        "cat meow",
        "dog woof",
    ] * 2
    assert all(h.score > 0 for h in hits)
    assert [h.rank for h in hits if h.keyword == "granite"] == [1]
    limited = retrieve_for_keywords(library, ["cat meow", "dog woof", "granite"], 3, limit=4)
    assert [h.keyword for h in limited] == ["cat meow", "dog woof", "granite", "cat meow"]


def test_duplicates_are_skipped_and_the_next_hit_taken(tmp_path: Path) -> None:
    library = _library(tmp_path)
    hits = retrieve_for_keywords(library, ["meow", "cat"], per_keyword=4)
    texts = [" ".join(h.passage.text.lower().split()) for h in hits]
    assert len(hits) == 6  # 7 cat rows, one a duplicate text: 4 + 2, not 4 + 4
    assert len(set(texts)) == 6 and len({h.passage.id for h in hits}) == 6
    cat_ranks = [h.rank for h in hits if h.keyword == "cat"]
    assert cat_ranks == sorted(cat_ranks) and cat_ranks[0] > 1  # its top hit was taken


def test_same_query_keywords_merge_and_unknown_find_nothing(tmp_path: Path) -> None:
    library = _library(tmp_path)
    hits = retrieve_for_keywords(library, ["Cats", "cat", "zebra", ""], per_keyword=2)
    assert {h.keyword for h in hits} == {"Cats"} and len(hits) == 2
    assert retrieve_for_keywords(library, [], 3) == []
    row = hits[0].to_dict()
    assert set(row) == {"id", "title", "text", "source", "keyword", "rank", "score"}
