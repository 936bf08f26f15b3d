"""The hostile-input fuzz, for `rmboost experiment`: mutated copies of every profile in configs/
(unknown kinds, methods and fields, wrong types, paths that do not exist) each end in one line on
stderr within 5 seconds, and leave the output folder as it was. One kind of mistake, one exit code
(`errors.py`, the README's table): a field that is unknown, of the wrong type or names something
unknown is usage (2); a file that is missing, or a config that is no mapping, bad input (3)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from rmboost.cli import main

PROFILES = sorted((REPO / "configs").glob("*.yaml"))


def _set(key: str, value: Any) -> Any:
    return lambda c: {**c, key: value}


# name -> (the mutation, its exit code)
MUTATIONS: dict[str, tuple[Any, int]] = {
    "unknown kind": (_set("reward_models", ["embed_linear"]), 2),
    "hf folder that does not exist": (_set("reward_models", ["hf:/no/such/model"]), 3),
    "unknown method": (lambda c: {**c, "methods": list(c.get("methods") or []) + ["rlaf"]}, 2),
    "unknown field": (_set("rm_seed", 2), 2),
    "wrong type: train_prompts": (_set("train_prompts", "ten"), 2),
    "wrong type: bootstrap": (_set("bootstrap", -1), 2),
    "wrong type: generation": (lambda c: {**c, "generation": {**(c.get("generation") or {}), "max_tokens": "many"},
                                          "methods": c.get("methods") or ["rmboost"]}, 2),
    "wrong type: calibration": (_set("calibration", "yes"), 2),
    "unknown yardstick": (_set("yardsticks", ["human-pair"]), 2),
    "unknown data format": (lambda c: {**c, "data": {**_data(c), "format": "csv"}}, 2),
    "data path that does not exist": (lambda c: {**c, "data": {**_data(c), "path": "/no/such/data.json"}}, 3),
    "test path that does not exist": (lambda c: {**c, "data": {**_data(c), "test_path": "/no/such/test.json"}}, 3),
    "override of a kind not trained": (_set("rm_overrides", {"no-such-kind": {"epochs": 1}}), 2),
    "scorer folder that does not exist": (lambda c: {**c, "west_of_n_scorer": "/no/such/rm",
                                                     "methods": ["west-of-n"]}, 3),
    "not a mapping": (lambda c: ["a", "list"], 3),
}


def _data(c: dict[str, Any]) -> dict[str, Any]:
    data = c.get("data") or {}
    return {"path": data} if isinstance(data, str) else dict(data)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_mutated_profiles_fail_in_one_line_and_change_nothing(tmp_path: Path, profile: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    original = yaml.safe_load(profile.read_text()) or {}
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("made before")
    before = _digest(out)
    for name, (mutate, expected) in MUTATIONS.items():
        path = tmp_path / f"{profile.stem}.yaml"
        path.write_text(yaml.safe_dump(mutate(dict(original))))
        start = time.monotonic()
        code = main(["experiment", "--config", str(path), "--output", str(out)])
        seconds = time.monotonic() - start
        err = capsys.readouterr().err.strip()
        # A profile whose own data files are not placed here (configs/ultrafeedback.yaml, ...) stops at
        # them first, before the mutated field: bad input.
        assert code == expected or (code == 3 and "field 'data." in err), (name, code, err)
        assert len(err.splitlines()) == 1 and err.startswith("rmboost: error:"), (name, err)
        assert seconds < 5, (name, seconds)
        assert _digest(out) == before, name
