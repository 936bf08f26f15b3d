"""`write_report(path, output)`: one self-contained HTML file from a pairs file or an experiment
folder. The template, style sheet and script are data files (`assets/`), inlined here; the rows
are embedded as JSON; nothing is fetched when the page opens (its Content-Security-Policy allows
no connection at all, and only the report's own script, by its hash, to run).

The size limit is on the whole file: the static page is measured first and the rows get what is
left (`payload.py` samples them when they do not fit). What it leaves out: how each part is made.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

from rmboost.errors import UsageError
from rmboost.report.collect import ReportInput, load
from rmboost.report.experiment_view import experiment_section
from rmboost.report.markup import embed_json, esc
from rmboost.report.overview import overview_section
from rmboost.report.payload import build_payload
from rmboost.report.set_stats import set_stats

DEFAULT_MAX_BYTES = 8_000_000  # under the 10 MB most mail servers take, with room for encoding
PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")


def asset(name: str) -> str:
    return (resources.files("rmboost.report") / "assets" / name).read_text(encoding="utf-8")


def default_output(path: str | Path) -> Path:
    """`<folder>/report.html` for an experiment folder, `<stem>.report.html` beside a pairs file."""
    p = Path(path)
    if p.is_dir():
        return p / "report.html"
    stem = p.with_suffix("") if p.suffix in (".jsonl", ".parquet", ".pq", ".json") else p
    return Path(f"{stem}.report.html")


def report_command(path: str | Path) -> str:
    """The command that makes the report of `path` (what `rmboost generate` prints)."""
    return f"rmboost report {shlex.quote(str(path))} --output {shlex.quote(str(default_output(path)))}"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace every `{{NAME}}` in one pass, so a value is never scanned for placeholders itself."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
            "connect-src 'none'; form-action 'none'; base-uri 'none'")


def title_of(inp: ReportInput) -> str:
    if inp.kind == "experiment":
        name = ((inp.results or {}).get("config") or {}).get("name")
        return f"rmboost report: experiment {name or inp.source.name}"
    return f"rmboost report: {inp.source.name}"


def static_parts(inp: ReportInput) -> dict[str, str]:
    script = asset("report.js")
    if "</script" in script.lower():  # it is inlined verbatim
        raise RuntimeError("report.js must not hold '</script'")
    stats = [set_stats(s) for s in inp.sets]
    files = {s.name: s.path for s in inp.sets}
    overview = "".join(f'<p class="banner">{esc(n)}</p>' for n in inp.notes)
    if inp.results is not None:
        overview += experiment_section(inp.results)
    # An experiment's results already say what generation cost; a pairs file's summary says it here.
    summaries = {s.name: s.summary for s in inp.sets if s.summary} if inp.kind == "pairs" else None
    overview += overview_section(stats, files, inp.results, summaries)
    title = title_of(inp)
    return {"TITLE": esc(title), "HEADING": esc(title), "SOURCE": esc(str(inp.source)), "CSP": esc(_csp(script)),
            "CSS": asset("report.css"), "OVERVIEW": overview, "JS": script}


def build_report(path: str | Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> str:
    """The report page of `path` as text; `max_bytes=None` (or 0) keeps every row."""
    inp = load(path)
    parts = static_parts(inp)
    template = asset("report.html")
    limit = None
    if max_bytes:
        limit = max_bytes - len(fill(template, {**parts, "DATA": ""}).encode("utf-8"))
        if limit <= 0:
            raise UsageError(f"--max-mb {max_bytes / 1e6:g} is smaller than the page without any pair; "
                             "give a larger limit")
    header: dict[str, Any] = {"title": title_of(inp), "kind": inp.kind, "source": str(inp.source)}
    payload = build_payload(inp, limit, header)
    return fill(template, {**parts, "DATA": embed_json(payload)})


def write_report(path: str | Path, output: str | Path | None = None,
                 max_bytes: int | None = DEFAULT_MAX_BYTES) -> Path:
    """Write the report of a pairs file or experiment folder `path` to `output` (default: see
    `default_output`), atomically, and return where it went."""
    out = Path(output) if output is not None else default_output(path)
    page = build_report(path, max_bytes)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
