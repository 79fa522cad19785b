"""The county's round as a service (xl_addin.rounds): the same findings as check, identity, refusals in Chinese
with their status, the review round, the roll-up of the accepted versions equal to collect's, the 通报 draft."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Clock

from xl_addin import api, derive, spec
from xl_addin.collect import TABLE_KEYS, Agency, Roster
from xl_addin.rounds import County, Denied

YEAR = 2023  # the bundled sample's year
OWN = "将乐县工业和信息化局"  # the sample's agency
OTHERS = ("将乐县财政局", "将乐县教育局")
DEPT = spec.AGENCY_KINDS[1]
ROSTER = Roster(tuple(Agency(n, DEPT, "县级", "联系人 0598-0000000") for n in (OWN, *OTHERS)))
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def audit() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def county(tmp_path: Path, audit: list[dict[str, Any]]) -> County:
    c = County.open(tmp_path / "data", year=YEAR, roster=ROSTER, county="将乐县", clock=Clock(),
                    audit=lambda **e: audit.append(e))
    yield c
    c.close()


@pytest.fixture
def keys(county: County) -> dict[str, str]:
    return county.issue_keys()


def workbook(sample: Path, tmp_path: Path, agency: str, **values: Any) -> bytes:
    """The sample as ``agency``'s workbook, with table-二 figures changed (they pass every rule)."""
    out = tmp_path / f"{agency}-{len(list(tmp_path.glob('*.xlsx')))}.xlsx"
    api.put(sample, {"meta.agency": agency, **{k.replace("__", "."): v for k, v in values.items()}}, out)
    return out.read_bytes()


def test_the_coordinator_token_file_is_made_at_first_start_and_kept(tmp_path: Path) -> None:
    with County.open(tmp_path / "d", year=YEAR, roster=ROSTER) as c:
        path = c.coordinator_token_file
        assert path == tmp_path / "d" / "coordinator-token.txt"
        token = path.read_text().strip()
        assert c.is_coordinator(token) and not c.is_coordinator(token[:-1] + "x") and not c.is_coordinator("")
    with County.open(tmp_path / "d", year=None) as c:  # restarted: the same token
        assert c.coordinator_token_file.read_text().strip() == token and c.is_coordinator(token)


def test_findings_on_upload_are_check_s(county: County, filled: Any) -> None:
    bad = filled({spec.INPUT_KEYS[0]: -5, "meta.contact": None})
    got = county.check_workbook(bad.read_bytes(), "C:\\Users\\clerk\\年报.xlsx")
    want = api.check(bad)
    assert got.report is not None and not got.report.valid
    assert [f.to_dict() for f in got.report.findings] == [f.to_dict() for f in want.findings]
    assert got.path == "年报.xlsx"  # the name shown, never the clerk's folders


def test_a_submission_gets_a_receipt_and_a_repeat_gets_the_same(county: County, keys: dict[str, str],
                                                                  sample: Path, audit: list[dict[str, Any]]) -> None:
    data = sample.read_bytes()
    first = county.submit(data, "年报.xlsx", keys[OWN], client="10.0.0.5")
    assert (first.status, first.exit_code, first.agency) == (201, 0, OWN)
    assert first.receipt is not None and first.receipt.version == 1 and "回执号 2023-" in first.message
    again = county.submit(data, "年报.xlsx", keys[OWN])
    assert again.status == 200 and again.receipt is not None and again.receipt.number == first.receipt.number
    assert "已提交过" in again.message
    assert county.version_bytes(OWN, 1) == data
    line = audit[1]
    assert line["action"] == "提交" and line["status"] == 201 and line["receipt"] == first.receipt.number
    assert keys[OWN] not in json.dumps(audit, ensure_ascii=False)


def test_another_agency_s_workbook_is_refused_403_and_audited(county: County, keys: dict[str, str], sample: Path,
                                                            audit: list[dict[str, Any]]) -> None:
    s = county.submit(sample.read_bytes(), "年报.xlsx", keys[OTHERS[0]])  # the sample names OWN
    assert (s.status, s.exit_code, s.receipt) == (403, 2, None)
    assert f"“{OWN}”" in s.message and f"“{OTHERS[0]}”" in s.message and "拒绝" in s.message
    assert audit[-1]["status"] == 403 and audit[-1]["claimed"] == OWN and audit[-1]["agency"] == OTHERS[0]
    assert county.status(OTHERS[0]).versions == 0 and county.status(OWN).versions == 0


def test_errors_refuse_with_findings_warnings_pass(county: County, keys: dict[str, str], filled: Any) -> None:
    bad = filled({spec.INPUT_KEYS[0]: -5})
    s = county.submit(bad.read_bytes(), "年报.xlsx", keys[OWN])
    assert (s.status, s.exit_code) == (422, 1) and "1 个错误" in s.message
    assert s.report is not None and s.to_json()["check"]["findings"][0]["severity"] == "error"
    assert county.status(OWN).versions == 0


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"not a workbook at all", "年报.xlsx", "不是"),
    (b"PK\x03\x04" + b"\0" * 100, "年报.xlsx", ""),
    (b"%PDF-1.7", "年报.pdf", "只能提交年报工作簿"),
])
def test_unreadable_or_not_a_workbook_is_refused_2(county: County, keys: dict[str, str], data: bytes, name: str,
                                                   words: str) -> None:
    s = county.submit(data, name, keys[OWN])
    assert s.status == 422 and s.exit_code == 2 and s.receipt is None and s.message and words in s.message


def test_a_bad_or_revoked_key_is_401(county: County, keys: dict[str, str], sample: Path) -> None:
    assert county.submit(sample.read_bytes(), "a.xlsx", "").status == 401
    assert county.submit(sample.read_bytes(), "a.xlsx", keys[OWN] + "x").status == 401
    assert county.revoke_key(OWN).ok
    s = county.submit(sample.read_bytes(), "a.xlsx", keys[OWN])
    assert s.status == 401 and "密钥" in s.message and s.exit_code == 2


def test_another_year_is_refused(county: County, keys: dict[str, str], sample: Path, tmp_path: Path) -> None:
    data = workbook(sample, tmp_path, OWN, meta__year=YEAR + 1)
    s = county.submit(data, "a.xlsx", keys[OWN])
    assert s.status == 422 and f"{YEAR + 1}" in s.message and s.receipt is None


def test_return_resubmit_accept(county: County, keys: dict[str, str], sample: Path, tmp_path: Path) -> None:
    v1 = workbook(sample, tmp_path, OWN, t2__licensing__count=3)
    assert county.submit(v1, "a.xlsx", keys[OWN]).status == 201
    r = county.review(OWN, "return", 1, ["表二 许可数量有误", "请核对"], actor="张科长")
    assert r.status == 200 and "退回" in r.message
    row = county.board_json()["agencies"][0]
    assert row["state"] == "returned" and row["reasons"] == ["表二 许可数量有误", "请核对"]
    same = county.submit(v1, "a.xlsx", keys[OWN])
    assert same.status == 409 and "退回" in same.message  # nothing changed since the return
    v2 = workbook(sample, tmp_path, OWN, t2__licensing__count=4)
    assert county.submit(v2, "a.xlsx", keys[OWN]).receipt.version == 2  # type: ignore[union-attr]
    assert county.version_bytes(OWN, 1) == v1 and county.version_bytes(OWN, 2) == v2
    stale = county.review(OWN, "accept", 1)
    assert stale.status == 409 and "不是最新版本" in stale.message
    assert county.review(OWN, "accept", 2).ok
    view = county.agency_view(OWN).to_json()
    assert view["state"] == "accepted" and [v["number"] for v in view["versions"]] == [1, 2]
    assert [e["action"] for e in view["history"]] == ["submit", "return", "submit", "accept"]
    assert view["history"][1]["actor"] == "张科长" and view["history"][1]["reasons"][0] == "表二 许可数量有误"


def test_review_refusals(county: County, keys: dict[str, str]) -> None:
    assert county.review(OWN, "accept", None).status == 409  # nothing submitted
    assert county.review("不存在的局", "accept", None).status == 404
    assert county.review(OWN, "delete", None).status == 400
    with pytest.raises(Denied) as e:
        county.agency_view("不存在的局")
    assert e.value.status == 404 and "不存在的局" in e.value.message
    with pytest.raises(Denied) as e:
        county.version_bytes(OWN, 1)
    assert e.value.status == 404 and "第1版" in e.value.message


def test_rollup_is_collect_s_over_the_accepted_versions(county: County, keys: dict[str, str], sample: Path,
                                                         tmp_path: Path) -> None:
    with pytest.raises(Denied):
        county.rollup(tmp_path / "none.xlsx")
    accepted = tmp_path / "accepted"
    accepted.mkdir()
    for i, (name, n) in enumerate(((OWN, 3), (OTHERS[0], 7))):
        data = workbook(sample, tmp_path, name, t2__licensing__count=n, t2__penalty__count=n * 2)
        assert county.submit(data, "a.xlsx", keys[name]).status == 201
        assert county.review(name, "accept", None).ok
        (accepted / f"{i}.xlsx").write_bytes(data)
    pending = workbook(sample, tmp_path, OTHERS[1], t2__licensing__count=1000)
    assert county.submit(pending, "a.xlsx", keys[OTHERS[1]]).status == 201  # submitted, not accepted: left out
    got = county.rollup(tmp_path / "roll.xlsx")
    assert got.included == (OWN, OTHERS[0]) and got.left_out == (OTHERS[1],)
    want = api.collect(accepted, None, tmp_path / "collect.xlsx", year=YEAR).rollup.values
    assert dict(got.values) == dict(want)
    book = derive.effective_values(api.read(got.path))  # the workbook holds them: derived totals too
    assert {k: book.get(k) or 0 for k in TABLE_KEYS} == {k: want[k] for k in TABLE_KEYS}
    assert want["t2.licensing.count"] == 10 and api.read(got.path).agency == "将乐县（汇总）"


def test_notice_names_returned_and_missing(county: County, keys: dict[str, str], sample: Path,
                                           tmp_path: Path) -> None:
    assert county.submit(sample.read_bytes(), "a.xlsx", keys[OWN]).ok
    assert county.review(OWN, "return", 1, ["表三数据有误"]).ok
    out = county.notice(tmp_path / "通报.txt")
    text = out.read_text(encoding="utf-8")
    assert "将乐县" in text and OWN in text and "表三数据有误" in text and OTHERS[1] in text


def test_publication_check_needs_an_accepted_version_and_a_readable_report(county: County, keys: dict[str, str],
                                                                           sample: Path, tmp_path: Path) -> None:
    assert county.submit(sample.read_bytes(), "a.xlsx", keys[OWN]).ok
    early = county.publish(OWN, data=b"<html></html>", filename="p.html")
    assert early.status == 409 and "审核通过" in early.message
    assert county.review(OWN, "accept", None).ok
    unreadable = county.publish(OWN, data=b"%PDF-1.7 broken", filename="p.pdf")
    assert unreadable.status == 422 and "无法读取发布稿" in unreadable.message
    page = api.export(sample, tmp_path / "page", "html")[0]
    same = county.publish(OWN, data=page.read_bytes(), filename=page.name)
    assert same.status == 200 and same.event is not None and str(same.event.published) == "match"
    assert county.board_json()["agencies"][0]["published"] == "match"
    assert county.publish("不存在的局", url="https://example.org/").status == 404
