"""Table-driven checks: hand-written completion / gold pairs across every answer kind."""

from __future__ import annotations

from typing import Any

import pytest

from synthrl.answers import extract, judge, judge_many

NLI = {"labels": ["entailment", "neutral", "contradiction"]}
MED = {
    "options": {
        "A": "Disclose the error to the patient and put it in the operative report",
        "B": "Tell the attending that he cannot fail to disclose this mistake",
        "C": "Report the physician to the ethics committee",
        "D": "Refuse to dictate the operative report",
    }
}
DRUGS = {"options": {"A": "Tetracycline", "B": "Tetracycline and doxycycline", "C": "Aspirin"}}

# (completion, gold, kind, opts, expected verdict)
PMATRIX = "\\begin{pmatrix} -2 \\\\ -14 \\end{pmatrix}"

# fmt: off
CASES: list[tuple[str, str, str, dict[str, Any], bool]] = [
    # ---- number: the `####` format and its variants
    ("She makes 9 * 2 = $18 every day.\n#### 18", "18", "number", {}, True),
    ("#### 18 dollars", "18", "number", {}, True),
    ("#### $18", "18", "number", {}, True),
    ("#### $18.00", "18", "number", {}, True),
    ("#### 18.", "18", "number", {}, True),
    ("#### 1,000", "1000", "number", {}, True),
    ("#### 1000", "1,000", "number", {}, True),
    ("#### 1,450,000", "1450000", "number", {}, True),
    ("#### -3", "-3", "number", {}, True),
    ("#### −3", "-3", "number", {}, True),
    ("#### -3", "3", "number", {}, False),
    ("#### 0.50", "0.5", "number", {}, True),
    ("#### .5", "1/2", "number", {}, True),
    ("#### 1/2", "0.5", "number", {}, True),
    ("#### 3/4", "0.75", "number", {}, True),
    ("#### 50%", "50", "number", {}, True),
    ("#### 7 hours", "7", "number", {}, True),
    ("#####  42", "42", "number", {}, True),
    ("#### **42**", "42", "number", {}, True),
    ("#### 1e3", "1000", "number", {}, True),
    ("#### 18", "19", "number", {}, False),
    ("#### 18", "18.5", "number", {}, False),
    ("#### 1,000", "1", "number", {}, False),
    ("#### 0.333", "1/3", "number", {}, False),
    ("#### 0.333", "1/3", "number", {"rel_tol": 0.01}, True),
    ("#### 100", "101", "number", {"rel_tol": 0.001}, False),
    ("#### 12\n\nNext, a new question: 5 + 5 = 10", "12", "number", {}, True),
    ("First #### 5 then more work\n#### 7", "7", "number", {}, True),
    ("#### 2,125", "2125", "number", {}, True),
    ("#### 2,125", "2,125", "number", {}, True),
    ("Total: 16 - 3 - 4 = <<16-3-4=9>>9 eggs\n#### 9", "9", "number", {}, True),
    # ---- number: fallbacks (boxed, answer tags, "the answer is", last number)
    ("So the total is \\boxed{18}.", "18", "number", {}, True),
    ("So the total is \\boxed{\\$1,000}.", "1000", "number", {}, True),
    ("So the total is \\boxed{18 \\text{ dollars}}.", "18", "number", {}, True),
    ("\\boxed{\\frac{1}{2}}", "0.5", "number", {}, True),
    ("\\boxed{-\\frac{3}{4}}", "-0.75", "number", {}, True),
    ("\\boxed{x = 5}", "5", "number", {}, True),
    ("\\boxed{10{,}000}", "10000", "number", {}, True),
    ("<answer>42</answer>", "42", "number", {}, True),
    ("The answer is 42.", "42", "number", {}, True),
    ("The final answer is: $1,234.", "1234", "number", {}, True),
    ("She has 5 apples and buys 3 more, so 8 apples.", "8", "number", {}, True),
    ("She has 5 apples and buys 3 more, so 8 apples.", "5", "number", {}, False),
    ("The result is -7", "-7", "number", {}, True),
    ("Between 2019-2020 the value rose by 12", "12", "number", {}, True),
    ("No numbers here at all.", "0", "number", {}, False),
    ("", "0", "number", {}, False),
    ("#### eighteen", "18", "number", {}, False),
    ("The answer is 18 or 19", "18", "number", {}, True),
    ("\\boxed{18}\n#### 19", "19", "number", {}, True),
    ("#### 18", "18", "number", {"strict": True}, True),
    ("\\boxed{18}", "18", "number", {"strict": True}, False),
    ("#### 18\nLet me check: 9 * 2 = 18", "18", "number", {"strict": True}, False),
    ("The answer is 18", "18", "number", {"strict": True}, False),
    ("\\boxed{18}", "18", "number", {"strict": True, "fmt": "boxed"}, True),
    # ---- math: boxed, fbox, "the answer is", equivalent forms
    ("Thus $\\boxed{\\frac{1}{2}}$.", "\\frac12", "math", {}, True),
    ("Thus $\\boxed{\\frac12}$.", "0.5", "math", {}, True),
    ("Thus $\\boxed{\\dfrac{3}{4}}$.", "\\frac{3}{4}", "math", {}, True),
    ("\\boxed{0.75}", "\\frac34", "math", {}, True),
    ("\\boxed{1/2}", "\\frac{1}{2}", "math", {}, True),
    ("\\fbox{7}", "7", "math", {}, True),
    ("\\boxed 7", "7", "math", {}, True),
    ("The answer is $\\frac{14}{3}$.", "\\frac{14}{3}", "math", {}, True),
    ("The final answer is $x=5$", "x=5", "math", {}, True),
    ("\\boxed{5}", "x=5", "math", {}, True),
    ("\\boxed{2\\sqrt{2}}", "\\sqrt{8}", "math", {}, True),
    ("\\boxed{\\sqrt{2}/2}", "\\frac{1}{\\sqrt{2}}", "math", {}, True),
    ("\\boxed{(3, \\pi/2)}", "\\left( 3, \\frac{\\pi}{2} \\right)", "math", {}, True),
    ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "(3,\\frac{\\pi}{2})", "math", {}, True),
    ("\\boxed{(3, \\pi)}", "\\left( 3, \\frac{\\pi}{2} \\right)", "math", {}, False),
    ("\\boxed{\\{1,2,3\\}}", "\\{3,2,1\\}", "math", {}, True),
    ("\\boxed{[1,2)}", "[1,2)", "math", {}, True),
    ("\\boxed{(1,2]}", "[1,2)", "math", {}, False),
    ("\\boxed{(-\\infty, 0]}", "(-\\infty,0]", "math", {}, True),
    ("\\boxed{x^2+2x+1}", "(x+1)^2", "math", {}, True),
    ("\\boxed{x^2+2x+2}", "(x+1)^2", "math", {}, False),
    ("\\boxed{6-5i}", "6 - 5i", "math", {}, True),
    ("\\boxed{90^\\circ}", "90", "math", {}, True),
    ("\\boxed{90}", "90^\\circ", "math", {}, True),
    ("\\boxed{10,\\!080}", "10080", "math", {}, True),
    ("\\boxed{10080}", "10,\\!080", "math", {}, True),
    ("\\boxed{3\\sqrt{13}}", "3\\sqrt{13}", "math", {}, True),
    ("\\boxed{\\pi}", "\\pi", "math", {}, True),
    ("\\boxed{3.14}", "\\pi", "math", {}, False),
    ("\\boxed{\\text{Evelyn}}", "\\text{Evelyn}", "math", {}, True),
    ("\\boxed{{\\frac{1}{2}}}", "\\frac{1}{2}", "math", {}, True),
    ("\\boxed{\\frac{1}{3}}", "0.333", "math", {}, False),
    ("\\boxed{-\\frac{\\pi}{6}}", "-\\frac{\\pi}{6}", "math", {}, True),
    ("First \\boxed{3} then corrected: \\boxed{4}", "4", "math", {}, True),
    ("First \\boxed{3} then corrected: \\boxed{4}", "3", "math", {}, False),
    ("\\boxed{}", "0", "math", {}, False),
    ("\\boxed{unbalanced", "1", "math", {}, False),
    ("No box, last number 12", "12", "math", {}, True),
    ("No box, last number 12", "12", "math", {"strict": True}, False),
    ("\\boxed{12}", "12", "math", {"strict": True}, True),
    (f"\\boxed{{{PMATRIX}}}", PMATRIX, "math", {}, True),
    ("\\boxed{1 \\pm \\sqrt{19}}", "1 \\pm \\sqrt{19}", "math", {}, True),
    ("\\boxed{1.25}", "\\frac{5}{4}", "math", {}, True),
    ("\\boxed{\\$18.90}", "\\$18.90", "math", {}, True),
    ("\\boxed{\\$18.90}", "18.9", "math", {}, True),
    # ---- choice: tags, (B), B), "the answer is", option text, ambiguity
    ("<think>reasoning</think> <answer>B</answer>", "B", "choice", {}, True),
    ("<answer>B</answer>", "C", "choice", {}, False),
    ("<answer> (B) </answer>", "B", "choice", {}, True),
    ("<answer>b</answer>", "B", "choice", {}, True),
    ("<answer>B.</answer>", "B", "choice", {}, True),
    ("<answer>Option B</answer>", "B", "choice", {}, True),
    ("<answer>B) Tell the attending</answer>", "B", "choice", {}, True),
    ("<ANSWER>D</ANSWER>", "D", "choice", {}, True),
    ("<answer>B or C</answer>", "B", "choice", {}, False),
    ("<answer>B, C</answer>", "B", "choice", {}, False),
    ("The answer is B or C", "B", "choice", {}, False),
    ("The answer is B or C", "C", "choice", {}, False),
    ("The answer is B", "B", "choice", {}, True),
    ("The answer is (B).", "B", "choice", {}, True),
    ("The correct answer is: **C**", "C", "choice", {}, True),
    ("Answer: D", "D", "choice", {}, True),
    ("The correct option is A because it follows.", "A", "choice", {}, True),
    ("Therefore the answer is B. A is wrong because ...", "B", "choice", {}, True),
    ("A is wrong, C is wrong, so\n(B)", "B", "choice", {}, True),
    ("A is wrong, C is wrong, so\nB)", "B", "choice", {}, True),
    ("Reasoning...\n\nB", "B", "choice", {}, True),
    ("Reasoning...\n\n**B**", "B", "choice", {}, True),
    ("I pick option C in the end.", "C", "choice", {}, True),
    ("(A) is too strong; (D) is the best fit.", "D", "choice", {}, True),
    ("<answer>E</answer>", "E", "choice", {"letters": "ABCDE"}, True),
    ("<answer>E</answer>", "E", "choice", {}, False),
    ("<answer>Tell the attending that he cannot fail to disclose this mistake</answer>", "B",
     "choice", MED, True),
    ("<answer>tell the attending that he cannot fail to disclose this mistake.</answer>", "B",
     "choice", MED, True),
    ("The answer is: Report the physician to the ethics committee", "C", "choice", MED, True),
    ("I would refuse to dictate the operative report", "D", "choice", MED, True),
    ("<answer>B</answer>", "Tell the attending that he cannot fail to disclose this mistake",
     "choice", MED, True),
    ("<answer>A</answer>", "Tell the attending that he cannot fail to disclose this mistake",
     "choice", MED, False),
    ("<answer>Tetracycline and doxycycline</answer>", "B", "choice", DRUGS, True),
    ("<answer>Tetracycline</answer>", "A", "choice", DRUGS, True),
    ("<answer>Aspirin or tetracycline</answer>", "C", "choice", DRUGS, False),
    ("<answer>B. Aspirin</answer>", "B", "choice", DRUGS, True),
    ("<answer>3</answer>", "B", "choice", {"options": {"A": "2", "B": "3", "C": "4"}}, True),
    ("<answer>A patient should rest</answer>", "C", "choice",
     {"options": {"A": "Surgery", "B": "Antibiotics", "C": "A patient should rest"}}, True),
    ("<answer>B</answer>", "B", "choice", {"strict": True}, True),
    ("The answer is B", "B", "choice", {"strict": True}, False),
    ("<answer>B", "B", "choice", {}, True),
    ("<answer>B", "B", "choice", {"strict": True}, False),
    ("\\boxed{C}", "C", "choice", {}, True),
    ("\\boxed{\\text{(C)}}", "C", "choice", {}, True),
    ("A patient with fever needs care.", "A", "choice", {}, False),
    ("No letter anywhere in this text.", "A", "choice", {}, False),
    # ---- yes_no
    ("<answer>Yes</answer>", "yes", "yes_no", {}, True),
    ("<answer>yes.</answer>", "Yes", "yes_no", {}, True),
    ("<answer>No</answer>", "yes", "yes_no", {}, False),
    ("<answer>True</answer>", "yes", "yes_no", {}, True),
    ("<answer>false</answer>", "no", "yes_no", {}, True),
    ("<answer>yes or no</answer>", "yes", "yes_no", {}, False),
    ("Yes, the contract allows it.", "yes", "yes_no", {}, True),
    ("No. The clause forbids it.", "no", "yes_no", {}, True),
    ("The clause is clear. The answer is no.", "no", "yes_no", {}, True),
    ("The clause is clear.\nSo: yes", "yes", "yes_no", {}, True),
    ("It depends on the jurisdiction.", "yes", "yes_no", {}, False),
    ("\\boxed{No}", "no", "yes_no", {}, True),
    ("Yes, the contract allows it.", "yes", "yes_no", {"strict": True}, False),
    # ---- label (NLI-style), case- and synonym-tolerant
    ("<answer>Entailment</answer>", "entailment", "label", NLI, True),
    ("<answer>ENTAILMENT</answer>", "Entailment", "label", NLI, True),
    ("<answer>neutral</answer>", "entailment", "label", NLI, False),
    ("<answer>contradictory</answer>", "contradiction", "label", NLI, True),
    ("<answer>The premise entails the hypothesis</answer>", "entailment", "label", NLI, True),
    ("<answer>neutral or contradiction</answer>", "neutral", "label", NLI, False),
    ("The relationship is contradiction.", "contradiction", "label", NLI, True),
    ("It does not entail it, and does not contradict it; neutral.", "neutral", "label", NLI,
     True),
    ("<answer>Neutral (not entailment)</answer>", "neutral", "label", NLI, True),
    ("<answer>unrelated</answer>", "neutral", "label",
     {**NLI, "synonyms": {"neutral": ["unrelated"]}}, True),
    ("<answer>unrelated</answer>", "neutral", "label", NLI, False),
    ("<answer>positive</answer>", "Positive", "label", {"labels": ["Positive", "Negative"]}, True),
    ("The relationship is contradiction.", "contradiction", "label", {**NLI, "strict": True},
     False),
    # ---- text: normalised exact match
    ("<answer>Paris</answer>", "paris", "text", {}, True),
    ("<answer>The Eiffel Tower.</answer>", "eiffel tower", "text", {}, True),
    ("<answer>Lyon</answer>", "Paris", "text", {}, False),
    ("The answer is Paris.", "Paris", "text", {}, True),
    ("Let me think.\nParis", "Paris", "text", {}, True),
    ("Let me think.\nParis, France", "Paris", "text", {}, False),
    ("<answer>  New   York </answer>", "new york", "text", {}, True),
    ("<answer>Paris</answer>", "Paris", "text", {"strict": True}, True),
    ("Paris", "Paris", "text", {"strict": True}, False),
]
# fmt: on


@pytest.mark.parametrize(("completion", "gold", "kind", "opts", "expected"), CASES)
def test_table(completion: str, gold: str, kind: str, opts: dict[str, Any], expected: bool) -> None:
    assert judge(completion, gold, kind, **opts) is expected, extract(completion, kind, **opts)


def test_table_size() -> None:
    assert len(CASES) >= 150
    assert {kind for _, _, kind, _, _ in CASES} == {
        "number",
        "math",
        "choice",
        "yes_no",
        "label",
        "text",
    }


def test_batch_agrees_with_single() -> None:
    groups: dict[str, tuple[str, dict[str, Any], list[tuple[str, str, bool]]]] = {}
    for completion, gold, kind, opts, expected in CASES:
        key = kind + repr(sorted(opts.items()))
        groups.setdefault(key, (kind, opts, []))[2].append((completion, gold, expected))
    for kind, opts, rows in groups.values():
        got = judge_many([r[0] for r in rows], [r[1] for r in rows], kind, **opts)
        assert got == [r[2] for r in rows]
