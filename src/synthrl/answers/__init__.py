"""The one answer checker: extraction, equivalence, majority vote and rewards.

Every stage that judges an answer (the instructor's majority vote, the base-model probe, the
pass-rate score, the GRPO reward, the evaluation) calls this package, so that one completion is
never judged two ways.

    from synthrl.answers import extract, judge, majority_vote
    extract("... #### 1,000 dollars", "number")            # '1000'
    judge("<answer>B</answer>", "B", "choice")              # True
    majority_vote(completions, "math", min_agreement=0.5)   # Vote(answer=..., agreement=...)

Kinds: `number`, `math`, `choice`, `yes_no`, `label`, `text`; options in `options.py`.
Modules: `markers` (find `####`, `\\boxed{}`, `<answer>`), `numbers` (exact rationals),
`choices` (letters, yes/no, labels), `extract`, `equivalence` (fast paths + math-verify),
`mathpool` (process pool with per-check timeouts), `judge`, `vote`, `reward` (TRL and veRL).
Benchmark: `python bench/answers.py [--quick]`.
"""

from synthrl.answers.extract import extract, follows_format, format_answer, required_format
from synthrl.answers.judge import equivalent, explain, judge, judge_many
from synthrl.answers.options import KINDS, AnswerOptionError, Kind, parse_cli_options
from synthrl.answers.reward import compute_score, make_reward_fn, reward_fn
from synthrl.answers.vote import Vote, group_counts, majority_vote, vote_answers, vote_settled

__all__ = [
    "KINDS",
    "AnswerOptionError",
    "Kind",
    "Vote",
    "compute_score",
    "equivalent",
    "explain",
    "extract",
    "follows_format",
    "format_answer",
    "group_counts",
    "judge",
    "judge_many",
    "majority_vote",
    "make_reward_fn",
    "parse_cli_options",
    "required_format",
    "reward_fn",
    "vote_answers",
    "vote_settled",
]
