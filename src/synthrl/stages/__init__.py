"""Pipeline stages in order (paper Algorithm 1). Each module defines one `Stage`."""

from synthrl.pipeline import Stage
from synthrl.stages.adapt import STAGE as ADAPT
from synthrl.stages.evaluate import STAGE as EVALUATE
from synthrl.stages.generate import STAGE as GENERATE
from synthrl.stages.keywords import STAGE as KEYWORDS
from synthrl.stages.pattern import STAGE as PATTERN
from synthrl.stages.probe import STAGE as PROBE
from synthrl.stages.retrieve import STAGE as RETRIEVE
from synthrl.stages.score import STAGE as SCORE
from synthrl.stages.select import STAGE as SELECT
from synthrl.stages.train import STAGE as TRAIN
from synthrl.stages.verify import STAGE as VERIFY

STAGES: list[Stage] = [
    KEYWORDS,
    RETRIEVE,
    PATTERN,
    GENERATE,
    VERIFY,
    PROBE,
    ADAPT,
    SCORE,
    SELECT,
    TRAIN,
    EVALUATE,
]

__all__ = ["STAGES"]
