"""What an output was made with: the settings fingerprint, and the options that do not apply.

`row_settings` gathers everything that changes what a pair row holds: the `ROW_SETTINGS` fields of
`GenerateConfig`, the contents (not the paths)
of the task, template and scorer files, the model the backend serves, and the backend options the
backend declares in `output_options`. `fingerprint` hashes them. `settle_settings` compares them
with the output's `<stem>.settings.json` and refuses a resume with other settings unless `--append`
asks to mix them, which the file then records as a history. `check_applicable` refuses an option
that the chosen method or engine would ignore.

Left out: reading and writing the file (`io/output.py`), and putting the hash in each row (`run.py`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from importlib import resources
from pathlib import Path
from typing import Any

from rmboost.backends import backend_class
from rmboost.errors import UsageError, UserError
from rmboost.generation.config import ROW_SETTINGS, RUN_SETTINGS, GenerateConfig
from rmboost.io.output import read_output_rows, read_settings, write_settings
from rmboost.prompts.tasks import BUILTIN_TASKS

SECRET_WORDS = ("key", "token", "secret", "password")


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def file_bytes(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read {what}: {e.strerror or e}") from e


def builtin_bytes(name: str) -> bytes:
    return resources.files("rmboost.resources").joinpath(name).read_bytes()


# What a reward-model folder holds besides the model: records of how it was trained and scored, with
# timings that differ between two trainings of the same weights. A scorer's digest leaves them out,
# so a retrained scorer with the same weights (a chunk continued on another machine) is the same.
TRAINING_RECORDS = ("eval.json", "training_curve.jsonl")


def folder_digest(path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name not in TRAINING_RECORDS)
    return digest(*(part for p in files for part in (str(p.relative_to(path)).encode(), p.read_bytes())))


def template_bytes(config: GenerateConfig) -> bytes:
    """The method's template as `load_template` finds it: a file, a built-in variant by name, or the
    built-in template."""
    stem = config.method.replace("-", "_")
    if config.template and Path(config.template).exists():
        return file_bytes(config.template, "template file")
    name = f"{stem}_{config.template}" if config.template else stem
    try:
        return builtin_bytes(f"templates/{name}.yaml")
    except OSError:  # not a template at all: building the method refuses it
        return str(config.template).encode()


def file_settings(config: GenerateConfig) -> dict[str, Any]:
    """Digests of the files a row depends on: the task (built-in, and the --aspects file over it),
    the method's template, the judge template --verify uses, and a reward-model scorer."""
    task_parts = [file_bytes(config.aspects, "aspects file")] if config.aspects else []
    if config.task in BUILTIN_TASKS:
        task_parts.insert(0, builtin_bytes(f"tasks/{config.task}.yaml"))
    out: dict[str, Any] = {"aspects": digest(*task_parts), "template": digest(template_bytes(config))}
    if config.method == "rmboost" and config.verify:
        out["judge_template"] = digest(builtin_bytes("templates/rlaif.yaml"))
    if config.method == "west-of-n" and config.scorer != "llm":
        scorer = Path(config.scorer)
        out["scorer"] = folder_digest(scorer) if scorer.is_dir() else config.scorer
    return out


def backend_settings(backend: str, options: dict[str, str]) -> dict[str, str]:
    """The `--backend-arg` options that change the backend's answers, as the backend declares them."""
    declared = backend_class(backend).output_options
    return {k: v for k, v in sorted(options.items())
            if (declared is None or k in declared) and not any(w in k.lower() for w in SECRET_WORDS)}


def row_settings(config: GenerateConfig, backend_options: dict[str, str],
                 served_model: str | None = None) -> dict[str, Any]:
    """Everything that changes what a row of `config`'s output holds. `backend_options` are the
    parsed `--backend-arg`s; `served_model` is the model the backend reports once started (a
    server's default model, the GGUF file's name)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(GenerateConfig):
        if f.name in RUN_SETTINGS:
            continue
        if f.name not in ROW_SETTINGS:  # tests/test_fingerprint.py keeps this from happening
            raise TypeError(f"GenerateConfig.{f.name} is in neither ROW_SETTINGS nor RUN_SETTINGS")
        # Another method's options are in too: `check_applicable` keeps them at their defaults.
        out[f.name] = getattr(config, f.name)
    out.update(file_settings(config))
    out["backend_options"] = backend_settings(config.backend, backend_options)
    if served_model is not None:
        out["served_model"] = served_model
    return out


def fingerprint(settings: dict[str, Any]) -> str:
    return digest(json.dumps(settings, sort_keys=True, default=str).encode())


def _flat(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in settings.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`field: old -> new` for every setting that differs ("(unset)" where one side lacks it)."""
    a, b = _flat(old), _flat(new)
    return [f"{k}: {a.get(k, '(unset)')} -> {b.get(k, '(unset)')}"
            for k in sorted(a.keys() | b.keys()) if a.get(k, "(unset)") != b.get(k, "(unset)")]


class SettingsRefusal(UsageError):
    """An output made with other settings, refused; what differs is kept apart from the advice, so a
    command without `--append` (the experiment) can give its own."""

    def __init__(self, output: Path, settings_file: Path, diffs: list[str]) -> None:
        self.what = f"{output} was made with other settings (see {settings_file}): {'; '.join(diffs)}"
        super().__init__(
            f"{self.what}. Write to another --output to keep them apart, or rerun with --append to add rows made "
            "with the new settings on purpose (the settings file then records both, and each row's `settings` "
            "column names its own)")


def refusal(output: Path, settings_file: Path, diffs: list[str]) -> UsageError:
    return SettingsRefusal(output, settings_file, diffs)


def legacy_differences(journal: Path, settings: dict[str, Any]) -> tuple[int, list[str]]:
    """An output from before settings were recorded: its rows, and how the first one's metadata
    (method, model, sampling, seed) differs from `settings`."""
    rows, first = 0, None
    for _, row in read_output_rows(journal):
        rows, first = rows + 1, first or row
    if first is None:
        return 0, []
    params: dict[str, Any] = first["params"] if isinstance(first.get("params"), dict) else {}
    old = {"method": first.get("method"), "served_model": first.get("model"),
           **{k: params.get(k) for k in ("seed", "temperature", "top_p", "max_tokens")}}
    both = [k for k, v in old.items() if v is not None and k in settings]
    return rows, differences({k: old[k] for k in both}, {k: settings[k] for k in both})


def settle_settings(settings_file: Path, output: Path, journal: Path | None, settings: dict[str, Any],
                    files: dict[str, str], append: bool) -> str:
    """Check `settings` against `output`'s settings file and write it; return their fingerprint.
    Other settings are refused unless `append`, which keeps the old ones in the file's history. An
    output from before settings were recorded is checked against its `journal`'s own rows."""
    new_hash = fingerprint(settings)
    record: dict[str, Any] = {"hash": new_hash, "settings": settings, "files": files, "history": []}
    saved = read_settings(settings_file)
    if saved is None:
        rows, diffs = legacy_differences(journal, settings) if journal is not None else (0, [])
        if diffs and not append:
            raise refusal(output, journal or output, diffs)
        if rows:
            record["history"] = [{"hash": None, "rows": rows, "note": "rows written before rmboost recorded "
                                  "settings; checked against their own metadata", "differences": diffs}]
    elif saved["hash"] == new_hash:
        return new_hash
    else:
        diffs = differences(saved["settings"], settings)
        if not append:
            raise refusal(output, settings_file, diffs)
        entry = {k: saved.get(k) for k in ("hash", "settings", "files")}
        record["history"] = [*saved.get("history", []),
                             {**entry, "until": time.strftime("%Y-%m-%dT%H:%M:%S"), "differences": diffs}]
    write_settings(settings_file, record)
    return new_hash


def row_files(config: GenerateConfig) -> dict[str, str]:
    """The files named in the settings file (for the reader: the settings hold their digests)."""
    return {k: v for k in ("aspects", "template", "scorer") if (v := getattr(config, k)) not in (None, "llm")}


def _default(f: dataclasses.Field[Any]) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_applicable(config: GenerateConfig) -> None:
    """Refuse an option that would be ignored: a method option given for another method, a Ray
    option without --engine ray, --judge-decision for RMBoost without --verify, and so on."""
    for f in dataclasses.fields(GenerateConfig):
        value, default = getattr(config, f.name), _default(f)
        methods, engines = f.metadata.get("methods"), f.metadata.get("engines")
        if methods and config.method not in methods and value != default:
            raise UsageError(f"{_flag(f.name)} applies to --method {' or '.join(methods)} only; "
                             f"--method {config.method} would ignore it")
        if engines and config.engine not in engines and value != default:
            raise UsageError(f"{_flag(f.name)} applies to --engine {' or '.join(engines)} only; "
                             f"--engine {config.engine} would ignore it")
    if config.method == "rmboost" and not config.verify and config.judge_decision != "agree":
        raise UsageError("--judge-decision applies to --method rmboost only with --verify (it decides how the "
                         "judge checks a label); add --verify or drop --judge-decision")
    if config.keep_disagreements and config.judge_decision not in ("agree", "first"):
        raise UsageError(f"--keep-disagreements is --judge-decision first; it cannot go with --judge-decision "
                         f"{config.judge_decision}")
    if config.prices and (config.price_in is not None or config.price_out is not None):
        raise UsageError("give either --prices FILE or --price-in/--price-out, not both")
    for name in ("price_in", "price_out"):
        price = getattr(config, name)
        if price is not None and not (math.isfinite(price) and price >= 0):
            raise UsageError(f"{_flag(name)}: must be a price in USD per million tokens (a number >= 0), got {price}")
