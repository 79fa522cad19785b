"""Rule profiles (issue 22): a local notice's requirements on top of the national catalogue, read from TOML,
refused with a Chinese message naming the file and the key, listed by `rules --profile`, and named in every
finding they asked for."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import cli

from xl_addin import api, catalogue, profiles, rules, spec, structure
from xl_addin.adapters import profile_file
from xl_addin.model import CellValue, Report, ReportData, Severity
from xl_addin.profiles import NATIONAL, ProfileError

CITY = "示例-某市"
ROOT = Path(__file__).resolve().parent.parent


@cache
def city() -> profiles.Profile:
    return api.load_profile(CITY)


@cache
def _sample() -> dict[str, CellValue]:
    return dict(api.sample_values())


def data(changes: dict[str, Any] | None = None) -> ReportData:
    """The bundled sample as an untouched template reads, with ``changes`` typed in."""
    return ReportData(values={**_sample(), **(changes or {})}, formulas=dict(structure.expected().formulas))


def check(changes: dict[str, Any] | None = None, profile: profiles.Profile | None = None) -> Report:
    return api.check_data(data(changes), profile=profile)


# ---- loading -------------------------------------------------------------------------------------------------------

def test_the_shipped_profiles() -> None:
    national = api.load_profile("全国")
    assert national.national and national.rule_ids() == catalogue.rule_ids()
    p = city()
    assert (p.name, p.on, p.off) == (CITY, ("L1", "L2"), ("A5",))
    assert p.deadline("department") == (1, 20) and p.deadline("government") is None
    assert p.severity("T3") is Severity.ERROR and p.severity("T5") is Severity.WARNING
    assert p.threshold("L2.keys", ()) == ("t3.new.total", "t3.total.total")
    values = {st["name"]: st["value"] for st in p.settings()}
    assert values["X3.repeated_percent"] == 50 and values["L1.max_chars"] == 1000  # the 考核 bar = the national one
    assert p.rule_ids() == (*(r for r in catalogue.rule_ids() if r != "A5"), "L1", "L2")
    assert set(profile_file.shipped()) == {"全国", CITY}
    assert api.load_profile(None) is NATIONAL


def test_every_local_requirement_has_one_check() -> None:
    assert set(catalogue.local_rule_ids()) == set(rules.LOCAL_CHECKS)
    assert not set(catalogue.LOCAL) & set(catalogue.CATALOGUE)


def test_a_dotted_key_may_be_written_bare(tmp_path: Path) -> None:
    f = tmp_path / "县.toml"
    f.write_text('[profile]\nname = "某县"\n[thresholds]\nX3.repeated_percent = 40\n[severity]\nV2.yuan = "错误"\n',
                 encoding="utf-8")
    p = api.load_profile(f)
    assert p.threshold("X3.repeated_percent", 50) == 40 and p.severity("V2.yuan") is Severity.ERROR
    assert p.severity("V2.unit") is Severity.WARNING and p.source == str(f.resolve())


BAD = [
    ('[profile]\nname = "某县"\n[rulez]\n', "rulez", "不认识这一项"),
    ('[profile]\ntitle = "某县"\n', "profile.name", "缺少规则配置的名称"),
    ('[profile]\nname = "某县"\ncolour = "red"\n', "profile.colour", "不认识这一项"),
    # the title is written into a template's 校验汇总 (template --profile), which no control character may be in
    ('[profile]\nname = "某县"\ntitle = "某县\\u0001要求"\n', "profile.title", "一行文字"),
    ('[profile]\nname = "某县"\n[rules]\non = ["L9"]\n', "rules.on", "没有编号为“L9”的地方要求"),
    ('[profile]\nname = "某县"\n[rules]\non = "L1"\n', "rules.on", "应为规则编号的列表"),
    ('[profile]\nname = "某县"\n[rules]\noff = ["A3"]\n', "rules.off", "不能关闭"),
    ('[profile]\nname = "某县"\n[rules]\noff = ["Z1"]\n', "rules.off", "没有编号为“Z1”的规则"),
    ('[profile]\nname = "某县"\n[severity]\nA1 = "警告"\n', "severity.A1", "不能降低"),
    ('[profile]\nname = "某县"\n[severity]\nT3 = "严重"\n', "severity.T3", "级别应为"),
    ('[profile]\nname = "某县"\n[severity]\nQ7 = "错误"\n', "severity.Q7", "没有这个规则编号"),
    ('[profile]\nname = "某县"\n[deadline]\ndepartment = "2月10日"\n', "deadline.department", "不能晚于"),
    ('[profile]\nname = "某县"\n[deadline]\ndepartment = "1月32日"\n', "deadline.department", "不是有效的日期"),
    ('[profile]\nname = "某县"\n[deadline]\ndepartment = 20\n', "deadline.department", "应写作次年的月日"),
    ('[profile]\nname = "某县"\n[deadline]\ncity = "1月20日"\n', "deadline.city", "不认识这一项"),
    ('[profile]\nname = "某县"\n[thresholds]\n"X3.repeated_percent" = "五十"\n', "thresholds.X3.repeated_percent",
     "应为数字"),
    ('[profile]\nname = "某县"\n[thresholds]\n"X3.repeated_percent" = 150\n', "thresholds.X3.repeated_percent",
     "1 到 100"),
    ('[profile]\nname = "某县"\n[thresholds]\n"L1.max_chars" = 99.5\n', "thresholds.L1.max_chars", "整数"),
    ('[profile]\nname = "某县"\n[thresholds]\n"L2.keys" = ["t3.nothing"]\n', "thresholds.L2.keys", "t3.nothing"),
    ('[profile]\nname = "某县"\n[thresholds]\n"X9.bar" = 1\n', "thresholds.X9.bar", "不认识这个阈值"),
    ('[profile\nname = "某县"\n', "", "不是有效的 TOML 格式"),
]


@pytest.mark.parametrize(("text", "key", "what"), BAD, ids=[b[1] or "toml" for b in BAD])
def test_a_bad_profile_is_named_by_file_and_key(tmp_path: Path, text: str, key: str, what: str) -> None:
    f = tmp_path / "某县规则.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as exc:
        api.load_profile(f)
    message = str(exc.value)
    assert str(f) in message and what in message and (f"“{key}”" in message if key else True), message


def test_a_bad_profile_stops_each_command_with_exit_2(tmp_path: Path, sample: Path) -> None:
    f = tmp_path / "坏.toml"
    f.write_text('[profile]\nname = "某县"\n[rules]\noff = ["A3"]\n', encoding="utf-8")
    for args in (("check", sample), ("rules",), ("collect", tmp_path, "-o", tmp_path / "汇总.xlsx"),
                 ("template", "-o", tmp_path / "模板.xlsx")):
        r = cli(*args, "--profile", f)
        assert r.returncode == 2 and "坏.toml" in r.stderr and "rules.off" in r.stderr, (args, r.stderr)
    serve = ("serve", "--data-dir", tmp_path / "d", "--token-file", tmp_path / "t.txt", "--year", "2023")
    r = cli(*serve, "--roster", tmp_path / "名单.csv", "--profile", f)
    assert r.returncode == 2 and "rules.off" in r.stderr and not (tmp_path / "d").exists()
    # without a round the profile is the buttons' (serve --profile): a bad one stops it before anything is made
    r = cli(*serve[:5], "--profile", f)
    assert r.returncode == 2 and "rules.off" in r.stderr and not (tmp_path / "t.txt").exists()
    assert not (tmp_path / "模板.xlsx").exists()
    r = cli("check", sample, "--profile", tmp_path / "无此文件.toml")
    assert r.returncode == 2 and "无此文件.toml" in r.stderr and CITY in r.stderr  # names the shipped ones
    (tmp_path / "二进制.toml").write_bytes(b"\xff\xfe\x00name")
    r = cli("rules", "--profile", tmp_path / "二进制.toml")
    assert r.returncode == 2 and "UTF-8" in r.stderr


# ---- the effective set ---------------------------------------------------------------------------------------------

def test_rules_lists_the_effective_set() -> None:
    r = cli("rules", "--profile", CITY, "--json")
    assert r.returncode == 0
    got = json.loads(r.stdout)
    by_code = {row["code"]: row for row in got["rules"]}
    assert got["profile"]["name"] == CITY
    assert by_code["L1"]["enabled"] and by_code["L1"]["by"] == CITY and by_code["L1"]["settings"] == {"L1.max_chars": 1000}
    assert not by_code["A5"]["enabled"] and by_code["A5"]["by"] == CITY
    assert (by_code["T3"]["severity"], by_code["T3"]["national_severity"], by_code["T3"]["by"]) == ("error", "warning", CITY)
    assert (by_code["A3"]["enabled"], by_code["A3"]["by"]) == (True, "")
    assert by_code["P1"]["by"] == CITY and by_code["P1.missing"]["by"] == ""
    settings = {s["name"]: s for s in got["settings"]}
    assert (settings["deadline.department"]["value"], settings["deadline.department"]["by"]) == ("1月20日", CITY)
    assert (settings["deadline.government"]["value"], settings["deadline.government"]["by"]) == ("3月31日", "")
    text = cli("rules", "--profile", CITY).stdout
    assert "L1" in text and "1月20日" in text and f"〔{CITY}〕" in text
    national = cli("rules", "--json")
    assert json.loads(national.stdout) == catalogue.rows()  # no profile: the catalogue as it always was


def test_the_national_markdown_is_docs_rules_md_byte_for_byte() -> None:
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert cli("rules", "--markdown").stdout == docs
    assert cli("rules", "--markdown", "--profile", "全国").stdout == docs
    local = cli("rules", "--markdown", "--profile", CITY).stdout
    assert local.startswith(docs) and f"## 规则配置：{city().title}（{CITY}）" in local and "| L1 | 是 |" in local


# ---- findings say which profile asked for them ---------------------------------------------------------------------

def test_an_earlier_deadline_is_the_profiles_finding() -> None:
    late = {"meta.report_date": dt.date(2024, 1, 25)}  # a department's 2023 report: national limit 1月31日
    assert check(late).by_rule("P1") == []
    (f,) = check(late, city()).by_rule("P1")
    assert f.profile == CITY and f.message.endswith(f"〔地方要求：{CITY}〕") and "2024年1月20日" in f.message
    assert f.to_dict()["profile"] == CITY
    (f,) = check({"meta.report_date": dt.date(2024, 2, 5)}, city()).by_rule("P1")
    assert f.profile == CITY and "1月20日" in f.message  # also late nationally, but late against 1月20日 here
    assert check({"meta.report_date": dt.date(2024, 1, 19)}, city()).by_rule("P1") == []
    assert "profile" not in check({"meta.report_date": dt.date(2024, 2, 5)}).by_rule("P1")[0].to_dict()


def test_a_national_finding_stays_national_under_a_profile() -> None:
    (f,) = check({"t3.new.natural": -1}, city()).by_rule("V1")
    assert f.profile == "" and "地方要求" not in f.message


def test_a_stricter_level_is_the_profiles_finding() -> None:
    empty = {"s6.key_points": "", "s6.proposals": "", "s6.innovation": ""}
    national = check(empty).by_rule("T3")
    local = check(empty, city()).by_rule("T3")
    assert national and {f.severity for f in national} == {Severity.WARNING}
    assert {(f.severity, f.profile) for f in local} == {(Severity.ERROR, CITY)}


def test_a_rule_switched_off_is_not_checked() -> None:
    many = {"t3.new.natural": 40, "t3.granted.natural": 10, "t3.carried_out.natural": 30}
    assert check(many).by_rule("A5") and not check(many, city()).by_rule("A5")


def test_the_local_requirements() -> None:
    long = "本机关认真贯彻落实政务公开各项要求，持续深化重点领域信息公开。" * 40  # 1200 characters
    over = check({"s1.overview": long}, city())
    (f,) = over.by_rule("L1")
    assert (f.profile, f.severity, f.values["limit"]) == (CITY, Severity.ERROR, 1000)
    assert f.values["length"] > 1000 and f.cell == spec.LAYOUT.locations["s1.overview"].a1
    assert check({"s1.overview": long}).by_rule("L1") == []  # not a national rule
    rest = sum(len(data().text(f.key)) for f in spec.narrative_fields("一") if f.key != "s1.overview")
    assert check({"s1.overview": long[:1000 - rest]}, city()).by_rule("L1") == []  # 1000: within the limit
    assert check({"s1.overview": long[:1001 - rest]}, city()).by_rule("L1")[0].values["length"] == 1001
    # L2: the figures the profile names must be stated in section 一 (the sample: 1 new request, 1 handled)
    assert check({}, city()).by_rule("L2") == []  # “新收政府信息公开申请1件” states both
    said = "本年度共收到政府信息公开申请12件，均已办结。"
    more = {"t3.new.natural": 12, "t3.granted.natural": 12}
    assert check({**more, "s1.on_request": said}, city()).by_rule("L2") == []
    unsaid = check({**more, "s1.on_request": "本年度依申请公开工作依法有序开展，12月底前均已办结。"}, city())
    assert {(f.check, f.values["value"], f.profile) for f in unsaid.by_rule("L2")} == {
        ("L2:t3.new.total", "12", CITY), ("L2:t3.total.total", "12", CITY)}  # “12月” is not a count
    (f,) = [f for f in unsaid.by_rule("L2") if f.check == "L2:t3.new.total"]
    assert f.message.startswith("正文未写明“一、本年新收政府信息公开申请数量（总计）”（表中为 12）")
    assert check({**more, "s1.on_request": "本年度依申请公开工作依法有序开展。"}).by_rule("L2") == []


def test_check_json_names_the_profile(filled: Any) -> None:
    wb = filled({"meta.report_date": dt.date(2024, 1, 25)})
    r = cli("check", wb, "--profile", CITY, "--json")
    got = json.loads(r.stdout)
    p1 = [f for f in got["files"][0]["findings"] if f["rule"] == "P1"]
    assert r.returncode == 1 and got["profile"]["name"] == CITY
    assert len(p1) == 1 and p1[0]["profile"] == CITY and p1[0]["message"].endswith(f"〔地方要求：{CITY}〕")
    plain = json.loads(cli("check", wb, "--json").stdout)
    assert "profile" not in plain and not [f for f in plain["files"][0]["findings"] if f["rule"] == "P1"]
    text = cli("check", wb, "--profile", CITY).stdout
    assert f"规则配置：{city().title}（{CITY}）" in text and f"〔地方要求：{CITY}〕" in text


# ---- the users' documentation --------------------------------------------------------------------------------------

def test_the_users_doc_shows_a_profile_that_loads_and_names_every_setting(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (ROOT / "docs" / "规则配置.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    p = profiles.parse(example, "docs/规则配置.md")
    assert (p.name, p.on, p.off, p.deadline("government")) == ("某市", ("L1", "L2"), ("A5",), (3, 20))
    for name in (*profiles.THRESHOLDS, *catalogue.LOCAL):
        assert f"`{name}`" in doc or f"| {name} |" in doc, name
    # the error the doc shows is the one a user gets
    shown = doc.split("```\n错误：", 1)[1].split("\n", 1)[0]
    monkeypatch.chdir(tmp_path)
    Path("某市.toml").write_text('[profile]\nname = "某市"\n[rules]\noff = ["A3"]\n', encoding="utf-8")
    assert cli("rules", "--profile", "某市.toml").stderr.strip() == "错误：" + shown


# ---- the server's round ----------------------------------------------------------------------------------------------

def test_the_round_checks_submissions_under_the_profile(tmp_path: Path, filled: Any) -> None:
    """`serve --profile`: the round's settings carry the profile to every worker (as JSON), and an upload is
    checked under it."""
    from xl_addin.collect import Agency, Roster
    from xl_addin.rounds import County, Settings

    settings = Settings(2023, Roster((Agency("将乐县工业和信息化局", spec.AGENCY_KINDS[1], "县级", ""),)),
                        profile=city())
    again = Settings.from_json(json.loads(json.dumps(settings.to_json())))
    assert again.profile == city() and Settings.from_json(Settings(2023).to_json()).profile is None
    late = filled({"meta.report_date": dt.date(2024, 1, 25)}).read_bytes()
    with County.from_settings(tmp_path / "data", again) as county:
        (p1,) = [f for f in county.check_workbook(late, "年报.xlsx").report.findings if f.rule == "P1"]
    assert p1.profile == CITY
    with County.from_settings(tmp_path / "plain", Settings(2023, settings.roster)) as county:
        assert not [f for f in county.check_workbook(late, "年报.xlsx").report.findings if f.rule == "P1"]


def test_collect_tracks_the_profiles_deadline() -> None:
    from xl_addin import collect

    files = [collect.FileResult("a.xlsx", agency="某县财政局", kind=spec.AGENCY_KINDS[1], year=2023, mtime=1.0),
             collect.FileResult("b.xlsx", agency="某县人民政府", kind=spec.KIND_GOVERNMENT, year=2023, mtime=1.0)]
    now = dt.datetime(2024, 2, 1)
    national = {r.agency: r.deadline for r in collect.plan(None, files, now=now).rows}
    local = {r.agency: r.deadline for r in collect.plan(None, files, now=now, profile=city()).rows}
    assert national == {"某县财政局": dt.date(2024, 1, 31), "某县人民政府": dt.date(2024, 3, 31)}
    assert local == {"某县财政局": dt.date(2024, 1, 20), "某县人民政府": dt.date(2024, 3, 31)}
    assert rules.deadline(2023, spec.AGENCY_KINDS[1], city()) == dt.date(2024, 1, 20)


def test_a_profile_sets_the_fee_bar_of_published_reports(tmp_path: Path) -> None:
    """V2.yuan.max_wan: 洪泽区 2023 (a district's 汇总 report) prints 7730.28 万元 of fees, below the 县级 汇总 bar
    (no warning nationally); a city whose notice sets 5000 万元 gets the warning, as its own."""
    hongze = ROOT.parent / "shared" / "examples" / "published" / "hongze-district-gov-2023.txt"
    assert api.check(hongze).by_rule("V2") == []
    strict = profiles.parse('[profile]\nname = "严格"\n[thresholds]\n"V2.yuan.max_wan" = 5000\n', "严格.toml")
    (f,) = api.check(hongze, profile=strict).by_rule("V2")
    assert f.code == "V2.yuan" and f.profile == "严格" and "7730.28" in f.message
    assert api.check(hongze, profile=profiles.parse(
        '[profile]\nname = "宽"\n[thresholds]\n"V2.yuan.max_wan" = 9000\n', "宽.toml")).by_rule("V2") == []
    # a workbook: the profile's bar too, as the live formula of a template built under it (national: 1000)
    assert api.check_data(data({"t2.fees.amount": 1500})).by_rule("V2")
    assert api.check_data(data({"t2.fees.amount": 1500}), profile=strict).by_rule("V2") == []
    (f,) = api.check_data(data({"t2.fees.amount": 6000}), profile=strict).by_rule("V2")
    assert f.code == "V2.yuan" and "6000" in f.message  # over the national bar too: a national finding


# ---- a template built under a profile (issue 22 item 6) --------------------------------------------------------------

STRICT = '[profile]\nname = "某县"\n[rules]\noff = ["A6"]\n[severity]\nV3 = "错误"\n'


def _edited(path: Path, out: Path, edit: Any) -> Path:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(out)
    return out


def _set_prop(key: str, value: str) -> Any:
    def edit(wb: Any) -> None:
        for row in wb[spec.HIDDEN_SHEET].iter_rows():
            if row[0].value == key:
                row[1].value = value
    return edit


def test_template_profile_is_recorded_shown_and_verified(tmp_path: Path) -> None:
    """`template --profile`: the sample in a template of the city's is clean under the city's profile; checked
    nationally it is told the template is the city's (S2.profile), and the national template checked under the city's
    is told too. The workbook never chooses the profile: its record only explains, and its formulas are compared with
    what its profile compiles (a weakened state formula, a record swapped for another profile's: S2)."""
    import openpyxl

    from xl_addin import hidden, live

    out = tmp_path / "某市模板.xlsx"
    r = cli("template", "--sample", "-o", out, "--profile", CITY)
    assert r.returncode == 0 and f"规则配置：{city().title}（{CITY}）" in r.stdout
    assert api.check(out, profile=city()).findings == ()
    (said,) = api.check(out).by_rule("S2")
    assert said.code == "S2.profile" and said.message.startswith(f"本模板按“{CITY}”生成，当前按“全国”校验")
    national = tmp_path / "全国模板.xlsx"
    assert cli("template", "--sample", "-o", national, "--profile", "全国").returncode == 0  # national: no record
    wb = openpyxl.load_workbook(national)
    assert not hidden.PROFILE_KEYS & set(hidden.parse(wb[spec.HIDDEN_SHEET].iter_rows(values_only=True)))
    (said,) = api.check(national, profile=city()).by_rule("S2")
    assert said.code == "S2.profile" and f"当前按“{CITY}”校验" in said.message and "指定同一规则配置" in said.message
    # a county's template: fewer live rows, its record read alike by both readers
    (tmp_path / "某县.toml").write_text(STRICT, encoding="utf-8")
    strict = api.load_profile(tmp_path / "某县.toml")
    county = api.build_template(tmp_path / "某县模板.xlsx", api.sample_values(), profile=strict)
    for reader in ("fast", "openpyxl"):
        assert api.check(county, profile=strict, reader=reader).findings == ()
    ws = openpyxl.load_workbook(county)[live.SHEET]
    assert ws[f"A{live.NOTE_ROW}"].value.startswith(f"本模板按规则配置“{strict.title}”")
    settings = live.settings_of(strict)
    last = live.FIRST_ROW + len(live.checks(settings)) - 1
    assert ws.cell(last, live.COL_ID).value and ws.cell(last + 1, live.COL_ID).value is None
    # a state formula replaced by "通过": S2.live under the county's profile
    state = f"{spec.col_letter(live.COL_STATE)}{live.FIRST_ROW}"
    bad = _edited(county, tmp_path / "改公式.xlsx", lambda wb: wb[live.SHEET].__setitem__(state, live.PASS))
    assert [f.code for f in api.check(bad, profile=strict).by_rule("S2")] == ["S2.live"]
    # the record made to say the national rules while the formulas are the county's: the fingerprint tells
    swapped = _edited(county, tmp_path / "改记录.xlsx", _set_prop("profile_digest", profiles.NATIONAL.digest()))
    assert "S2.fingerprint" in [f.code for f in api.check(swapped).by_rule("S2")]
    # the recorded live settings made national while the digest is the county's: its profile's formulas are expected
    relaxed = _edited(county, tmp_path / "改设置.xlsx", _set_prop("profile_live", '{"off": [], "levels": {}, "yuan": 1000}'))
    assert api.check(relaxed, profile=strict).findings == ()  # the county's profile is the check's: its formulas
    assert {f.code for f in api.check(relaxed).by_rule("S2")} == {"S2.profile", "S2.fingerprint"}


def test_serve_profile_reaches_the_button_endpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve --profile` without a round: each worker's app (built from the settings serve hands it) checks the
    buttons under the profile; without --profile, nationally."""
    import uvicorn
    from serving import free_port

    from xl_addin import server

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)  # the workers are not started: their settings are
    monkeypatch.setattr(server, "create_app", lambda cfg: cfg)
    monkeypatch.setenv(server.SETTINGS_ENV, "")
    serve = ("serve", "--data-dir", tmp_path / "d", "--token-file", tmp_path / "t.txt", "--port", free_port())
    r = cli(*serve, "--profile", CITY)
    assert r.returncode == 0 and f"规则配置：{city().title}（{CITY}）" in r.stdout, r.stderr
    cfg = server.app_from_env()
    assert cfg.profile == city() and cfg.round is None
    assert cli(*serve).returncode == 0 and server.app_from_env().profile is None


def test_distribute_profile_hands_out_templates_built_under_the_countys_profile(tmp_path: Path) -> None:
    """`distribute --profile`: every agency's template is the county's (its live checks and record), so a clerk's
    in-sheet counts are those of `serve --profile` / `check --profile`; without it the national template, which the
    same check tells apart (S2.profile)."""
    roster = tmp_path / "名单.csv"
    roster.write_text("机关名称,机关类别,层级\n某县财政局,政府部门,县级\n某县教育局,政府部门,县级\n", encoding="utf-8-sig")
    (tmp_path / "某县.toml").write_text(STRICT, encoding="utf-8")
    strict = api.load_profile(tmp_path / "某县.toml")
    r = cli("distribute", roster, "-o", tmp_path / "下发", "--year", "2025", "--profile", tmp_path / "某县.toml")
    assert r.returncode == 0, r.stderr
    books = sorted((tmp_path / "下发").glob("*.xlsx"))
    assert len(books) == 2
    for book in books:
        assert not api.check(book, profile=strict).by_rule("S2")  # built under it: no S2 of any kind
        (said,) = api.check(book).by_rule("S2")
        assert said.code == "S2.profile" and "当前按“全国”校验" in said.message
    assert cli("distribute", roster, "-o", tmp_path / "全国", "--year", "2025").returncode == 0
    plain = sorted((tmp_path / "全国").glob("*.xlsx"))[0]
    assert not api.check(plain).by_rule("S2")
    assert [f.code for f in api.check(plain, profile=strict).by_rule("S2")] == ["S2.profile"]
    bad = cli("distribute", roster, "-o", tmp_path / "x", "--year", "2025", "--profile", tmp_path / "无.toml")
    assert bad.returncode == 2 and "无.toml" in bad.stderr and not (tmp_path / "x").exists()


@pytest.mark.parametrize("record", ["[" * 1999, '{"off": ["V1"], "levels": {}, "yuan": 1000}'],
                         ids=["nested", "national-error-rule-off"])
def test_a_forged_profile_record_is_checked_not_crashed(tmp_path: Path, record: str) -> None:
    """The hidden sheet's live-settings record is the workbook's (untrusted): nested past the JSON parser's depth (it
    fits the 2000 characters read), or switching off a rule no profile may (V1: the identities' formulas refer to
    its rows), it is ignored like any other bad record -- the file is checked and told its template is not the
    check's (S2), not reported unreadable (RecursionError, KeyError)."""
    from xl_addin import checking

    (tmp_path / "某县.toml").write_text(STRICT, encoding="utf-8")
    county = api.build_template(tmp_path / "某县模板.xlsx", api.sample_values(),
                                profile=api.load_profile(tmp_path / "某县.toml"))
    forged = _edited(county, tmp_path / "伪造.xlsx", _set_prop("profile_live", record))
    assert "S2.profile" in {f.code for f in api.check(forged).by_rule("S2")}
    checked = checking.check_file(str(forged))
    assert checked.result.error_code == "" and checked.result.report is not None


def test_forged_live_settings_records_do_not_grow_the_compiled_caches() -> None:
    """Each distinct live-settings record a workbook carries (untrusted: any fee bar) is compiled when its file is
    checked; a server sent many distinct ones keeps a bounded number of compiled templates, not one per record."""
    from xl_addin import fingerprint, live, rules

    for yuan in range(1, 3 * live.SETTINGS_CACHE):
        s = live.Settings.from_json({"off": [], "levels": {}, "yuan": 5000 + yuan})
        assert s is not None
        fingerprint.fingerprint(s)
        rules._live_formulas(s)
    for cached in (live._checks, live._rows, live._formula_cells, fingerprint._fingerprint, rules._live_formulas_of):
        assert cached.cache_info().currsize <= live.SETTINGS_CACHE, cached


def test_rules_profile_names_the_profiles_fee_bar_as_the_template_does(tmp_path: Path) -> None:
    """`rules --profile` lists V2.yuan at the profile's 万元 bar, the title the template's 校验汇总 row shows."""
    from xl_addin import live

    (tmp_path / "某县.toml").write_text('[profile]\nname = "某县"\n[thresholds]\n"V2.yuan.max_wan" = 500\n',
                                       encoding="utf-8")
    listed = json.loads(cli("rules", "--profile", tmp_path / "某县.toml", "--json").stdout)
    (row,) = [r for r in listed["rules"] if r["code"] == "V2.yuan"]
    assert row["title"] == "收费金额疑似按元填写（≥500万元）"
    (check,) = [c for c in live.checks(live.settings_of(api.load_profile(tmp_path / "某县.toml")))
                if c.code == "V2.yuan"]
    assert check.title == row["title"]
    national = json.loads(cli("rules", "--profile", "全国", "--json").stdout)
    assert "≥1000万元" in json.dumps(national, ensure_ascii=False)
