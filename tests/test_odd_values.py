"""Values a clerk (or a sender) can put in a workbook that the tools once crashed on: each is checked or exported
with a Chinese finding, never a traceback (issue 19, items 3 and 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Filler, cli
from docx import Document


@pytest.mark.parametrize("year", [99999, 10000, 1000, -5])
def test_a_year_outside_the_template_range_is_a_finding_not_a_crash(filled: Filler, year: int) -> None:
    """Was: ValueError "year 100000 is out of range" from P1's deadline (check, export --force, collect)."""
    book = filled({"meta.year": year})
    r = cli("check", book)
    assert r.returncode in (0, 1), r
    assert "S4" in r.stdout and f"现为“{year}”" in r.stdout, r.stdout
    assert "P1 " not in r.stdout  # no deadline is made up for a year that is not one


def test_a_year_outside_the_range_is_not_exported_even_as_a_draft(filled: Filler, tmp_path: Path) -> None:
    """Was exported as a draft titled with year 99999; since issue 24 a report without a year the template
    accepts is refused, forced or not: a Chinese message naming the cell, no crash, nothing written."""
    book = filled({"meta.year": 99999})
    r = cli("export", book, "--force", "-f", "docx", "-o", tmp_path / "out")
    assert r.returncode == 2 and "未导出报告" in r.stderr and "“报告年度”（基本信息!" in r.stderr, r
    out = tmp_path / "out"
    assert "Traceback" not in r.stderr and (not out.exists() or not list(out.iterdir()))


@pytest.mark.parametrize("n", [238, 239, 500])
def test_a_long_agency_name_exports_whole(filled: Filler, tmp_path: Path, n: int) -> None:
    """Was: ValueError "exceeded 255 char limit for property" from python-docx's title property."""
    agency = "将乐县" + "工" * n
    r = cli("export", filled({"meta.agency": agency}), "-f", "docx", "-o", tmp_path / "out")
    assert r.returncode == 0, r
    doc = Document(str(next((tmp_path / "out").iterdir())))
    assert len(doc.core_properties.title) <= 255 and doc.core_properties.title.startswith("将乐县工")
    assert any(p.text == agency for p in doc.paragraphs), "the title in the report is never cut"


@pytest.mark.parametrize("year", ["²⁰²³", "2023²", "①②③④"])
def test_a_year_in_digits_int_cannot_read_is_a_finding_not_a_crash(filled: Filler, tmp_path: Path, year: str) -> None:
    """Was: ValueError from int("²⁰²³") (str.isdigit is true for superscripts): check and export --force crashed,
    collect said the reader died."""
    book = filled({"meta.year": year})
    r = cli("check", book)
    assert r.returncode in (0, 1) and "S4" in r.stdout and f"现为“{year}”" in r.stdout, r
    exported = cli("export", book, "--force", "-f", "txt", "-o", tmp_path / "out")  # no year: refused (issue 24)
    assert exported.returncode == 2 and "“报告年度”（基本信息!" in exported.stderr, exported


def test_superscript_digits_are_no_version_number_on_the_round_pages() -> None:
    from xl_addin.round_pages import version_number

    assert version_number("²") is None and version_number("12") == 12 and version_number("1234567") is None


def test_superscript_digits_are_no_chinese_number() -> None:
    from xl_addin.quotes import chinese_number

    assert chinese_number("²") is None and chinese_number("１２") == 12 and chinese_number("十二") == 12
