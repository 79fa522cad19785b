"""Documentation kept current: docs/rules.md is generated, README documents every command, every rule of
FORMAT.md that one workbook can decide has an entry and a check."""

from __future__ import annotations

from pathlib import Path

from xl_addin import catalogue, cli, docs, rules

ROOT = Path(__file__).resolve().parents[1]


def test_rules_md_is_generated_from_the_catalogue() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == docs.rules_markdown(), \
        "run: bash dev.sh docs"


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.main.commands:
        assert f"`xl-addin {name}" in readme, name


def test_readme_opens_with_the_two_setup_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```bash") + 1: lines.index("```bash") + 3]
    assert block[0].startswith("bash dev.sh demo") and block[1].startswith("bash dev.sh test")


def test_catalogue_covers_the_single_workbook_rules_with_checks() -> None:
    wanted = {"V1", "V2", "V3", "V4", "A1", "A2", "A3", "A4", "A5", "A6", "S2", "T2", "T3", "T4", "T5", "T6", "P1",
              "X1", "X2"}
    assert wanted <= set(catalogue.rule_ids())
    assert set(catalogue.rule_ids()) <= set(rules.CHECKS)
