"""What changed between two versions of an agency's workbook (issue 20: the coordinator's agency page)."""

from __future__ import annotations

from pathlib import Path

from conftest import Filler

from xl_addin import api, spec, versions


def test_the_same_workbook_has_no_changes(sample: Path, filled: Filler) -> None:
    d = versions.diff(api.read(sample), api.read(filled()))
    assert d.unchanged and d.summary_zh() == "两个版本内容相同。"


def test_one_changed_figure_is_one_cell_change_with_labels(sample: Path, filled: Filler) -> None:
    old = api.sample_values()["t3.new.natural"]
    d = versions.diff(api.read(sample), api.read(filled({"t3.new.natural": old + 3})))
    assert d.texts == ()
    (c,) = d.cells  # the totals that follow it are not changes of their own
    loc = spec.LAYOUT.locations["t3.new.natural"]
    assert (c.key, c.sheet, c.cell) == ("t3.new.natural", loc.sheet, loc.a1)
    assert c.labels == ("表三", "一、本年新收政府信息公开申请数量", "自然人")
    assert (c.old, c.new) == (str(old), str(old + 3))
    assert c.message == f"表三“一、本年新收政府信息公开申请数量”“自然人”（{loc.sheet}!{loc.a1}）：{old} → {old + 3}"


def test_fields_blanks_and_overwritten_totals_are_listed(sample: Path, filled: Filler) -> None:
    d = versions.diff(api.read(sample), api.read(filled({
        "meta.contact": "王五", "t2.fees.amount": None, "t3.new.total": 99})))
    by_key = {c.key: c for c in d.cells}
    assert set(by_key) == {"meta.contact", "t2.fees.amount", "t3.new.total"}
    assert by_key["meta.contact"].labels == ("联系人",) and by_key["meta.contact"].new == "王五"
    assert by_key["t2.fees.amount"].new == "" and "→ 空白" in by_key["t2.fees.amount"].message
    assert (by_key["t3.new.total"].old, by_key["t3.new.total"].new) == ("（公式）", "99")


def test_a_narrative_change_shows_the_changed_words_in_context(sample: Path, filled: Filler) -> None:
    text = api.sample_values()["s5.problems"]
    assert "个别栏目更新频次偏低" in text
    d = versions.diff(api.read(sample),
                      api.read(filled({"s5.problems": text.replace("个别栏目更新频次偏低", "部分栏目长期未更新")})))
    assert d.cells == ()
    (t,) = d.texts
    assert (t.key, t.section, t.label) == ("s5.problems", "五", "主要问题")
    assert t.sheet == spec.NARRATIVE_SHEET and t.cell == spec.LAYOUT.locations["s5.problems"].a1
    (h,) = t.hunks
    assert "个别" in h.removed and "部分" in h.added and "长期未" in h.added
    assert h.inline.startswith(h.before) and "[-" in h.inline and "{+" in h.inline
    assert t.message.startswith("正文“主要问题”")


def test_many_edits_in_a_long_text_give_a_bounded_diff(filled: Filler) -> None:
    paras = [f"第{i}段，本年度完成了第{i}项工作，取得良好成效。" * 8 for i in range(60)]
    edited = [p.replace("完成了", "推进了") if i % 3 == 0 else p for i, p in enumerate(paras)]
    d = versions.diff(api.read(filled({"s1.proactive": "\n".join(paras)})),
                      api.read(filled({"s1.proactive": "\n".join(edited)})))
    (t,) = d.texts
    assert len(t.hunks) == versions.MAX_HUNKS and t.more == 20 - versions.MAX_HUNKS
    assert f"另有 {t.more} 处改动未列出" in t.message
    for h in t.hunks:
        assert len(h.removed) <= versions.MAX_PIECE + 1 and len(h.added) <= versions.MAX_PIECE + 1
        assert len(h.before) <= versions.CONTEXT + 1 and len(h.after) <= versions.CONTEXT + 1
    assert len(str(d.to_dict())) < 20000


def test_a_rewritten_text_is_one_bounded_change(filled: Filler) -> None:
    old = "\n".join(f"第{i}段，本年度完成了第{i}项工作，取得良好成效。" * 8 for i in range(60))
    new = "\n".join(f"第{i}段，本年度推进了第{i}项任务，成效明显。" * 8 for i in range(60))
    d = versions.diff(api.read(filled({"s1.proactive": old})), api.read(filled({"s1.proactive": new})))
    (t,) = d.texts
    (h,) = t.hunks
    assert h.removed.startswith("第0段，本年度完成了") and h.removed.endswith("…")
    assert len(h.removed) == len(h.added) == versions.MAX_PIECE + 1
    assert (t.old_chars, t.new_chars) == (len(old), len(new))


def test_a_short_edit_in_a_long_text_is_found(filled: Filler) -> None:
    base = "\n".join(f"第{i}段，本年度完成了第{i}项工作。" for i in range(300))
    d = versions.diff(api.read(filled({"s1.platform": base})),
                      api.read(filled({"s1.platform": base.replace("第150项工作", "第150项重点工作")})))
    (t,) = d.texts
    (h,) = t.hunks
    assert "第150项工作" in h.removed and "第150项重点工作" in h.added


def test_the_library_front_door(sample: Path, filled: Filler) -> None:
    d = api.diff_versions(sample, filled({"meta.phone": "0598-1234567"}))
    assert [c.key for c in d.cells] == ["meta.phone"] and d.to_dict()["cells"][0]["new"] == "0598-1234567"
