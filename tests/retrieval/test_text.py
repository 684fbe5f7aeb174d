from synthrl.retrieval.text import Vocabulary, chunk_text, stem


def test_chunks_are_balanced_and_keep_every_word() -> None:
    text = " ".join(f"w{i}" for i in range(250))
    chunks = chunk_text(text, 200)
    assert [len(c.split()) for c in chunks] == [125, 125]
    assert " ".join(chunks).split() == text.split()


def test_short_text_is_one_chunk_and_empty_text_none() -> None:
    assert chunk_text("  one two three ", 200) == ["one two three"]
    assert chunk_text(" \n\t ", 200) == []


def test_chunks_keep_original_spacing() -> None:
    text = "First line.\nSecond  line here.\n\nThird paragraph ends."
    chunks = chunk_text(text, 4)
    assert chunks == ["First line.\nSecond  line", "here.\n\nThird paragraph ends."]
    assert all(len(c.split()) <= 4 for c in chunk_text(text, 3))


def test_stem_folds_plurals_only() -> None:
    assert [
        stem(w) for w in ["fractions", "studies", "boxes", "photosynthesis", "bus", "glass"]
    ] == [
        "fraction",
        "study",
        "box",
        "photosynthesis",
        "bus",
        "glass",
    ]


def test_vocabulary_drops_stopwords_and_unknown_words_at_query_time() -> None:
    vocab = Vocabulary()
    ids = vocab.ids("The fractions of a Fraction", grow=True)
    assert len(ids) == 2 and ids[0] == ids[1]
    assert vocab.ids("fraction volcano", grow=False) == [ids[0]]
