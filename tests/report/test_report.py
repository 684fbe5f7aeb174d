"""The HTML report: every section, valid embedded PNGs, no external resources, escaped model
text, the verdict rule, and "not available" lines (never a crash) when artifacts are missing."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from synthrl.errors import SynthRLError
from synthrl.report import SECTIONS, build_report
from synthrl.report.analysis import length_counter
from synthrl.report.data import RunData
from synthrl.report.sections import verdict

from .conftest import PLANTED

HEADINGS = [title for _, title, _ in SECTIONS]


def section(html: str, anchor: str) -> str:
    """The HTML of one section."""
    start = html.index(f'<section id="s-{anchor}">')
    return html[start : html.index("</section>", start)]


def test_complete_report_has_every_section_with_data(complete_report: Path) -> None:
    html = complete_report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for title in HEADINGS:
        assert f">{title}</h2>" in html
    assert "not available" not in html
    summary = section(html, "summary")
    assert "adder" in summary and "hf:fake-base" in summary and "cpu" in summary
    # base 4/12 lenient and 0/12 strict, trained 10/12 in both: 6 and 10 wins, no losses
    assert "Verdict: accuracy improved" in summary
    assert "33.3%" in summary and "83.3%" in summary and "+50.0%" in summary
    stages = section(html, "stages")
    for name in ("keywords", "retrieve", "generate", "verify", "score", "select", "train"):
        assert f"<td>{name}</td>" in stages
    assert "low_agreement 1" in stages and "initial 3, harder 2, easier 1" in stages
    assert '<tr class="total">' in stages
    assert "words (whitespace-separated" in section(html, "lengths")
    assert "real (eval.jsonl evaluation items)" in section(html, "lengths")
    assert "reward" in section(html, "training")
    evaluation = section(html, "evaluation")
    assert "lenient: 6 wins, 0 losses" in evaluation and "strict: 10 wins, 0 losses" in evaluation
    browser = section(html, "browser")
    assert browser.count("<tr>") == 1 + 6  # header + 3 initial, 2 harder, 1 easier samples
    assert browser.index("h-g00001") < browser.index("g00000")  # in ranking order
    assert "potential: rank 1 of 6" in browser and "never solved" in browser
    assert "from g00000" in browser and "Apple" in browser  # a parent, a passage title


def test_every_image_is_an_embedded_png(complete_report: Path) -> None:
    html = complete_report.read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert len(sources) == 4  # difficulty, lengths, similarity, training
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            assert image.size[0] >= 600
    # self-contained: no scripts, stylesheets, frames or remote URLs
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_model_text_is_escaped(complete_report: Path) -> None:
    html = complete_report.read_text(encoding="utf-8")
    assert PLANTED not in html and "<script" not in html
    escaped = "&lt;script&gt;alert(&#x27;planted&#x27;)&lt;/script&gt;"
    assert escaped in section(html, "browser")  # in a generated input
    assert escaped in section(html, "evaluation")  # in a completion


def test_missing_artifacts_give_not_available_lines(complete_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    for stage in ("score", "train", "evaluate"):
        shutil.rmtree(run / stage)
    (run / "select" / "manifest.json").unlink()  # select looks unfinished
    html = build_report(run).read_text(encoding="utf-8")
    assert (run / "report" / "report.html").is_file()
    for title in HEADINGS:
        assert f">{title}</h2>" in html
    assert "not available: stage evaluate has not run" in section(html, "summary")
    assert "not available: stage score has not run" in section(html, "difficulty")
    assert "not available: train/metrics.jsonl not found" in section(html, "training")
    assert "not available: stage evaluate has not run" in section(html, "evaluation")
    stages = section(html, "stages")
    assert "<td>select</td><td>unfinished</td>" in stages
    assert "<td>train</td><td>not run</td>" in stages
    assert "scores not available" in section(html, "browser")
    assert "<img" in section(html, "lengths")  # synthetic data is still there


def test_an_empty_or_odd_directory_does_not_crash(tmp_path: Path) -> None:
    with pytest.raises(SynthRLError, match="no such run directory"):
        build_report(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    html = build_report(empty, tmp_path / "r1.html").read_text(encoding="utf-8")
    assert all(f">{title}</h2>" in html for title in HEADINGS)
    assert "not available: run.json not found" in section(html, "summary")
    # broken artifacts: unparsable results, a histogram with the wrong shape, a bad JSONL row
    odd = tmp_path / "odd"
    for stage in ("adapt", "score", "evaluate"):
        (odd / stage).mkdir(parents=True)
        (odd / stage / "manifest.json").write_text("{}")
    (odd / "run.json").write_text(json.dumps({"task": "x", "config": {"models": "?"}}))
    (odd / "adapt" / "samples.jsonl").write_text('{"id": "a"}\nnot json\n')
    (odd / "score" / "histograms.json").write_text('{"bins": [0, 1]}')
    (odd / "evaluate" / "results.json").write_text("{")
    html = build_report(odd, tmp_path / "r2.html").read_text(encoding="utf-8")
    assert "adapt/samples.jsonl unreadable" in section(html, "browser")
    assert "not available: error while reading the artifacts (KeyError" in html
    assert "evaluate/results.json unreadable" in section(html, "evaluation")


@pytest.mark.parametrize(
    ("strict", "lenient", "claim"),
    [
        ((10, 0, 0.001), (2, 1, 1.0), "the model learnt the answer format"),
        ((10, 0, 0.001), (9, 0, 0.004), "accuracy improved"),
        ((0, 0, 1.0), (1, 9, 0.02), "accuracy got worse"),
        ((3, 1, 0.6), (3, 2, 1.0), "no significant change"),
        ((0, 10, 0.001), (1, 1, 1.0), "no significant change"),
        ((30, 0, 1e-6), (2, 12, 0.01), "the model learnt the answer format but got worse"),
    ],
)
def test_verdict(strict: tuple, lenient: tuple, claim: str) -> None:
    def mode(wins: int, losses: int, p: float) -> dict[str, float]:
        return {"wins": wins, "losses": losses, "mcnemar_p": p}

    text, _ = verdict({"strict": mode(*strict), "lenient": mode(*lenient)})
    assert text.startswith(claim)


def test_lengths_use_the_base_tokenizer_when_it_is_on_disk(tmp_path: Path) -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    model_dir = tmp_path / "tiny-base"
    model_dir.mkdir()
    tok = Tokenizer(WordLevel({"[UNK]": 0, "apples": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.save(str(model_dir / "tokenizer.json"))
    info = {"task": "t", "config": {"models": {"base": f"hf:{model_dir}"}}}
    (tmp_path / "run.json").write_text(json.dumps(info))
    count, unit = length_counter(RunData(tmp_path))
    assert unit.startswith("tokens (the base model's tokenizer, tiny-base/")
    assert count("3 apples, 4 pears.") == 6  # 3 | apples | , | 4 | pears | .
    (tmp_path / "run.json").write_text(json.dumps({"config": {"models": {"base": "hf:nope/x"}}}))
    count, unit = length_counter(RunData(tmp_path))
    assert unit.startswith("words") and count("3 apples, 4 pears.") == 4
