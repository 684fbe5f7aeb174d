"""`cap_label_share` (issue 21): over random labels and agreements, the largest label's share of
the kept rows ends at most the cap whenever two labels remain; kept + dropped are the input;
only the most common labels lose rows, their lowest-agreement ones; one label loses nothing."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from synthrl.synthesis.balance import cap_label_share

AGREEMENTS = (1.0, 0.75, 0.6667, 0.5)


def random_rows(rng: random.Random) -> list[dict[str, Any]]:
    labels = rng.sample(["positive", "negative", "neutral", "A", "B"], rng.randint(1, 4))
    weights = [rng.random() ** 2 for _ in labels]  # often one label far ahead
    return [
        {
            "id": f"s{i}",
            "label": rng.choices(labels, weights)[0],
            "agreement": rng.choice(AGREEMENTS),
        }
        for i in range(rng.randint(0, 40))
    ]


def test_cap_properties_over_random_rows() -> None:
    rng = random.Random(21)
    for _ in range(2000):
        rows = random_rows(rng)
        cap = rng.choice((0.34, 0.4, 0.5, 0.6, 0.75, 1.0))
        kept, dropped = cap_label_share(rows, cap)
        assert all(d.pop("reason") == "label_share" for d in dropped)
        ids = [r["id"] for r in kept + dropped]
        assert sorted(ids) == sorted(r["id"] for r in rows)  # a permutation of the input
        assert kept == [r for r in rows if r["id"] in {k["id"] for k in kept}]  # input order
        before, after = Counter(r["label"] for r in rows), Counter(r["label"] for r in kept)
        if len(after) >= 2:
            assert max(after.values()) / len(kept) <= cap
        if not before or max(before.values()) / len(rows) <= cap or len(before) == 1:
            assert not dropped  # nothing to cap, or a cap cannot help
        losers = {d["label"] for d in dropped}
        for label in losers:
            for other in set(before) - losers:  # only the most common labels lose rows
                assert before[label] >= before[other] and after[label] + 1 >= after[other]
            lowest_kept = min((r["agreement"] for r in kept if r["label"] == label), default=1.0)
            assert all(d["agreement"] <= lowest_kept for d in dropped if d["label"] == label)


def test_two_labels_at_half_end_balanced_dropping_low_agreement_then_later_rows() -> None:
    rows = [
        {"id": "p1", "label": "positive", "agreement": 1.0},
        {"id": "p2", "label": "positive", "agreement": 0.6667},
        {"id": "n1", "label": "negative", "agreement": 1.0},
        {"id": "p3", "label": "positive", "agreement": 1.0},
        {"id": "p4", "label": "positive", "agreement": 1.0},
    ]
    kept, dropped = cap_label_share(rows, 0.5)
    assert [r["id"] for r in kept] == ["p1", "n1"]
    assert [(d["id"], d["reason"]) for d in dropped] == [
        ("p2", "label_share"),
        ("p4", "label_share"),
        ("p3", "label_share"),
    ]
    assert "reason" not in rows[1]  # the input rows are not changed


def test_one_label_or_no_rows_drop_nothing() -> None:
    rows = [{"id": str(i), "label": "yes", "agreement": 1.0} for i in range(5)]
    assert cap_label_share(rows, 0.5) == (rows, [])
    assert cap_label_share([], 0.5) == ([], [])


def test_ties_between_labels_drop_the_label_seen_first() -> None:
    rows = [{"id": str(i), "label": label, "agreement": 1.0} for i, label in enumerate("BABAC")]
    kept, dropped = cap_label_share(rows, 0.34)
    # B 2, A 2, C 1: B (tied, seen first) loses its later row, then A (2 of 4) its later row
    assert [d["id"] for d in dropped] == ["2", "3"]
    assert [r["id"] for r in kept] == ["0", "1", "4"]
