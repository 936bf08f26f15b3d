"""The OpenAI-compatible backend spreads requests round-robin over a pool of clients, each with
its own httpx connection pool (docs/PERFORMANCE.md, section 1, says why)."""

from __future__ import annotations

import asyncio

import pytest

from rmboost.backends.base import ChatRequest
from rmboost.backends.openai_backend import OpenAIBackend
from rmboost.errors import UserError
from rmboost.testing.fault_server import FaultServer


def _requests(n: int) -> list[ChatRequest]:
    return [ChatRequest.of([{"role": "user", "content": f"question {i}?"}], max_tokens=8) for i in range(n)]


@pytest.mark.parametrize("clients", [1, 3])
def test_one_keep_alive_connection_per_client(clients: int) -> None:
    async def one_at_a_time(url: str) -> list[str]:
        backend = OpenAIBackend(model="stub", base_url=url, clients=clients)
        try:
            return [(await backend.complete([r]))[0].text for r in _requests(9)]
        finally:
            await backend.aclose()

    with FaultServer() as server:
        texts = asyncio.run(one_at_a_time(server.url))
    assert len(texts) == 9 and all(texts)
    assert server.requests == 9
    # Sent one at a time, each client reuses its own connection: as many connections as clients.
    assert len(server.peer_ports) == clients


def test_concurrent_requests_over_the_pool_all_answered() -> None:
    async def together(url: str) -> list[str]:
        backend = OpenAIBackend(model="stub", base_url=url, clients=4)
        try:
            return [c.text for c in await backend.complete(_requests(32))]
        finally:
            await backend.aclose()

    with FaultServer() as server:
        texts = asyncio.run(together(server.url))
    assert len(texts) == 32 and all(texts) and server.requests == 32
    assert len(server.answered()) == 32  # 32 distinct bodies, each answered once


def test_a_pool_of_zero_clients_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="clients=0"):
        OpenAIBackend(model="stub", base_url="http://127.0.0.1:9/v1", clients=0)
