"""The dashboard under streamlit.testing.v1.AppTest against a database built by `tracker ingest`,
and the HTML helpers (tracker.render) that keep untrusted article text inert."""

from __future__ import annotations

import html as htmllib
import importlib.util
import re
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from tracker import render as R

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
_spec = importlib.util.spec_from_file_location("dashboard_fixture", ROOT / "fixtures" / "dashboard" / "build_db.py")
assert _spec and _spec.loader
fixture_db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_db)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dashboard")
    return fixture_db.build(tmp / "fx.duckdb", tmp)


def app(monkeypatch: pytest.MonkeyPatch, path: Path, section: str | None = None, **state: object) -> AppTest:
    monkeypatch.setenv("TRACKER_DB", str(path))
    at = AppTest.from_file(APP, default_timeout=60)
    if section:
        at.session_state["section"] = section
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert_no_failure(at)
    return at


def assert_no_failure(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def chart_tables(at: AppTest) -> list[pa.Table]:
    """The datasets of every Vega-Lite chart on the page."""
    out = []
    for chart in at.get("vega_lite_chart"):
        for ds in chart.proto.datasets:
            out.append(pa.ipc.open_stream(ds.data.data).read_all())
    return out


def points(at: AppTest) -> set[tuple[str, float]]:
    """(series, value) of every figure drawn on the timeline."""
    found = set()
    for t in chart_tables(at):
        if "series" in t.column_names and "value" in t.column_names:
            found |= set(zip(t.column("series").to_pylist(), t.column("value").to_pylist()))
    return found


def windows(at: AppTest) -> set[tuple[str, str]]:
    """(range, spread) of every disagreement window drawn."""
    found = set()
    for t in chart_tables(at):
        if "spread" in t.column_names:
            found |= set(zip(t.column("range").to_pylist(), t.column("spread").to_pylist()))
    return found


# ---- every section renders ----------------------------------------------------------------------

def test_overview_renders_every_metric(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db)
    assert [t.label for t in at.tabs] == ["Overview", "Timeline", "Disagreements", "Claims"]
    overview = at.dataframe[0].value
    assert {"Killed", "Hostages held in Gaza", "Hostages dead"} <= set(overview["Metric"])
    assert "القتلى والشهداء" in set(overview["المؤشر"])
    held = overview[overview["Metric"] == "Hostages held in Gaza"].iloc[0]
    assert (held["Lowest"], held["Highest"], held["Spread"]) == ("105", "120", "12.5%")
    assert overview[overview["Metric"] == "Hostages dead"].iloc[0]["Latest day"] == "no claims"
    assert "26 claims from 12 articles" in at.caption[0].value


def test_timeline_renders_a_chart_with_windows(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Timeline")
    pts = points(at)
    assert ("الجزيرة نت", 39790.0) in pts and ("RT Arabic", 40000.0) in pts
    assert len(windows(at)) == 1  # 14 August: "more than 40,000" against 39,965
    assert any("undated claims are not on the timeline" in c.value for c in at.caption)
    at.radio(key="series").set_value("attributed_to").run()
    assert_no_failure(at)
    assert ("وزارة الصحة", 39790.0) in points(at)


def test_disagreements_render_side_by_side(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Disagreements", metric="hostages_held")
    table = at.dataframe[0].value
    assert list(table["Spread"]) == ["7.5%", "5.4%", "3.5%"]  # most severe first
    page = markdown(at)
    assert "Lower figures" in page and "Higher figures" in page
    assert page.count('data-testid="claim-sentence"') >= 2
    assert "<mark class=\"trk-num\">111</mark>" in page and "<mark class=\"trk-num\">120</mark>" in page
    assert "<td>not attributed</td>" in page and ">nan<" not in page  # NULL, not pandas' NaN
    # another disagreement: its claims replace the first one's
    at.selectbox(key="dis_pick").select_index(2).run()
    assert_no_failure(at)
    page = markdown(at)
    assert "<mark class=\"trk-num\">115</mark>" in page and "<mark class=\"trk-num\">120</mark>" not in page


def test_claims_list_downloads_and_drill_down(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Claims")
    assert "**10 claims**" in markdown(at)
    assert len(at.get("download_button")) == 2
    page = markdown(at)
    assert 'dir="rtl" lang="ar"' in page and '<mark class="trk-num">40099</mark>' in page
    assert 'data-testid="claim-article"' in page
    assert 'href="https://www.skynewsarabia.com/middle-east/2024-08-18-release" rel="noopener noreferrer nofollow"' in page
    assert "dashfixture.toll-rose (version 1)" in page


def test_opening_a_claim_from_a_disagreement(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Disagreements", metric="prisoners_released")
    buttons = [b for b in at.button if b.label == "Open claim"]
    assert len(buttons) == 2
    buttons[0].click().run()
    assert_no_failure(at)
    assert at.session_state["section"] == "Claims"
    assert '<mark class="trk-num trk-current">90</mark>' in markdown(at)


# ---- changing the metric changes the chart and the disagreements ----------------------------------

def test_changing_the_metric_changes_chart_data_and_disagreements(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Timeline")
    killed_points, killed_windows = points(at), windows(at)
    at.selectbox(key="metric").set_value("hostages_held").run()
    assert_no_failure(at)
    held_points, held_windows = points(at), windows(at)
    assert {v for _, v in held_points} == {105.0, 111.0, 115.0, 120.0}
    assert held_points.isdisjoint(killed_points)
    assert len(held_windows) == 3 and held_windows.isdisjoint(killed_windows)
    at.session_state["section"] = "Disagreements"
    at.run()
    assert set(at.dataframe[0].value["Metric"]) == {"Hostages held in Gaza"}
    at.selectbox(key="metric").set_value("prisoners_released").run()
    table = at.dataframe[0].value
    assert set(table["Metric"]) == {"Palestinian prisoners released"} and list(table["Lowest"]) == ["90"]


def test_filters_change_what_is_listed(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Claims")
    at.multiselect(key="publishers").set_value(["الجزيرة نت"]).run()
    assert "**2 claims**" in markdown(at)
    at.text_input(key="search").set_value("39965").run()
    assert "**1 claims**" in markdown(at)
    at.text_input(key="search").set_value("nothing like this").run()
    assert any("No claims match" in i.value for i in at.info)


# ---- friendly explanations, never a traceback ----------------------------------------------------

def test_missing_database_explains_how_to_create_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = app(monkeypatch, tmp_path / "none.duckdb")
    assert any("no database yet" in i.value for i in at.info)
    assert "tracker ingest" in at.code[0].value


def test_empty_database_renders_a_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = app(monkeypatch, fixture_db.build_empty(tmp_path / "empty.duckdb"))
    assert any("no claims yet" in i.value for i in at.info)


def test_metric_without_claims_is_explained(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    for section in ("Overview", "Timeline", "Disagreements", "Claims"):
        at = app(monkeypatch, db, section, metric="hostages_dead")
        assert any("No claims of Hostages dead" in i.value for i in at.info), section


def test_undated_claims_are_explained(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Timeline", search="38000")
    assert any("undated articles, so they cannot be placed on a timeline" in i.value for i in at.info)
    at.session_state["section"] = "Claims"
    at.run()
    assert "undated" in at.dataframe[0].value["Day"].tolist()


def test_not_a_tracker_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a database")
    at = app(monkeypatch, bad)
    assert any("cannot be read" in w.value for w in at.warning)


# ---- untrusted text ------------------------------------------------------------------------------

def test_hostile_article_renders_inert(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    at = app(monkeypatch, db, "Claims", search="41000")
    page = markdown(at)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b " not in page
    assert 'href="javascript' not in page.lower() and "javascript:alert(1)" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "\u202e" not in page and "[U+202E]" in page
    grid = at.dataframe[0].value  # the claims table: bidi overrides named there too
    assert grid["Attributed to"].str.contains("[U+202E]", regex=False).any()
    assert not grid.astype(str).apply(lambda c: c.str.contains("\u202e")).any().any()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
                                 "java\nscript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "vbscript:x", "//evil.example/x", "http:/no-host", "https://a.b/\u202ex", ""])
def test_only_http_urls_become_links(url: str) -> None:
    assert R.safe_url(url) is None
    assert "<a " not in R.link(url)


def test_http_links_are_escaped_and_isolated() -> None:
    out = R.link('https://example.org/?q="><script>')
    assert out.startswith('<a href="https://example.org/?q=&quot;&gt;&lt;script&gt;"')
    assert 'rel="noopener noreferrer nofollow" target="_blank"' in out


def strip_marks(markup: str) -> str:
    markup = re.sub(r'<mark( class="[^"<>]*")?( title="[^"<>]*")?( id="[^"<>]*")?>', "", markup)
    markup = markup.replace("</mark>", "")
    markup = re.sub(r'<span class="trk-ctl" title="bidi control removed">(\[U\+[0-9A-F]{4}\])</span>', r"\1", markup)
    return markup


@given(st.text(alphabet=st.sampled_from(list("ab<>&\"' 1٢\u202e\u2066\n")), max_size=30),
       st.lists(st.tuples(st.integers(-3, 35), st.integers(-3, 35)), max_size=5))
def test_highlight_is_escaped_and_well_formed(text: str, spans: list[tuple[int, int]]) -> None:
    out = R.highlight(text, [R.Span(a, b) for a, b in spans])
    assert out.count("<mark") == out.count("</mark>")
    inner = strip_marks(out)
    assert "<" not in inner and ">" not in inner  # every tag left was a mark
    assert htmllib.unescape(inner) == R.clean(text)
    depth = 0
    for tag in re.findall(r"</?mark", out):  # marks nest, never cross
        depth += 1 if tag == "<mark" else -1
        assert depth >= 0


def test_number_is_found_in_its_sentence() -> None:
    text = "مقدمة. قالت الوزارة إن حصيلة الشهداء بلغت 40005 شهيدا. خاتمة"
    sentence = "قالت الوزارة إن حصيلة الشهداء بلغت 40005 شهيدا."
    ns = text.index("40005")
    quote = "حصيلة الشهداء بلغت 40005"
    qs = text.index(quote)
    for article in (text, None):
        a, b = R.number_in_sentence(sentence, quote, qs, ns, ns + 5, article)
        assert sentence[a:b] == "40005"
    assert R.number_in_sentence(sentence, "not there", qs, ns, ns + 5) is None


# ---- the command --------------------------------------------------------------------------------

def test_dashboard_command_help_and_command_line() -> None:
    from tracker.cli import main
    from tracker.cli_dashboard import streamlit_command

    result = CliRunner().invoke(main, ["dashboard", "--help"])
    assert result.exit_code == 0 and "--db" in result.output
    cmd = streamlit_command("news.duckdb", 8600)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[-2:] == ["--db", "news.duckdb"] and str(ROOT / "dashboard.py") in cmd


def test_db_option_reaches_the_app(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    monkeypatch.setenv("TRACKER_DB", "/nonexistent/x.duckdb")
    at = AppTest.from_file(APP, default_timeout=60)
    monkeypatch.setattr("sys.argv", ["dashboard.py", "--db", str(db)])
    at.run()
    assert_no_failure(at)
    assert "26 claims" in at.caption[0].value


def test_new_data_reaches_the_page_without_a_restart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Cached results are keyed on the database's snapshot: after an ingest the page shows the
    new claims (the copy is refreshed in the background, the page never waits for it)."""
    import time

    from tracker import queries as Q

    monkeypatch.setattr(Q, "REFRESH_SECONDS", 0.0)  # the throttle is for long ingests, not this one
    path = fixture_db.build(tmp_path / "fx.duckdb", tmp_path)
    at = app(monkeypatch, path, "Claims", metric="killed")
    assert "**10 claims**" in markdown(at)
    extra = tmp_path / "late.jsonl"
    extra.write_text('{"id": "late-1", "publisher": "الجزيرة نت", "url": "https://example.org/late", '
                     '"published_at": "2024-08-19", "title": "t", '
                     '"text": "قالت وزارة الصحة إن حصيلة الشهداء بلغت 40139."}\n', encoding="utf-8")
    fixture_db.ingest(path, fixture_db.rules_dir(tmp_path), extra)
    deadline = time.monotonic() + 30
    while "**11 claims**" not in markdown(at) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
        assert_no_failure(at)
    assert "**11 claims**" in markdown(at)
    assert "27 claims from 13 articles" in at.caption[0].value
