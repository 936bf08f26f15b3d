"""Frozen-encoder outputs kept on disk by content, so an experiment that trains many models on the
same texts (and every later run) encodes each text once.

One SQLite file per encoder setting under the cache folder (`$RMBOOST_CACHE_DIR`, else
`~/.cache/rmboost`): the key is the SHA-256 of the text, the value a float32 vector. SQLite keeps
concurrent processes safe (WAL) and a killed run loses at most the batch in flight. The encoder's
name and settings are part of the file name, so vectors of two settings never mix. What is
encoded, and how, is the caller's business; this module only stores and finds vectors.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    return Path(os.environ.get("RMBOOST_CACHE_DIR") or Path.home() / ".cache" / "rmboost")


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingStore:
    """Vectors of one encoder setting, by text. `RMBOOST_EMBEDDING_CACHE=off` keeps them in memory only."""

    def __init__(self, name: str) -> None:
        self.memory: dict[str, np.ndarray] = {}
        self.db: sqlite3.Connection | None = None
        self.lock = threading.Lock()
        if os.environ.get("RMBOOST_EMBEDDING_CACHE", "on") != "off":
            folder = cache_dir() / "embeddings"
            folder.mkdir(parents=True, exist_ok=True)
            # One connection, used from whichever thread scores (West-of-N scores in a worker thread);
            # the lock keeps its statements apart.
            self.db = sqlite3.connect(folder / f"{name}.sqlite", timeout=60, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, d BLOB)")

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The distinct texts of `texts` not stored yet (found ones are loaded into memory)."""
        wanted = [t for t in dict.fromkeys(texts) if t not in self.memory]
        if self.db is None or not wanted:
            return wanted
        keys = {text_key(t): t for t in wanted}
        found: dict[str, bytes] = {}
        ids = list(keys)
        with self.lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(self.db.execute(f"SELECT k, d FROM v WHERE k IN ({marks})", chunk).fetchall())
        for k, blob in found.items():
            self.memory[keys[k]] = np.frombuffer(blob, dtype=np.float32)
        return [t for t in wanted if t not in self.memory]

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        for t, v in zip(texts, vectors, strict=True):
            self.memory[t] = v
        if self.db is not None:
            with self.lock, self.db:
                self.db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)",
                                    [(text_key(t), v.tobytes()) for t, v in zip(texts, vectors, strict=True)])

    def get(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.memory[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)
