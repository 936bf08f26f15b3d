"""A self-contained HTML report of a pairs file or an experiment folder: a pair browser (filters,
search, a word diff of what an edit-based method's rewrite changed), the failures, and for an
experiment its results, differences, diagnostics and charts. `write_report(path, output)`."""

from rmboost.report.page import DEFAULT_MAX_BYTES, build_report, default_output, report_command, write_report

__all__ = ["DEFAULT_MAX_BYTES", "build_report", "default_output", "report_command", "write_report"]
