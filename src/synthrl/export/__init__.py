"""Exports of a run for other tools: the synthetic data as a Hugging Face dataset with a card
(`dataset`), the trained model as GGUF for llama.cpp / Ollama (`model`, `gguf`), and the cards
(`cards`)."""
