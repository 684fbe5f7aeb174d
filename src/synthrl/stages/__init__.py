"""Pipeline stages in order (paper Algorithm 1). Each module defines one `Stage`."""

from synthrl.pipeline import Stage
from synthrl.stages.keywords import STAGE as KEYWORDS

STAGES: list[Stage] = [KEYWORDS]

__all__ = ["STAGES"]
