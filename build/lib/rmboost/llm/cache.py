"""An on-disk cache of LLM calls, so a rerun sends no request that was already answered.

SQLite in WAL mode: each answer is committed as it arrives, so a process killed with kill -9 keeps
every call it had answered. The key is a SHA-256 of the backend's identity (backend, model), the
messages and the sampling parameters (seed included), serialised as canonical JSON; nothing is
pickled. Only successful, complete answers are stored. Eviction is left out: delete the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rmboost.backends.base import ChatRequest, Completion


def default_cache_dir() -> Path:
    return Path(os.environ.get("RMBOOST_CACHE_DIR") or Path.home() / ".cache" / "rmboost")


def cache_key(identity: dict[str, Any], request: ChatRequest) -> str:
    blob = json.dumps(
        {"identity": identity, "messages": request.messages, "params": request.params()},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RequestCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, completion TEXT NOT NULL)")
        self.hits = 0
        self.misses = 0
        self.writes = 0

    def get(self, key: str) -> Completion | None:
        row = self._db.execute("SELECT completion FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        data = json.loads(row[0])
        data["cached"] = True
        return Completion(**data)

    def put(self, key: str, completion: Completion) -> None:
        data = asdict(completion)
        data.pop("cached", None)
        self._db.execute(
            "INSERT OR REPLACE INTO calls (key, completion) VALUES (?, ?)",
            (key, json.dumps(data, ensure_ascii=False)),
        )
        self.writes += 1

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        self._db.close()
