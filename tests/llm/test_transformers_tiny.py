"""The `transformers` backend on a tiny Llama built here (no hub): its next token is a fixed
function of the current one, so every completion is known in advance. Covers tokenizers with
no pad token (Llama 3) or pad id 0, completions cut at EOS by position, the model's own
generation_config defaults switched off, and `close()`."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, Ledger, Request

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

# "abcdef": transformers' stop-string matcher tokenizes it to learn how tokens join
WORDS = ["<pad>", "<eos>", "<unk>", "a", "b", "d", "e", "f", "g", "h", "x", "y", "u", "abcdef"]
ID = {w: i for i, w in enumerate(WORDS)}
# greedy next token: a b <eos> | d e f g h d e ... (never ends) | x x x ... (y if repeats are
# penalised) | u: any token, with similar (distinct) probabilities
NEXT = {"a": "b", "b": "<eos>", "d": "e", "e": "f", "f": "g", "g": "h", "h": "d", "y": "<eos>"}
HIDDEN = 16


def build(folder: Path, pad: str | None) -> Path:
    """Save the tiny model and a word-level tokenizer (pad token `pad`, or none) in `folder`,
    with a generation_config.json that samples (top-k 2) and penalises repeats, as Qwen's do."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = Tokenizer(models.WordLevel(ID, unk_token="<unk>"))
    words.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=words, eos_token="<eos>", unk_token="<unk>", pad_token=pad
    )
    config = LlamaConfig(
        vocab_size=len(WORDS),
        hidden_size=HIDDEN,
        intermediate_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=ID["<eos>"],
        pad_token_id=ID[pad] if pad else None,
    )
    torch.manual_seed(0)
    net = LlamaForCausalLM(config)
    with torch.no_grad():  # the residual stream is the current token's one-hot embedding
        net.model.layers[0].self_attn.o_proj.weight.zero_()
        net.model.layers[0].mlp.down_proj.weight.zero_()
        net.model.embed_tokens.weight.copy_(torch.eye(len(WORDS), HIDDEN))
        head = torch.zeros(len(WORDS), HIDDEN)
        for word, after in NEXT.items():
            head[ID[after], ID[word]] = 10.0
        head[ID["x"], ID["x"]], head[ID["y"], ID["x"]] = 10.0, 9.0
        head[:, ID["u"]] = torch.linspace(1.0, 0.0, len(WORDS))  # distinct, none dominant
        net.lm_head.weight.copy_(head / HIDDEN**0.5)  # the final RMSNorm scales by sqrt(HIDDEN)
    gen = net.generation_config
    gen.do_sample, gen.temperature, gen.top_k, gen.top_p = True, 0.7, 2, 0.8
    gen.repetition_penalty = 1.5
    net.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def backend(folder: Path, batch_size: int = 8):
    from synthrl.llm.transformers_backend import TransformersBackend

    return TransformersBackend(folder, f"hf:{folder.name}", threads=1, batch_size=batch_size)


def answer(folder: Path, requests: list[Request], batch_size: int = 8) -> list:
    llm = LLM(backend(folder, batch_size), None, Ledger(), "hf", show_progress=False)
    return llm.generate(requests, stage="t")


def summary(result) -> tuple[str, str, int]:
    sample = result.samples[0]
    return sample.text, sample.finish_reason, sample.completion_tokens


@pytest.fixture(scope="module")
def no_pad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("no_pad"), pad=None)


@pytest.fixture(scope="module")
def pad_zero(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("pad_zero"), pad="<pad>")


GREEDY = [Request(prompt="a", max_tokens=4), Request(prompt="d", max_tokens=4)]
EXPECTED = [("b", "stop", 1), ("e f g h", "length", 4)]


def test_tokenizer_without_pad_token_batches(no_pad: Path) -> None:
    together = answer(no_pad, GREEDY)
    assert [summary(r) for r in together] == EXPECTED
    assert [summary(r) for r in answer(no_pad, GREEDY, batch_size=1)] == EXPECTED


def test_pad_id_zero_rows_end_at_their_eos(pad_zero: Path) -> None:
    assert [summary(r) for r in answer(pad_zero, GREEDY)] == EXPECTED
    assert [summary(r) for r in answer(pad_zero, GREEDY, batch_size=1)] == EXPECTED


def test_stop_strings_in_a_batch(pad_zero: Path) -> None:
    requests = [Request(prompt=p, max_tokens=6, stop=("g",)) for p in ("a", "d")]
    first, second = answer(pad_zero, requests)
    assert summary(first) == ("b", "stop", 1)
    assert second.samples[0].text.split() == ["e", "f"]
    assert second.samples[0].finish_reason == "stop"
    assert second.samples[0].completion_tokens == 3  # e f g: generation stopped at g


def test_model_generation_config_does_not_penalise_repeats(no_pad: Path) -> None:
    """The model's generation_config.json asks for a repetition penalty of 1.5, which would
    turn `x x x x` into `y`; synthrl samples without one, everywhere."""
    result = answer(no_pad, [Request(prompt="x", max_tokens=4)])[0]
    assert summary(result) == ("x x x x", "length", 4)


def test_model_generation_config_does_not_truncate_sampling(no_pad: Path) -> None:
    """From `u` every token has a similar probability: with the model's top-k 2 only two
    could be drawn; pure temperature sampling draws most of them."""
    result = answer(no_pad, [Request(prompt="u", n=40, temperature=1.0, max_tokens=1)])[0]
    assert len(result.samples) == 40
    assert len(set(result.texts)) > 5


def test_sampler_settings_report_pure_temperature_sampling(no_pad: Path) -> None:
    settings = backend(no_pad).sampler_settings()
    assert (settings["top_k"], settings["top_p"], settings["min_p"]) == (0, 1.0, 0.0)
    assert settings["repetition_penalty"] == 1.0


def test_close_frees_the_model(no_pad: Path) -> None:
    engine = backend(no_pad)
    net = weakref.ref(engine.net)
    engine.close()
    gc.collect()
    assert net() is None
    engine.close()  # idempotent
    with pytest.raises(SynthRLError, match="closed"):
        engine.generate([Request(prompt="a")], lambda i, r: None)
