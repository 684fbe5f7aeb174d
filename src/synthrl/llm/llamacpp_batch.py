"""Batched sampling for the in-process llama.cpp engine: many sequences advance together.

On a CPU, one decode step of a small model costs about the same for 1 or 16 sequences (reading
the weights dominates), so sampling L completions of a prompt one after another wastes most of
the machine (bench/backends.py measures the gain). `BatchedSampler` keeps up to `parallel`
sequences live in one llama.cpp context with a unified KV cache:

- a request's prompt (less its last token) is evaluated once; each of its n samples starts as
  a copy of those KV cells (`llama_memory_seq_cp`, no recomputation) and feeds the last prompt
  token in the next shared step, so every sample draws its first token from its own logits row;
- each step decodes one token for every live sequence in a single `llama_decode`; each sequence
  samples with its own chain (the request's top-k, top-p and min-p where set, then temperature,
  seeded: the order of llama-cpp-python's own chain) and ends at an end-of-generation token, a
  stop string, or `max_tokens`;
- a request with a reply schema is held to its JSON grammar (`llama_sampler_init_grammar`,
  `synthrl.llm.grammar`) lazily, as llama.cpp's own common sampler does: the token is drawn
  without the grammar and only checked against it; when the grammar rejects it, the token is
  drawn again from the logits the grammar allows. Same distribution as grammar first (a draw
  from p, kept when allowed, else redrawn from p restricted to the allowed set, is p renormalised
  over that set), at a fraction of the cost: the grammar over the 151k-token vocabulary costs
  10-25 ms per sequence and step on 2 cores, as much as the decode step itself;
- freed slots are refilled from the queue at once (continuous batching); a request's remaining
  samples copy the prompt from a live sibling, or re-evaluate it when none is left;
- a request's samples are reported as soon as they and every sample before them have ended
  (in parts, in order), so the call cache keeps each finished sample even if the process dies
  while the request's later samples are still running.

Samples differ from one-at-a-time sampling with the same seeds (batched arithmetic rounds
differently), but follow the same distribution.
"""

from __future__ import annotations

import ctypes
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import Request, Result, Sample
from synthrl.llm.grammar import ROOT, json_grammar

TOKEN_DATA = [("id", "<i4"), ("logit", "<f4"), ("p", "<f4")]  # llama_token_data, for numpy


@dataclass
class Job:
    """One request: its prompt tokens, stop strings and the samples still to start."""

    index: int
    request: Request
    tokens: list[int]
    stops: list[str]
    max_tokens: int
    next_sample: int = 0
    reported: int = 0  # samples 0 .. reported-1 have been passed on
    samples: dict[int, Sample] = field(default_factory=dict)
    live: set[int] = field(default_factory=set)  # seq ids of its running samples


@dataclass
class Live:
    """One sample being generated."""

    job: Job
    sample: int
    seq_id: int
    sampler: Any
    pos: int  # position of the token fed next
    feed: int  # the token fed next
    grammar: Any = None  # the reply schema's grammar sampler (None without one)
    tokens: list[int] = field(default_factory=list)
    text: bytes = b""


class BatchedSampler:
    """Sample many requests' completions at once through a second context on `llama`'s model."""

    def __init__(self, llama: Any, n_ctx: int, parallel: int, threads: int) -> None:
        import llama_cpp

        self.lib = llama_cpp
        self.llama = llama
        self.parallel = parallel
        self.n_ctx = n_ctx
        self.n_batch = max(512, parallel)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = self.n_batch
        params.n_ubatch = self.n_batch
        params.n_seq_max = parallel
        params.kv_unified = True  # prompt cells shared by every sample that copies them
        params.n_threads = threads
        params.n_threads_batch = threads
        self.ctx = llama_cpp.llama_init_from_model(llama._model.model, params)
        if self.ctx is None:
            raise SynthRLError("llama.cpp could not create a batched context (out of memory?)")
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = llama_cpp.llama_model_get_vocab(llama._model.model)
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, parallel)
        self.swa = llama_cpp.llama_model_n_swa(llama._model.model) > 0
        self.positions: dict[int, int] = {}  # seq id -> position of the token it feeds next
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self._candidates: Any = None  # the token array for grammar redraws, made when needed

    def run(
        self,
        jobs: Sequence[Job],
        on_result: Callable[[int, Result], None],
    ) -> None:
        """Generate every job's samples; call `on_result(job.index, result)` as each completes."""
        queue = deque(jobs)
        free = list(range(self.parallel - 1, -1, -1))
        live: list[Live] = []
        self.lib.llama_memory_clear(self.memory, True)
        try:
            while queue or live:
                while queue and free and self._fits(live, queue[0]):
                    job = queue[0]
                    live.append(self._start(job, free.pop()))
                    if job.next_sample == job.request.n:
                        queue.popleft()
                if not live:  # the head job cannot fit even alone
                    raise SynthRLError(
                        f"llama.cpp: a prompt of {len(queue[0].tokens)} tokens does not fit the "
                        f"batched context of {self.n_ctx} tokens (raise llm.context)"
                    )
                for seq in self._step(live):
                    live.remove(seq)
                    free.append(self._finish(seq, on_result))
        finally:
            for seq in live:
                self._free(seq)
            self.lib.llama_memory_clear(self.memory, True)

    def _fits(self, live: list[Live], job: Job) -> bool:
        """Whether the KV cache holds the live sequences' worst case plus one more sample."""
        jobs = {id(s.job): s.job for s in live}
        used = sum(len(j.tokens) for j in jobs.values()) + sum(s.job.max_tokens for s in live)
        extra = job.max_tokens + (0 if id(job) in jobs else len(job.tokens))
        return used + extra <= self.n_ctx - self.parallel  # slack for cell placement

    def _start(self, job: Job, seq_id: int) -> Live:
        """Give `seq_id` the job's prompt less its last token (copied or evaluated)."""
        lib, prefix = self.lib, len(job.tokens) - 1
        lib.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
        donor = self._donor(job, prefix)
        if donor is not None:
            lib.llama_memory_seq_cp(self.memory, donor, seq_id, 0, prefix)
        else:
            for start in range(0, prefix, self.n_batch):
                chunk = job.tokens[start : min(prefix, start + self.n_batch)]
                self._fill([(t, start + k, seq_id, False) for k, t in enumerate(chunk)])
                self._decode()
        sample = job.next_sample
        job.next_sample += 1
        job.live.add(seq_id)
        self.positions[seq_id] = prefix
        seed = job.request.sample_seed(job.request.first_sample + sample)
        sampler, grammar = self._sampler(job.request, seed), self._grammar(job.request)
        return Live(job, sample, seq_id, sampler, prefix, job.tokens[-1], grammar)

    def _donor(self, job: Job, prefix: int) -> int | None:
        """A live sibling whose KV cells still hold the whole prompt prefix. With sliding-window
        attention (Gemma), llama.cpp reuses cells that left a sequence's window, so only a
        sibling that has not decoded past the prompt qualifies."""
        for seq_id in job.live:
            if not self.swa or self.positions[seq_id] == prefix:
                return seq_id
        return None

    def _step(self, live: list[Live]) -> list[Live]:
        """Feed one token per live sequence, sample the next; return the sequences that ended."""
        lib = self.lib
        self._fill([(s.feed, s.pos, s.seq_id, True) for s in live])
        self._decode()
        ended = []
        for row, seq in enumerate(live):
            token = lib.llama_sampler_sample(seq.sampler, self.ctx, row)
            if seq.grammar is not None:
                if not self._allowed(seq.grammar, token):
                    token = self._redraw(seq, self._logits(row))
                lib.llama_sampler_accept(seq.grammar, token)
            seq.pos += 1
            self.positions[seq.seq_id] = seq.pos
            if lib.llama_vocab_is_eog(self.vocab, token):
                ended.append(seq)
                seq.job.samples[seq.sample] = self._sample(seq, "stop")
                continue
            seq.tokens.append(token)
            seq.text += self.llama.detokenize([token])
            seq.feed = token
            stopped = self._stop_text(seq)
            if stopped is not None:
                seq.job.samples[seq.sample] = Sample(stopped, "stop", len(seq.tokens))
                ended.append(seq)
            elif len(seq.tokens) >= seq.job.max_tokens:
                seq.job.samples[seq.sample] = self._sample(seq, "length")
                ended.append(seq)
        return ended

    def _finish(self, seq: Live, on_result: Callable[[int, Result], None]) -> int:
        """Free a sequence's slot; report the job's samples that now end an unbroken run from
        the last one reported (the first part carries the prompt's tokens)."""
        self._free(seq)
        self.lib.llama_memory_seq_rm(self.memory, seq.seq_id, -1, -1)
        job = seq.job
        job.live.discard(seq.seq_id)
        end = job.reported
        while end in job.samples:
            end += 1
        if end > job.reported:
            part = [job.samples[i] for i in range(job.reported, end)]
            prompt = len(job.tokens) if job.reported == 0 else 0
            job.reported = end
            on_result(job.index, Result(samples=part, prompt_tokens=prompt))
        return seq.seq_id

    @staticmethod
    def _sample(seq: Live, finish: str) -> Sample:
        return Sample(seq.text.decode("utf-8", errors="ignore"), finish, len(seq.tokens))

    @staticmethod
    def _stop_text(seq: Live) -> str | None:
        """The text cut before the first stop string, if one has appeared."""
        if not seq.job.stops:
            return None
        text = seq.text.decode("utf-8", errors="ignore")
        cuts = [text.find(stop) for stop in seq.job.stops if stop in text]
        return text[: min(cuts)] if cuts else None

    def _free(self, seq: Live) -> None:
        self.lib.llama_sampler_free(seq.sampler)
        if seq.grammar is not None:
            self.lib.llama_sampler_free(seq.grammar)
            seq.grammar = None

    def _grammar(self, request: Request) -> Any:
        """The grammar sampler of the request's reply schema (None without one, or when
        llama.cpp cannot parse the grammar: the reply is parsed anyway)."""
        if request.schema is None:
            return None
        grammar = json_grammar(request.schema).encode("utf-8")
        return self.lib.llama_sampler_init_grammar(self.vocab, grammar, ROOT.encode()) or None

    def _allowed(self, grammar: Any, token: int) -> bool:
        """Whether the grammar, in its current state, accepts `token` next."""
        lib = self.lib
        one = (lib.llama_token_data * 1)()
        one[0].id, one[0].logit, one[0].p = token, 0.0, 0.0
        array = lib.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
        lib.llama_sampler_apply(grammar, ctypes.byref(array))
        return math.isfinite(one[0].logit)

    def _logits(self, row: int) -> Any:
        """The last decode's logits of output `row`, as a numpy view."""
        import numpy as np

        row_logits = self.lib.llama_get_logits_ith(self.ctx, row)
        return np.ctypeslib.as_array(row_logits, shape=(self.n_vocab,))

    def _redraw(self, seq: Live, logits: Any) -> int:
        """Draw the token again with the grammar first: the allowed tokens of `logits`, then the
        sequence's own chain."""
        import numpy as np

        lib = self.lib
        if self._candidates is None:
            self._candidates = (lib.llama_token_data * self.n_vocab)()
        view = np.frombuffer(self._candidates, dtype=TOKEN_DATA)
        view["id"] = np.arange(self.n_vocab, dtype=np.int32)
        view["logit"] = logits
        view["p"] = 0.0
        array = lib.llama_token_data_array(
            data=self._candidates, size=self.n_vocab, selected=-1, sorted=False
        )
        lib.llama_sampler_apply(seq.grammar, ctypes.byref(array))
        lib.llama_sampler_apply(seq.sampler, ctypes.byref(array))
        token = int(array.data[array.selected].id)
        lib.llama_sampler_accept(seq.sampler, token)
        return token

    def _sampler(self, request: Request, seed: int) -> Any:
        lib = self.lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if request.temperature == 0:  # greedy: the most likely token, as one at a time
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
            return chain
        if request.top_k:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_k(request.top_k))
        if request.top_p < 1:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(request.top_p, 1))
        if request.min_p:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_min_p(request.min_p, 1))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(request.temperature))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(ctypes.c_uint32(seed)))
        return chain

    def _fill(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """Put (token, position, seq id, wants logits) entries into the batch."""
        batch = self.batch
        batch.n_tokens = len(entries)
        for i, (token, pos, seq_id, logits) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq_id
            batch.logits[i] = logits

    def _decode(self) -> None:
        code = self.lib.llama_decode(self.ctx, self.batch)
        if code != 0:
            raise SynthRLError(f"llama.cpp batched decode failed (code {code}; KV cache full?)")

    def close(self) -> None:
        if self.ctx is not None:
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None
