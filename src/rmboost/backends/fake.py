"""A deterministic offline backend for tests and dry runs.

Answers are a pure function of the request (messages, seed, temperature), shaped by what the last
message asks for, as a model that follows instructions would answer: a "Verdict: A" line where it
asks for a verdict, a "Score: N" line where it asks for a score, text between the tags it names
where it asks for `<tag>...</tag>`, else a plain answer. It knows nothing of the methods. Tests can instead pass
`replies` (a queue of canned texts, consumed in order) or `responder` (a function of the request),
and read `history` for the requests received. A request that asks for `logprobs` gets made-up
top-k log-probabilities: 0.75 for each verdict letter A/B (0.25 for the other letter), 1 for every
other token. `delay` (seconds) makes it slow enough to interrupt.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from rmboost.backends.base import Backend, BackendError, Capabilities, ChatRequest, Completion

WORDS = (
    "the answer depends on which season of the show is meant and the passages name several candidates "
    "including the first release date in nineteen ninety and a later remake with a different cast"
).split()


def request_hash(request: ChatRequest) -> str:
    blob = json.dumps([request.messages, request.seed, request.temperature], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


ASKS_VERDICT = re.compile(r"verdict\s*:\s*a\b", re.IGNORECASE)
ASKS_SCORE = re.compile(r"score\s*:\s*n\b", re.IGNORECASE)
ASKS_TAG = re.compile(r"<([a-z_]+)>")


def instructed_reply(last_message: str, key: str) -> str:
    """A deterministic answer to `last_message`, shaped by what it asks for; `key` (a hex digest of
    the request) picks the words, so different requests get different answers."""
    n = 8 + int(key[:2], 16) % 24
    start = int(key[2:4], 16) % len(WORDS)
    body = " ".join(WORDS[(start + i) % len(WORDS)] for i in range(n))
    tag = key[:12]
    if ASKS_VERDICT.search(last_message):
        return f"Both have merits. Verdict: {'A' if int(key[4], 16) % 2 == 0 else 'B'}"
    if ASKS_SCORE.search(last_message):
        return f"Score: {1 + int(key[5:7], 16) % 10}"
    asked = ASKS_TAG.findall(last_message)
    if asked:
        return f"<{asked[-1]}>Revised answer {tag}: {body}.</{asked[-1]}>"
    return f"Answer {tag}: {body}."


def default_reply(request: ChatRequest) -> str:
    last = request.message_dicts[-1].get("content", "") if request.messages else ""
    return instructed_reply(last, request_hash(request))


def fake_top_logprobs(text: str) -> list[dict[str, float]]:
    """One dict per whitespace-led token of `text`, as a backend returns them."""
    out: list[dict[str, float]] = []
    for token in re.findall(r"\s*\S+|\s+$", text):
        letter = token.strip()
        if letter in ("A", "B"):
            other = token.replace(letter, "B" if letter == "A" else "A")
            out.append({token: math.log(0.75), other: math.log(0.25)})
        else:
            out.append({token: 0.0})
    return out


class FakeBackend(Backend):
    name = "fake"
    capabilities = Capabilities(logprobs=True)

    def __init__(
        self,
        model: str = "fake",
        replies: Iterable[str] | None = None,
        responder: Callable[[ChatRequest], str] | None = None,
        delay: float | str = 0.0,
        context_length: int | str | None = None,
        keep_history: int | str = 10_000,
    ) -> None:
        self.model = model
        self._replies = deque(replies) if replies is not None else None
        self._responder = responder or default_reply
        self.delay = float(delay)
        self.context_length = int(context_length) if context_length is not None else None
        # The last `keep_history` requests, so a long run on the fake backend stays flat in memory.
        self.history: deque[ChatRequest] = deque(maxlen=int(keep_history))

    def count_tokens(self, messages: Sequence[dict[str, str]]) -> int:
        return sum(len(m.get("content", "").split()) + 4 for m in messages)

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        out = []
        for request in requests:
            self.history.append(request)
            if self.delay:
                await asyncio.sleep(self.delay)
            if self._replies is not None:
                if not self._replies:
                    raise BackendError("fake backend: no canned replies left")
                text = self._replies.popleft()
            else:
                text = self._responder(request)
            # As a real backend does: the answer ends before the first stop string, which is dropped.
            cuts = [i for i in (text.find(s) for s in request.stop) if i >= 0]
            text = text[: min(cuts)] if cuts else text
            out.append(
                Completion(
                    text=text,
                    prompt_tokens=self.count_tokens(request.message_dicts),
                    completion_tokens=len(text.split()),
                    top_logprobs=fake_top_logprobs(text) if request.logprobs else None,
                )
            )
        return out
