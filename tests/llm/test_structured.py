"""Structured replies (issue 17): a request's JSON Schema reaches each backend that can constrain
decoding to it, in that backend's own terms (a llama.cpp grammar, OpenAI's `response_format`,
vLLM's guided decoding); it is part of the cache key; backends that cannot constrain (and
`llm.structured: false`) get the request without it; a server that refuses `response_format` is
asked again without it, once per schema."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.base import schema_text
from synthrl.llm.fake import FakeBackend
from synthrl.llm.grammar import json_grammar
from synthrl.llm.llamacpp_batch import BatchedSampler
from synthrl.llm.openai_backend import OpenAIBackend
from synthrl.llm.vllm_backend import structured_kwargs
from synthrl.synthesis.reply_schemas import PATTERN, SAMPLE, keywords_schema
from tests.llm.loopback import send_completion

CHAT = [{"role": "user", "content": "Write one example as JSON."}]
REPLY = '{"input": "What is 2 + 3?", "output": "2 + 3 = 5\\n#### 5"}'


def test_schema_is_canonical_json_kept_by_sub_requests_and_in_the_key() -> None:
    spaced = json.dumps(json.loads(SAMPLE), indent=2)
    request = Request.chat(CHAT, n=3, schema=spaced)
    assert request.schema == SAMPLE and request.json_schema() == json.loads(SAMPLE)
    assert request.with_samples(1, 2).schema == SAMPLE
    plain = Request.chat(CHAT, n=3)
    keys = {r.sample_key("llamacpp", "m", 0) for r in (plain, request, Request.chat(CHAT, n=3))}
    assert len(keys) == 2  # with and without the schema
    other = Request.chat(CHAT, schema=PATTERN).sample_key("llamacpp", "m", 0)
    assert other not in keys
    with pytest.raises(ValueError):
        Request.chat(CHAT, schema="[1, 2]")
    with pytest.raises(ValueError):
        Request.chat(CHAT, schema="{not json")


class _Plain(FakeBackend):
    """A backend that cannot constrain decoding (as transformers)."""

    structured = False


def test_backends_that_cannot_constrain_get_and_cache_the_request_without_it(
    tmp_path: Path,
) -> None:
    cache = CallCache(tmp_path / "c.sqlite")
    plain = _Plain(responder=lambda request, index: REPLY)
    llm = LLM(plain, cache, Ledger(), "m", show_progress=False)
    llm.generate([Request.chat(CHAT)], stage="t")  # cached before schemas existed
    answer = llm.generate([Request.chat(CHAT, schema=SAMPLE)], stage="t")[0]
    assert answer.samples[0].cached and plain.calls[0].schema is None
    assert len(plain.calls) == 1 and len(cache) == 1

    able = FakeBackend(responder=lambda request, index: REPLY)
    LLM(able, None, Ledger(), "m", show_progress=False).generate(
        [Request.chat(CHAT, schema=SAMPLE)], stage="t"
    )
    assert able.calls[0].schema == SAMPLE
    off = FakeBackend(responder=lambda request, index: REPLY)  # llm.structured: false
    LLM(off, None, Ledger(), "m", show_progress=False, structured=False).generate(
        [Request.chat(CHAT, schema=SAMPLE)], stage="t"
    )
    assert off.calls[0].schema is None


def test_the_grammars_of_the_reply_schemas_parse_in_llama_cpp() -> None:
    """llama.cpp parses each grammar (no model needed: a grammar sampler without a vocabulary
    is NULL only when the grammar does not parse), and strings admit no raw control character
    (strict `json.loads` rejects a raw newline inside a string)."""
    import llama_cpp

    for schema in (SAMPLE, PATTERN, keywords_schema(8)):
        grammar = json_grammar(schema)
        assert grammar.startswith("char ::= ") and "\\x00-\\x1F" in grammar
        sampler = llama_cpp.llama_sampler_init_grammar(None, grammar.encode(), b"root")
        assert sampler, grammar
        llama_cpp.llama_sampler_free(sampler)
    assert not llama_cpp.llama_sampler_init_grammar(None, b"root ::= (", b"root")
    sample = json_grammar(SAMPLE)
    assert '"\\"input\\"" space ":" space string' in sample  # input first, then output
    assert sample.index("input-kv") < sample.index("output-kv")


class _RecordingLlama:
    """Stands in for llama_cpp.Llama: records create_completion's arguments."""

    def __init__(self, model_path: str, n_ctx: int, **kwargs: Any) -> None:
        self.metadata: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return list(range(len(text.split())))

    def create_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {
            "choices": [{"text": REPLY, "finish_reason": "stop"}],
            "usage": {"completion_tokens": 9},
        }


def test_llamacpp_one_at_a_time_decodes_under_the_schemas_grammar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    from synthrl.llm.llamacpp_backend import LlamaCppBackend

    monkeypatch.setattr(llama_cpp, "Llama", _RecordingLlama)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    backend = LlamaCppBackend(gguf, "gguf:m", n_ctx=512, parallel=1)
    LLM(backend, None, Ledger(), "m", show_progress=False).generate(
        [Request(prompt="a b", temperature=0.7, schema=SAMPLE), Request(prompt="c")], stage="t"
    )
    constrained, free = backend.engine.calls
    assert isinstance(constrained["grammar"], llama_cpp.LlamaGrammar)
    assert constrained["grammar"]._grammar == json_grammar(SAMPLE)
    assert free["grammar"] is None


class _ChainLib:
    """Records the samplers a chain is built from (stands in for llama_cpp's C API)."""

    def __init__(self, parses: bool = True) -> None:
        self.added: list[tuple[Any, ...]] = []
        self.parses = parses

    def llama_sampler_chain_default_params(self) -> None:
        return None

    def llama_sampler_chain_init(self, params: None) -> str:
        return "chain"

    def llama_sampler_chain_add(self, chain: str, sampler: tuple[Any, ...]) -> None:
        self.added.append(sampler)

    def llama_sampler_init_grammar(self, vocab: str, grammar: bytes, root: bytes) -> Any:
        return ("grammar", vocab, grammar.decode(), root.decode()) if self.parses else None

    def __getattr__(self, name: str) -> Any:  # llama_sampler_init_temp(0.7) -> ("temp", 0.7)
        kind = name.removeprefix("llama_sampler_init_")
        return lambda *args: (kind, *(getattr(a, "value", a) for a in args))


def test_batched_llamacpp_keeps_the_grammar_beside_the_chain() -> None:
    """The grammar is checked lazily (llamacpp_batch: drawn without it, redrawn under it when
    it rejects the token), so it is its own sampler, not part of the chain."""
    sampler = BatchedSampler.__new__(BatchedSampler)
    sampler.vocab = "vocab"
    for temperature, chain in ((0.7, ["temp", "dist"]), (0.0, ["greedy"])):
        sampler.lib = _ChainLib()
        request = Request(prompt="p", temperature=temperature, schema=SAMPLE)
        sampler._sampler(request, seed=3)
        assert [s[0] for s in sampler.lib.added] == chain
        assert sampler._grammar(request) == ("grammar", "vocab", json_grammar(SAMPLE), "root")
        assert sampler._grammar(Request(prompt="p", temperature=temperature)) is None
    sampler.lib = _ChainLib(parses=False)  # NULL from llama.cpp: sampled as without a schema
    assert sampler._grammar(Request(prompt="p", temperature=0.7, schema=SAMPLE)) is None


@pytest.mark.slow
def test_lazy_grammar_checks_the_drawn_token_and_redraws_under_the_grammar(
    base_gguf: Path,
) -> None:
    """With the real vocabulary (no weights loaded): a token the grammar rejects is caught, and
    the redraw picks from the allowed tokens even when the logits favour a rejected one."""
    import llama_cpp
    import numpy as np
    from llama_cpp import Llama

    from synthrl.llm.llamacpp_batch import Live

    llama = Llama(model_path=str(base_gguf), vocab_only=True, verbose=False)
    sampler = BatchedSampler.__new__(BatchedSampler)
    sampler.lib, sampler._candidates = llama_cpp, None
    sampler.vocab = llama_cpp.llama_model_get_vocab(llama._model.model)
    sampler.n_vocab = llama_cpp.llama_vocab_n_tokens(sampler.vocab)
    brace, hello = (llama.tokenize(t, add_bos=False, special=False)[0] for t in (b"{", b"Hello"))
    request = Request(prompt="p", temperature=0.7, schema=SAMPLE)
    logits = np.full(sampler.n_vocab, -30.0, dtype=np.float32)
    logits[hello], logits[brace] = 20.0, 0.0  # unconstrained, 'Hello' every time
    for seed in range(5):
        grammar = sampler._grammar(request)
        seq = Live(None, 0, 0, sampler._sampler(request, seed), 0, 0, grammar)
        assert not sampler._allowed(grammar, hello) and sampler._allowed(grammar, brace)
        assert sampler._redraw(seq, logits) == brace
        llama_cpp.llama_sampler_accept(grammar, brace)
        assert not sampler._allowed(grammar, brace)  # '{{' is not JSON
        sampler._free(seq)


def _openai(url: str) -> tuple[OpenAIBackend, LLM]:
    backend = OpenAIBackend("m", url, "EMPTY", max_retries=0)
    return backend, LLM(backend, None, Ledger(), "m", show_progress=False)


class _Server:
    """An OpenAI-compatible loopback server: HTTP 400 with `refusal` as the error message for
    any request that carries `response_format` (when set), else a completion of REPLY."""

    def __init__(self, refusal: str | None) -> None:
        self.bodies: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.bodies.append(body)
                if refusal is not None and "response_format" in body:
                    error = json.dumps({"error": {"message": refusal, "code": 400}}).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                send_completion(self, [REPLY] * body.get("n", 1))

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_openai_sends_the_schema_as_response_format() -> None:
    server = _Server(refusal=None)
    try:
        backend, llm = _openai(server.url)
        llm.generate([Request.chat(CHAT, n=2, schema=SAMPLE), Request.chat(CHAT)], stage="t")
    finally:
        server.close()
    constrained, free = sorted(server.bodies, key=lambda b: "response_format" not in b)
    assert constrained["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "sample", "schema": json.loads(SAMPLE), "strict": False},
    }
    assert "response_format" not in free
    assert "response_format" not in backend.sampler_settings()


def test_a_server_that_refuses_response_format_is_asked_again_without_it_once() -> None:
    refusal = "Unrecognized request argument supplied: response_format"
    server = _Server(refusal=refusal)
    try:
        backend, llm = _openai(server.url)
        first = llm.generate([Request.chat(CHAT, schema=SAMPLE)], stage="t")[0]
        later = llm.generate([Request.chat(CHAT, seed=1, schema=SAMPLE)], stage="t")[0]
    finally:
        server.close()
    assert first.texts == [REPLY] and later.texts == [REPLY]
    sent = ["response_format" in body for body in server.bodies]
    assert sent == [True, False, False]  # refused once, then never sent that schema again
    assert "refused" in str(backend.sampler_settings()["response_format"])
    assert refusal in backend.refused[SAMPLE]


def test_other_http_400s_are_errors_as_before() -> None:
    server = _Server(refusal="maximum context length is 4096 tokens")
    try:
        _, llm = _openai(server.url)
        with pytest.raises(SynthRLError, match="HTTP 400"):
            llm.generate([Request.chat(CHAT, schema=SAMPLE)], stage="t")
    finally:
        server.close()
    assert len(server.bodies) == 1


def test_vllm_guided_decoding_in_either_api() -> None:
    made: list[tuple[str, dict[str, Any]]] = []

    def recorder(kind: str) -> Any:
        return lambda **kwargs: made.append((kind, kwargs)) or kind

    newer = SimpleNamespace(
        StructuredOutputsParams=recorder("structured"), GuidedDecodingParams=recorder("guided")
    )
    older = SimpleNamespace(GuidedDecodingParams=recorder("guided"))
    request = Request.chat(CHAT, schema=SAMPLE)
    assert structured_kwargs(request, newer) == {"structured_outputs": "structured"}
    assert structured_kwargs(request, older) == {"guided_decoding": "guided"}
    assert made == [
        ("structured", {"json": json.loads(SAMPLE)}),
        ("guided", {"json": json.loads(SAMPLE)}),
    ]
    assert structured_kwargs(request, SimpleNamespace()) == {}  # neither: parsed as text
    assert structured_kwargs(request, None) == {}
    assert structured_kwargs(Request.chat(CHAT), newer) == {}


def test_vllm_backend_hands_the_schema_to_sampling_params(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from synthrl.llm.vllm_backend import VLLMBackend

    class Engine:
        def __init__(self, model: str, seed: int = 0, **kwargs: Any) -> None:
            self.params: list[Any] = []

        def chat(self, messages: list[Any], params: list[Any], use_tqdm: bool) -> list[Any]:
            self.params += params
            out = SimpleNamespace(text=REPLY, finish_reason="stop", token_ids=[1])
            return [SimpleNamespace(prompt_token_ids=[1], outputs=[out]) for _ in messages]

    root = types.ModuleType("vllm")
    root.LLM = Engine  # type: ignore[attr-defined]
    root.SamplingParams = dict  # type: ignore[attr-defined]
    params = types.ModuleType("vllm.sampling_params")
    params.StructuredOutputsParams = lambda json: ("json", json)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", root)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", params)
    backend = VLLMBackend("m")
    LLM(backend, None, Ledger(), "m", show_progress=False).generate(
        [Request.chat(CHAT, schema=SAMPLE), Request.chat(CHAT)], stage="t"
    )
    constrained, free = backend.engine.params
    assert constrained["structured_outputs"] == ("json", json.loads(SAMPLE))
    assert "structured_outputs" not in free and "guided_decoding" not in free


def test_reply_schemas_are_bounded_where_natural() -> None:
    keywords = json.loads(keywords_schema(8))
    assert keywords["type"] == "array" and keywords["maxItems"] == 28
    assert keywords["items"] == {"type": "string", "maxLength": 60}
    sample = json.loads(SAMPLE)
    assert list(sample["properties"]) == ["input", "output"]
    assert sample["required"] == ["input", "output"]
    assert json.loads(PATTERN)["required"] == ["pattern"]
    assert schema_text(json.loads(SAMPLE)) == SAMPLE


def test_a_constrained_reply_cut_at_max_tokens_is_re_asked() -> None:
    """A grammar does not stop a reply at `max_tokens`: the cut JSON is a `truncated_reply`, and
    the parse-retry loop asks again (the next sample index), as without a schema."""
    from synthrl.synthesis.retry import ask_parsed
    from synthrl.synthesis.samples import parse_result

    long = json.dumps({"input": "word " * 40, "output": "#### 1"})
    backend = FakeBackend().enqueue(long, REPLY)
    llm = LLM(backend, None, Ledger(), "m", show_progress=False)
    request = Request.chat(CHAT, max_tokens=20, schema=SAMPLE)
    asked = ask_parsed(
        lambda rs, desc: llm.generate(rs, "t", desc), [request], parse_result, 2, "t"
    )
    assert [r.reason for r in asked.replies] == ["truncated_reply", "ok"]
    assert asked.values[0]["input"] == "What is 2 + 3?" and asked.after_retry == 1
    assert [r.first_sample for r in backend.calls] == [0, 1]
    assert all(r.schema == SAMPLE for r in backend.calls)
