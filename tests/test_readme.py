"""The README's generated tables must match the code they describe."""

import re
from pathlib import Path

from extractor.errors import exit_code_table
from extractor.policy import copy_policy_rows

README = Path(__file__).resolve().parent.parent / "README.md"


def _block(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name} -->(.*?)<!-- /{name} -->", text, re.DOTALL)
    assert match, f"README lacks the {name} block"
    return match.group(1)


def test_exit_code_table_matches_errors():
    rows = [f"| {code} | {meaning} |" for code, meaning in exit_code_table()]
    block = _block("exit-codes")
    assert [line for line in block.splitlines() if re.match(r"\| \d", line)] == rows


def test_copy_table_matches_policy():
    rows = ["| " + " | ".join(row) + " |" for row in copy_policy_rows()]
    block = _block("copy-table")
    body = [line for line in block.splitlines() if line.startswith("| ") and not line.startswith("| source")]
    assert body == rows


def test_readme_names_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
