"""The pipeline's stage names in order, importable without the stages themselves (the CLI's
help and the cards use them; tests check them against `synthrl.stages.STAGES`)."""

STAGE_NAMES = (
    "keywords",
    "retrieve",
    "pattern",
    "generate",
    "verify",
    "probe",
    "adapt",
    "score",
    "select",
    "train",
    "evaluate",
)
