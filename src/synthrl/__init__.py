"""synthrl: adapt a language model to a task from its definition alone (arXiv 2505.17063)."""

__version__ = "0.1.0"
