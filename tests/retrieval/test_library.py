import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthrl.errors import SynthRLError
from synthrl.retrieval import open_library
from synthrl.retrieval.index import INDEX_DIR, META
from synthrl.task import LibrarySpec

from .conftest import ROWS, write_jsonl


def _open(source: Path | str, chunk_words: int = 50, **fields: str | None):
    return open_library(LibrarySpec(source=str(source), **fields), chunk_words, progress=False)


def test_jsonl_index_is_saved_beside_and_reused(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "lib" / "facts.jsonl", ROWS)
    first = _open(path)
    assert first.built and len(first) == 4
    assert first.folder.parent == path.parent / INDEX_DIR
    stamp = (first.folder / META).stat().st_mtime_ns
    second = _open(path)
    assert not second.built and second.folder == first.folder
    assert (second.folder / META).stat().st_mtime_ns == stamp
    passage, score = second.search("photosynthesis light", 3)[0]
    assert passage.title == "Photosynthesis" and score > 0
    assert passage.source == "facts.jsonl:2" and passage.id == "facts.jsonl:2#1"
    assert second.get(passage.id) == passage


def test_changed_library_is_reindexed_and_stale_index_removed(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "facts.jsonl", ROWS)
    first = _open(path)
    write_jsonl(path, [*ROWS, {"title": "Glacier", "text": "A glacier is slow moving ice."}])
    second = _open(path)
    assert second.built and len(second) == 5 and second.folder != first.folder
    assert not first.folder.exists()
    assert second.search("glacier", 1)[0][0].title == "Glacier"
    assert _open(path, chunk_words=5).built  # other settings: another index beside it
    assert not _open(path).built


def test_rebuild_flag_forces_a_new_index(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "facts.jsonl", ROWS)
    first = _open(path)
    spec = LibrarySpec(source=str(path))
    again = open_library(spec, 50, progress=False, rebuild=True)
    assert again.built and again.folder == first.folder
    assert again.meta["built_at"] > first.meta["built_at"]
    assert _open(path).meta["built_at"] == again.meta["built_at"]
    assert first.search("lava", 1)[0][0].title == "Volcano"  # an open library keeps working


def test_folder_of_jsonl_and_parquet_with_custom_fields(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    rows = [{"body": r["text"], "name": r["title"]} for r in ROWS]
    write_jsonl(folder / "a.jsonl", rows[:2])
    table = pa.Table.from_pylist(rows[2:])
    (folder / "sub").mkdir()
    pq.write_table(table, folder / "sub" / "b.parquet", row_group_size=1)
    write_jsonl(folder / ".hidden" / "c.jsonl", [{"nothing": 1}])  # skipped
    library = _open(folder, text_field="body", title_field="name")
    assert len(library) == 4 and library.folder.parent == folder / INDEX_DIR
    assert {p.source for p in library} == {
        "a.jsonl:1",
        "a.jsonl:2",
        "sub/b.parquet:1",
        "sub/b.parquet:2",
    }
    assert library.search("lava", 1)[0][0].title == "Volcano"
    assert not _open(folder, text_field="body", title_field="name").built  # index not scanned


def test_long_documents_are_chunked_with_the_title_on_every_chunk(tmp_path: Path) -> None:
    text = " ".join(["alpha"] * 30 + ["omega"] * 30)
    path = write_jsonl(tmp_path / "long.jsonl", [{"title": "Greek", "text": text}])
    library = _open(path, chunk_words=20)
    passages = list(library)
    assert [p.id for p in passages] == ["long.jsonl:1#1", "long.jsonl:1#2", "long.jsonl:1#3"]
    assert all(p.title == "Greek" and len(p.text.split()) == 20 for p in passages)
    assert library.search("greek", 5)[0][1] > 0  # the title is searchable in every chunk
    assert len(library.search("greek", 5)) == 3


def test_relative_path_uses_base_dir_and_missing_title_is_none(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "t" / "x.jsonl", [{"text": "quartz is a mineral"}])
    spec = LibrarySpec(source="x.jsonl")
    library = open_library(spec, 50, progress=False, base_dir=tmp_path / "t")
    assert next(iter(library)).title is None


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(SynthRLError, match="no such file or folder"):
        _open(tmp_path / "absent.jsonl")
    path = write_jsonl(tmp_path / "f.jsonl", [{"body": "x", "name": "y"}])
    with pytest.raises(
        SynthRLError, match=r"f.jsonl:1: no field 'text' \(its fields: body, name\)"
    ):
        _open(path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ROWS[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(SynthRLError, match=r"bad.jsonl:2: not valid JSON"):
        _open(bad)
    empty = write_jsonl(tmp_path / "empty.jsonl", [{"text": " "}, {"text": None}])
    with pytest.raises(SynthRLError, match=r"no passages \(2 records, all with empty text\)"):
        _open(empty)
    (tmp_path / "none").mkdir()
    with pytest.raises(SynthRLError, match=r"holds no \.jsonl"):
        _open(tmp_path / "none")
    pq.write_table(pa.Table.from_pylist([{"body": "x"}]), tmp_path / "p.parquet")
    with pytest.raises(SynthRLError, match=r"no field 'text' \(its fields: body\)"):
        _open(tmp_path / "p.parquet")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SynthRLError, match="expected one of"):
        _open(tmp_path / "notes.txt")
    assert not list((tmp_path / INDEX_DIR).glob(".*"))  # failed builds leave no staging folder


def test_unwritable_index_location_falls_back_to_home(tmp_path: Path, synthrl_home: Path):
    path = write_jsonl(tmp_path / "ro" / "facts.jsonl", ROWS)
    (path.parent / INDEX_DIR).write_text("not a folder")  # fails like a read-only folder, as root
    library = _open(path)
    assert library.folder.parent == synthrl_home / "indexes"
    assert not _open(path).built


def test_hugging_face_dataset_is_streamed(monkeypatch: pytest.MonkeyPatch, synthrl_home: Path):
    import datasets

    calls = []

    def fake_load(name, config=None, split=None, streaming=False):
        calls.append((name, config, split, streaming))
        return iter([{"text": r["text"], "title": r["title"]} for r in ROWS])

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    library = _open("hf:owner/facts")
    assert calls == [("owner/facts", None, "train", True)]
    assert library.folder.parent == synthrl_home / "indexes"
    assert next(iter(library)).source == "hf:owner/facts:1"
    assert not _open("hf:owner/facts").built and len(calls) == 1
    rows = [{"text": "The hub copy changed.", "title": "New"}]
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: iter(rows))
    spec = LibrarySpec(source="hf:owner/facts")
    with open_library(spec, 50, progress=False, rebuild=True) as fresh:
        assert fresh.folder == library.folder and [p.title for p in fresh] == ["New"]
    assert next(iter(library)).title == "Fraction"  # an open library still reads its own texts


def test_unreachable_hugging_face_dataset_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'owner/facts' on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(SynthRLError, match=r"could not read Hugging Face dataset 'owner/facts'"):
        _open("hf:owner/facts")
