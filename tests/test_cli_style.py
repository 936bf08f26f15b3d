"""One command style in `cli/` (issue 34, item 7), checked from the source text (`ast`) and the built
parser: every module of `src/rmboost/cli/` but `__init__` and `__main__` is one command, named as
the command, with `register(subparsers: argparse._SubParsersAction) -> None`, handlers that are
private, typed `(args: argparse.Namespace) -> int` and build the command's config with `from_args`,
and no `# type: ignore`. And `rmboost --help` lists the commands it listed before the change, with
the same one-line help, written out by hand here (not read from the code under test)."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

from rmboost.cli import COMMANDS, build_parser, main

CLI = Path(__file__).resolve().parents[1] / "src" / "rmboost" / "cli"
REGISTER = "register(subparsers: argparse._SubParsersAction) -> None"
HANDLER = "(args: argparse.Namespace) -> int"

# `rmboost --help` before issue 34's item 7, in its order.
HELP = {
    "generate": "make preference pairs (RMBoost, RLAIF, West-of-N, RLCD) from prompts",
    "data": "convert public human-labelled data sets",
    "train": "train a reward model on preference pairs",
    "eval": "score a reward model on held-out pairs",
    "score": "score responses or pairs with a trained reward model",
    "rerank": "best and worst of N responses per prompt by a reward model",
    "stats": "diagnostics of pair files (balance, length bias, diversity, ...)",
    "agree": "label agreement of a pair file with human labels and corrections",
    "export": "a pair file as a Hugging Face dataset with a card (and the Hub)",
    "experiment": "run the method x reward-model comparison on human-labelled data from a YAML config",
    "report": "one HTML file to read the pairs, their failures and an experiment's results in a browser",
    "table": "the paper's table (accuracy, verdicts, label agreement) across experiment folders, as markdown",
}
DATA_SOURCES = ["qa-feedback", "tldr", "ultrafeedback"]


def command_modules() -> dict[str, Path]:
    return {p.stem: p for p in sorted(CLI.glob("*.py")) if p.stem not in ("__init__", "__main__")}


def signature(node: ast.FunctionDef) -> str:
    args = ", ".join(f"{a.arg}: {ast.unparse(a.annotation)}" if a.annotation else a.arg for a in node.args.args)
    return f"({args}) -> {ast.unparse(node.returns) if node.returns else '?'}"


def style_problems(text: str) -> list[str]:
    """What in a command module's source breaks the one style, one line each."""
    tree = ast.parse(text)
    problems = ["`# type: ignore`"] if "type: ignore" in text else []
    if not ast.get_docstring(tree):
        problems.append("no module docstring")
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    register = functions.get("register")
    if register is None or f"register{signature(register)}" != REGISTER:
        problems.append(f"no `{REGISTER}`")
    if "run" in functions:
        problems.append("a public `run`: a handler is private (`_run`)")
    handlers = [k.value for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") ==
                "set_defaults" for k in n.keywords if k.arg == "func"]
    if not handlers:
        problems.append("no handler set with `set_defaults(func=...)`")
    for value in handlers:
        name = value.id if isinstance(value, ast.Name) else ast.unparse(value)
        handler = functions.get(name)
        if handler is None or not name.startswith("_"):
            problems.append(f"handler {name}: not a private function of the module")
            continue
        if signature(handler) != HANDLER:
            problems.append(f"handler {name}{signature(handler)}: not {HANDLER}")
        configs = [c.args[0] for c in ast.walk(handler) if isinstance(c, ast.Call)
                   and getattr(c.func, "id", "") == "from_args" and c.args]
        if not any(isinstance(c, ast.Name) and c.id.endswith("Config") for c in configs):
            problems.append(f"handler {name}: does not build a config with from_args(...Config, args)")
    return problems


def test_every_cli_module_is_one_command_named_as_it() -> None:
    assert sorted(command_modules()) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(command_modules()))
def test_every_command_module_has_the_one_style(name: str) -> None:
    problems = style_problems(command_modules()[name].read_text(encoding="utf-8"))
    assert not problems, f"cli/{name}.py: " + "; ".join(problems)


def test_the_checker_sees_the_other_style() -> None:
    old = ('"""doc"""\nimport argparse\n\ndef register(sub: argparse._SubParsersAction) -> None:  # type: ignore\n'
           '    sub.add_parser("x").set_defaults(func=run)\n\ndef run(args):\n    return 0\n')
    problems = style_problems(old)
    assert problems[0] == "`# type: ignore`" and f"no `{REGISTER}`" in problems
    assert any("public `run`" in p for p in problems) and any("handler run" in p for p in problems)


def leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for child in subs[0].choices.values() for leaf in leaf_parsers(child)]


def test_every_command_runs_a_private_handler_of_its_own_module() -> None:
    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for name, parser in commands.choices.items():
        for leaf in leaf_parsers(parser):
            func = leaf.get_default("func")
            assert func.__module__ == f"rmboost.cli.{name}" and func.__name__.startswith("_"), leaf.prog


def listed(help_text: str) -> dict[str, str]:
    """The commands of an argparse help text's COMMAND block, with their one-line help."""
    block = help_text.split("positional arguments:\n")[1].split("\n\n")[0].splitlines()[1:]
    out: dict[str, str] = {}
    for line in block:
        if line.startswith("    ") and not line.startswith("     "):
            name, _, rest = line.strip().partition(" ")
            out[name] = rest.strip()
        else:
            last = list(out)[-1]
            out[last] = f"{out[last]} {line.strip()}".strip()
    return out


def test_rmboost_help_lists_the_same_commands(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line for each command's help
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    commands = listed(capsys.readouterr().out)
    assert list(commands) == list(HELP)
    assert commands == HELP
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    assert list(listed(capsys.readouterr().out)) == DATA_SOURCES
