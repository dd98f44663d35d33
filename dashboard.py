"""The tracker's Streamlit dashboard: where Arabic news outlets disagree on the war's figures.

Run ``tracker dashboard [--db FILE]`` or ``streamlit run dashboard.py [-- --db FILE]``; the
database is ``--db``, else ``$TRACKER_DB``, else ``tracker.duckdb``.

UI only: every figure comes from ``tracker.queries`` (DuckDB, bound parameters), and every
piece of HTML from ``tracker.render``, which escapes all article-supplied text. Query results
are cached per database snapshot, so they are dropped as soon as the database changes.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from typing import Any

import altair as alt
from altair.utils.schemapi import debug_mode
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import streamlit as st

from tracker import queries as Q
from tracker import render as R
from tracker import store

SECTIONS = ["Overview", "Timeline", "Disagreements", "Claims"]
PAGE_ROWS = 500          # claims listed per page in the browser
TIMELINE_SERIES = 12     # series drawn at most
MAX_WINDOWS = 300        # disagreement windows drawn at most
MAX_CARDS = 12           # claims shown per side of a disagreement
WHO_SHOWN = 6            # voices named per disagreement in its table
QUALIFIER_LABELS = {
    "exact": "exact", "approx": "approximately (±10 %)", "more_than": "more than", "at_least": "at least",
    "less_than": "less than", "at_most": "at most", "range": "range", "vague": "vague (tens, hundreds …)",
}
QUALIFIER_SHAPES = {
    "exact": "circle", "approx": "diamond", "more_than": "triangle-up", "at_least": "triangle-up",
    "less_than": "triangle-down", "at_most": "triangle-down", "range": "square", "vague": "cross",
}


# ---- settings -------------------------------------------------------------------------------

def db_from_argv(argv: list[str]) -> str | None:
    """``--db FILE`` among the script's arguments (``streamlit run dashboard.py -- --db FILE``)."""
    for i, arg in enumerate(argv):
        if arg == "--db" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--db="):
            return arg[5:]
    return None


@st.cache_resource(show_spinner=False)
def metric_meta() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """name -> (English label, Arabic label, kinds) from the metric declarations of the rule
    files; {} if they do not load. Only the declarations are read and validated: compiling
    every rule (``load_rules``) would add seconds to the first page."""
    try:
        import yaml

        from tracker.ruleschema import Metric
        from tracker.ruleset import default_rules_dir

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        out: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        for path in sorted(default_rules_dir().glob("*.yaml")):
            try:
                doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
            except (OSError, yaml.YAMLError):
                continue  # a broken rule file: the others still label their metrics
            declared = doc.get("metrics") if isinstance(doc, dict) else None
            for name, raw in (declared or {}).items() if isinstance(declared, dict) else ():
                try:
                    m = Metric.model_validate(raw)
                except Exception:
                    continue
                out.setdefault(str(name), (m.label, m.label_ar, tuple(m.kinds)))
        return out
    except Exception:  # the dashboard must still show the data when the rules cannot be read
        return {}


def metric_label(name: str, with_ar: bool = True) -> str:
    """"Killed — القتلى والشهداء" for a declared metric, the raw name otherwise."""
    meta = metric_meta().get(name)
    if meta is None:
        return R.clean(name)
    # LRM after the Arabic: what follows (a count, a colon) stays in the left-to-right run
    return f"{meta[0]} — {meta[1]}\u200e" if with_ar else meta[0]


def headline_kinds(names: list[str]) -> dict[str, str]:
    """The kind of each metric's headline figure: its first declared kind (killed: cumulative)."""
    meta = metric_meta()
    return {n: (meta[n][2][0] if n in meta and meta[n][2] else "stock") for n in names}


# ---- cached queries ---------------------------------------------------------------------------
# Keyed on the snapshot's (path, file stamp): a new snapshot means new keys, so nothing stale
# is served after the database changed. `_snap` is not hashed (leading underscore).

@st.cache_data(max_entries=256, show_spinner=False)
def cached(name: str, key: tuple[Any, ...], _snap: Q.Snapshot, *args: Any) -> Any:
    """``tracker.queries.<name>(cursor, *args)`` for the snapshot ``key`` names."""
    con = _snap.cursor()
    try:
        return getattr(Q, name)(con, *args)
    finally:
        con.close()


def ask(snap: Q.Snapshot, name: str, *args: Any) -> Any:
    return cached(name, snap.key, snap, *args)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_article(key: tuple[Any, ...], _snap: Q.Snapshot, article_id: str) -> tuple[str, str | None] | None:
    return Q.snapshot_article(_snap, article_id)


# ---- small helpers ----------------------------------------------------------------------------

def or_(v: Any, default: str) -> str:
    """``v`` unless it is missing: None, pandas' NaN for a NULL, or empty."""
    if v is None or (isinstance(v, float) and pd.isna(v)) or v == "":
        return default
    return str(v)


def fmt_value(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    f = float(v)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.1f}"


def fmt_interval(row: dict[str, Any] | pd.Series) -> str:
    """How a claim's figure reads: "40,005", "more than 40,000", "45–55 (approximately 50)"."""
    return interval_text(row["qualifier"], row["value"], row["value_low"], row["value_high"])


def figures(df: pd.DataFrame) -> list[str]:
    """``fmt_interval`` of every row (zip, not iterrows: this runs on every rerun)."""
    cols = (df.qualifier.tolist(), df.value.tolist(), df.value_low.tolist(), df.value_high.tolist())
    return [interval_text(*t) for t in zip(*cols)]


def days(col: pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD, "undated" for missing ones."""
    return pd.to_datetime(col).dt.strftime("%Y-%m-%d").fillna("undated")


def metric_names(col: pd.Series) -> pd.Series:
    names = {m: metric_label(m, with_ar=False) for m in col.unique()}
    return col.map(names)


def interval_text(q: str, v: Any, lo: Any, hi: Any) -> str:
    if q == "exact":
        return fmt_value(v)
    if q in ("more_than", "at_least", "less_than", "at_most"):
        return f"{QUALIFIER_LABELS[q]} {fmt_value(v)}"
    return f"{fmt_value(lo)}–{fmt_value(hi)} ({QUALIFIER_LABELS.get(q, q)} {fmt_value(v)})"


def fmt_day(d: Any) -> str:
    if d is None or (not isinstance(d, str) and pd.isna(d)):
        return "undated"
    return pd.Timestamp(d).strftime("%Y-%m-%d")


def short(text: Any, n: int = 60) -> str:
    s = R.clean(text).replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def table_height(rows: int, max_rows: int = 10) -> int:
    """Pixels for a grid showing ``rows`` rows, scrolling beyond ``max_rows``."""
    return 38 + 35 * max(1, min(rows, max_rows))


def html(markup: str) -> None:
    """Render markup built by ``tracker.render`` (every untrusted part escaped there)."""
    st.markdown(markup, unsafe_allow_html=True)


def safe_table(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells with bidi controls neutralised and formulas defused (``render.grid_text``);
    the grid escapes HTML itself."""
    out = df.copy()
    for col in out.columns:
        # object or string columns (DuckDB hands over Arrow-backed strings)
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = [R.grid_text(v) for v in out[col].tolist()]
    return out


# ---- filters ----------------------------------------------------------------------------------

def sidebar_filters(snap: Q.Snapshot, counts: pd.DataFrame) -> Q.Filters:
    """The sidebar: metric first, then what narrows its claims."""
    sb = st.sidebar
    sb.header("Filters")
    present = dict(zip(counts.metric, counts.n_claims))
    names = list(dict.fromkeys([*counts.metric, *metric_meta()]))  # with claims first, then declared
    metric = sb.selectbox("Metric", names, key="metric",
                          format_func=lambda m: f"{metric_label(m)} ({present.get(m, 0):,})")
    subgroups = ask(snap, "facet_values", "subgroup", metric)
    sub_opts = [Q.TOTAL, Q.ALL, *subgroups.value]
    subgroup = sb.selectbox("Subgroup", sub_opts, key=f"subgroup:{metric}",
                            format_func=lambda s: {Q.TOTAL: "Total (no subgroup)", Q.ALL: "All subgroups"}.get(s, R.clean(s)),
                            help="Breakdowns such as children or women are separate figures from the total.")
    kinds = list(ask(snap, "facet_values", "kind", metric).value)
    kind = None
    if len(kinds) > 1:
        preferred = headline_kinds([metric])[metric]
        kinds.sort(key=lambda k: k != preferred)
        kind = sb.selectbox("Kind", kinds, key=f"kind:{metric}",
                            help="A cumulative toll and a count for one day or incident are not comparable.")
    first, last = ask(snap, "day_range", metric)
    date_from = date_to = None
    if first is not None and last is not None:
        picked = sb.date_input("Dates (as-of day)", value=(first, last), min_value=first, max_value=last,
                               key=f"dates:{metric}:{first}:{last}")
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            date_from, date_to = picked
            if (date_from, date_to) == (first, last):
                date_from = date_to = None  # the whole range: no condition, so undated stay
    include_undated = sb.checkbox("Include undated claims", value=True, key="undated",
                                  help="Articles without a date cannot be placed on the timeline.")
    include_planned = sb.checkbox("Include planned releases", value=True, key="planned",
                                  help="Releases agreed or scheduled, not yet carried out.")
    publishers = sb.multiselect("Publishers", list(ask(snap, "facet_values", "publisher", None).value),
                                key="publishers", format_func=R.clean, placeholder="All publishers")
    sources = sb.multiselect("Attributed sources", list(ask(snap, "facet_values", "attributed_to", None).value),
                             key="sources", format_func=R.clean, placeholder="All sources",
                             help="Who the article says gave the figure.")
    qualifiers = sb.multiselect("Qualifier", list(QUALIFIER_LABELS), key="qualifiers",
                                format_func=lambda q: QUALIFIER_LABELS[q], placeholder="Any qualifier")
    search = sb.text_input("Search text", key="search", placeholder="e.g. وزارة الصحة",
                           help="Searches sentences, quotes, titles, publishers and sources.")
    return Q.Filters(metric=metric, subgroup=subgroup, kind=kind, date_from=date_from, date_to=date_to,
                     include_undated=include_undated, include_planned=include_planned,
                     publishers=tuple(publishers), sources=tuple(sources), qualifiers=tuple(qualifiers),
                     search=search[:200])


# ---- overview ---------------------------------------------------------------------------------

def section_overview(snap: Q.Snapshot, f: Q.Filters, counts: pd.DataFrame) -> None:
    st.subheader("Latest figures by source")
    st.caption("For each metric: every independent source's latest figure (totals only, planned releases "
               "left out) and how far apart the sources reporting in the last 7 days are. "
               "Syndicated copies count once, under the outlet that first published the story.")
    names = list(dict.fromkeys([*counts.metric, *metric_meta()]))
    per_metric, per_source = ask(snap, "overview", f.without_metric(), headline_kinds(names))
    if per_metric.empty:
        st.info("No dated claims match the filters, so there is nothing to compare yet.")
    rows = []
    for name in names:
        m = per_metric[per_metric.metric == name]
        meta = metric_meta().get(name)
        base = {"Metric": meta[0] if meta else R.clean(name), "المؤشر": meta[1] if meta else ""}
        if m.empty:
            rows.append({**base, "Latest day": "no claims", "Sources (recent)": "", "Lowest": "", "Highest": "",
                         "Spread": ""})
            continue
        r = m.iloc[0]
        spread = r.relative_spread
        rows.append({**base, "Latest day": fmt_day(r.latest_day),
                     "Sources (recent)": f"{int(r.n_sources)} ({int(r.n_recent)})",
                     "Lowest": fmt_value(r.min_value), "Highest": fmt_value(r.max_value),
                     "Spread": "–" if pd.isna(spread) else f"{spread:.1%}"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for name in per_metric.metric:
        src = per_source[per_source.metric == name]
        with st.expander(f"{metric_label(name)}: latest by source ({len(src)})"):
            table = pd.DataFrame({
                "Source": src.source, "Day": days(src.day),
                "Figure": figures(src),
                "In spread": src.recent.map(lambda b: "yes" if b else "older"),
                "Quote": src.quote,
            })
            st.dataframe(safe_table(table), hide_index=True, width="stretch")


# ---- timeline ---------------------------------------------------------------------------------

_BOTTOM, _TOP, _TITLE = 123456789.125, 987654321.125, "@@value-title@@"  # placeholders in the template


@st.cache_resource(show_spinner=False)  # not lru_cache: this script's functions are redefined every rerun
def timeline_template() -> str:
    """The timeline's Vega-Lite spec as JSON, without data: points per series; intervals as
    bands; open intervals as bars to the chart's edge; disagreement windows as shaded days.

    The figure layers read the named dataset ``figures``, the windows ``windows``; the y
    domain, the title and the qualifier shapes are filled in per chart (``timeline_spec``).
    Built with Altair once per server, because building and validating it costs more than
    the queries.
    """
    used = tuple(QUALIFIER_LABELS)
    tooltip = [alt.Tooltip("series:N", title="Series"), alt.Tooltip("day:T", title="Day", format="%Y-%m-%d"),
               alt.Tooltip("figure:N", title="Figure"), alt.Tooltip("qualifier:N", title="Qualifier"),
               alt.Tooltip("publisher:N", title="Publisher"), alt.Tooltip("attributed_to:N", title="Attributed to"),
               alt.Tooltip("quote:N", title="Quote"), alt.Tooltip("n_mentions:Q", title="Mentions")]
    x = alt.X("day:T", title="Day", axis=alt.Axis(format="%Y-%m-%d"))
    y_scale = alt.Scale(domain=[_BOTTOM, _TOP], nice=False, zero=False)
    color = alt.Color("series:N", title="Series", scale=alt.Scale(scheme="tableau10"),
                      legend=alt.Legend(orient="bottom", columns=3, labelLimit=260))
    pick = alt.selection_point(name="pick", fields=["claim_id"], on="click")
    base = alt.Chart(alt.NamedData("figures"))
    layers: list[alt.Chart] = [
        alt.Chart(alt.NamedData("windows")).mark_rect(color="#e03131", opacity=0.12).encode(
            x="start:T", x2="end:T",
            tooltip=[alt.Tooltip("range:N", title="Disagreement"), alt.Tooltip("spread:N", title="Spread"),
                     alt.Tooltip("n_sources:Q", title="Independent sources")]),
        base.mark_line(strokeWidth=1, opacity=0.5).encode(
            x=x, y=alt.Y("value:Q", scale=y_scale), color=color, detail="series:N"),
        base.transform_filter("datum.band == 'interval'").mark_bar(size=9, opacity=0.35).encode(
            x=x, y=alt.Y("y_low:Q", scale=y_scale), y2="y_high:Q", color=color, tooltip=tooltip),
        # an open bar: from the stated bound to the edge of the chart
        base.transform_filter("datum.band == 'open'").mark_bar(size=5, opacity=0.35).encode(
            x=x, y=alt.Y("y_low:Q", scale=y_scale), y2="y_high:Q", color=color, tooltip=tooltip),
    ]
    layers.append(base.mark_point(filled=True, size=70, opacity=0.95).encode(
        x=x, y=alt.Y("value:Q", title=_TITLE, scale=y_scale), color=color,
        shape=alt.Shape("qualifier:N", title="Qualifier",
                        scale=alt.Scale(domain=[QUALIFIER_LABELS[q] for q in used],
                                        range=[QUALIFIER_SHAPES[q] for q in used])),
        tooltip=tooltip).add_params(pick))
    with debug_mode(False):
        chart = alt.layer(*layers).properties(height=440).interactive(bind_y=False)
        return json.dumps(chart.to_dict(validate=False))


def timeline_spec(df: pd.DataFrame, windows: pd.DataFrame, value_title: str) -> dict[str, Any]:
    """The template filled in: y domain padded around the figures, and the data as frames
    (Streamlit sends named datasets to the browser as Arrow)."""
    finite = pd.concat([df.value, df.value_low, df.value_high]).dropna()
    lo, hi = (float(finite.min()), float(finite.max())) if not finite.empty else (0.0, 1.0)
    pad = 0.15 * ((hi - lo) or max(abs(hi), 1.0) * 0.1)  # a toll near 40,000 must not sit on a 0-based axis
    bottom, top = (max(0.0, lo - pad) if lo >= 0 else lo - pad), hi + pad
    band = df.qualifier.map({"approx": "interval", "range": "interval", "vague": "interval", "more_than": "open",
                             "at_least": "open", "less_than": "open", "at_most": "open"}).fillna("")
    used = [q for q in QUALIFIER_LABELS if q in set(df.qualifier.tolist())]
    spec = json.loads(timeline_template().replace(json.dumps(_TITLE), json.dumps(value_title))
                      .replace(repr(_BOTTOM), repr(bottom)).replace(repr(_TOP), repr(top)))
    shape = spec["layer"][-1]["encoding"]["shape"]["scale"]  # the legend lists the qualifiers present
    shape["domain"] = [QUALIFIER_LABELS[q] for q in used]
    shape["range"] = [QUALIFIER_SHAPES[q] for q in used]
    figures_df = pd.DataFrame({
        "day": pd.to_datetime(df.day), "value": df.value, "y_low": df.value_low.fillna(bottom),
        "y_high": df.value_high.fillna(top), "band": band, "figure": figures(df),
        "qualifier": df.qualifier.map(QUALIFIER_LABELS), "n_mentions": df.n_mentions, "claim_id": df.claim_id,
        **{c: R.clean_all(df[c].tolist()) for c in ("series", "quote", "publisher", "attributed_to")},
    })
    datasets: dict[str, Any] = {"figures": figures_df}
    datasets["windows"] = pd.DataFrame({
        "start": pd.to_datetime(windows.first_day) - pd.Timedelta(hours=12),
        "end": pd.to_datetime(windows.last_day) + pd.Timedelta(hours=12),
        "range": [f"{fmt_value(a)} – {fmt_value(b)}" for a, b in zip(windows.min_value.tolist(), windows.max_value.tolist())],
        "spread": ["–" if pd.isna(x_) else f"{x_:.1%}" for x_ in windows.relative_spread.tolist()],
        "n_sources": windows.n_sources,
    })
    spec["datasets"] = datasets
    return spec


@st.cache_data(max_entries=64, show_spinner=False)
def timeline_view(key: tuple[Any, ...], _snap: Q.Snapshot, f: Q.Filters, series: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The timeline's Vega-Lite spec (None when nothing is dated) and its row counts."""
    con = _snap.cursor()
    try:
        df, info = Q.timeline(con, f, series, TIMELINE_SERIES)
        if info["dated"] == 0:
            return None, info
        windows = Q.disagreements(con, f, MAX_WINDOWS, 0)  # the windows need no names
    finally:
        con.close()
    return timeline_spec(df, windows, metric_label(f.metric or "", with_ar=False)), info


def section_timeline(snap: Q.Snapshot, f: Q.Filters) -> None:
    assert f.metric is not None
    series = st.radio("One series per", list(Q.SERIES_LABELS), key="series", horizontal=True,
                      format_func=lambda s: Q.SERIES_LABELS[s])
    spec, info = timeline_view(snap.key, snap, f, series)
    if spec is None:
        if info["undated"]:
            st.info(f"The {info['undated']:,} matching claims come from undated articles, so they cannot be "
                    "placed on a timeline. They are listed under Claims.")
        else:
            st.info(f"No claims of {metric_label(f.metric)} match these filters.")
        return
    notes = []
    if info["series"] > info["series_shown"]:
        notes.append(f"the {info['series_shown']} series with the most claims of {info['series']:,} "
                     "(narrow with the Publishers or Attributed sources filters)")
    if info["rows_capped"]:
        notes.append(f"the latest {info['rows']:,} figures")
    if notes:
        st.caption("Showing " + " and ".join(notes) + ".")
    st.caption("Dots are the stated figures; bars are intervals (approximate or ranges); faded bars running to "
               "the edge are open intervals (\"more than\", \"at least\"); red bands mark days where independent "
               "sources disagree. Click a dot to read its sentence.")
    event = st.vega_lite_chart(spec, width="stretch", on_select="rerun", key="timeline_chart",
                               selection_mode="pick")
    if info["undated"]:
        st.caption(f"{info['undated']:,} undated claims are not on the timeline; see Claims.")
    picked = (event.selection.get("pick") or []) if event and hasattr(event, "selection") else []
    claim_ids = [p.get("claim_id") for p in picked if isinstance(p, dict) and p.get("claim_id")]
    if claim_ids:
        show_claim(snap, str(claim_ids[0]))


# ---- disagreements ----------------------------------------------------------------------------

def section_disagreements(snap: Q.Snapshot, f: Q.Filters) -> None:
    groups = ask(snap, "disagreements", f, 500, WHO_SHOWN)
    if groups.empty:
        st.success("No disagreements: no two independent sources give incompatible figures within a day of "
                   "each other for these filters.")
        return
    st.caption("Two figures disagree when their intervals cannot both be true and they come from independent "
               "sources within a day of each other. Most severe first: the relative spread, then the number "
               "of independent sources. Select a row to compare the claims side by side; with three or more "
               "levels, a middle figure is on both sides.")
    table = pd.DataFrame({
        "Days": [a if a == b else f"{a} → {b}" for a, b in zip(days(groups.first_day), days(groups.last_day))],
        "Metric": metric_names(groups.metric),
        "Subgroup": groups.subgroup.fillna("total"),
        "Kind": groups.kind + groups.planned.map(lambda p: " (planned)" if p else ""),
        "Lowest": groups.min_value.map(fmt_value), "Highest": groups.max_value.map(fmt_value),
        "Spread": groups.relative_spread.map(lambda s: "–" if pd.isna(s) else f"{s:.1%}"),
        "Sources": groups.n_sources,
        "Who": [" · ".join(map(str, list(s)[:WHO_SHOWN])) + (" …" if n > WHO_SHOWN else "")
                for s, n in zip(groups.sources, groups.n_sources)],
    })
    event = st.dataframe(safe_table(table), hide_index=True, width="stretch", key="dis_table",
                         on_select="rerun", selection_mode="single-row", height=table_height(len(table)))
    rows = list(event.selection.rows) if event is not None and hasattr(event, "selection") else []
    ids = list(groups.conflict_id)
    if rows and "dis_pick" in st.session_state and st.session_state.get("dis_rows") != rows:
        st.session_state["dis_pick"] = ids[rows[0]]  # a click in the table moves the picker
    st.session_state["dis_rows"] = rows
    labels = {cid: f"{d} · {m} · {lo} vs {hi} ({sp})"
              for cid, d, m, lo, hi, sp in zip(ids, table.Days, table.Metric, table.Lowest, table.Highest, table.Spread)}
    cid = st.selectbox("Compare", ids, key="dis_pick", format_func=lambda c: labels.get(c, c))
    row = groups[groups.conflict_id == cid].iloc[0].to_dict()
    claims = ask(snap, "disagreement_claims", f, row, MAX_CARDS)
    low, high = claims[claims.side == "low"], claims[claims.side == "high"]
    left, right = st.columns(2)
    for col, title, side, rows in ((left, "Lower figures", "low", low), (right, "Higher figures", "high", high)):
        total = int(rows.n_side.iloc[0]) if len(rows) else 0
        with col:
            st.markdown(f"**{title}** ({total} claims)")
            for _, c in rows.iterrows():
                claim_card(c, side)
            if total > len(rows):
                st.caption(f"and {total - len(rows)} more: narrow the filters to the group's days to list them "
                           "under Claims.")


def claim_card(c: pd.Series, side: str) -> None:
    """One claim of a disagreement: figure, who, when, the sentence with the number marked."""
    with st.container(border=True):
        html(R.meta_table([
            ("Figure", R.esc(fmt_interval(c))),
            ("Publisher", R.esc(or_(c.publisher, "unknown"))),
            ("Day", R.esc(fmt_day(c.as_of))),
            ("Attributed to", R.esc(or_(c.attributed_to, "not attributed"))),
        ]))
        html(sentence_markup(c))
        st.button("Open claim", key=f"open:{side}:{c.claim_id}", on_click=open_claim, args=(str(c.claim_id),))


def open_claim(claim_id: str) -> None:
    """Callback: show this claim in the Claims section."""
    st.session_state["claim_id"] = claim_id
    st.session_state["section"] = "Claims"


def sentence_markup(c: pd.Series | dict[str, Any]) -> str:
    """The claim's sentence, right to left, its number marked (offsets are article offsets)."""
    sentence = c["sentence"] or c["quote"]
    span = R.number_in_sentence(sentence, c["quote"], c["span_start"], c["number_start"], c["number_end"])
    return R.sentence_html(sentence, *(span or (None, None)))


# ---- claims -------------------------------------------------------------------------------------

def section_claims(snap: Q.Snapshot, f: Q.Filters) -> None:
    total = ask(snap, "count_claims", f)
    if total == 0:
        st.info("No claims match these filters.")
        if "claim_id" in st.session_state:
            show_claim(snap, st.session_state["claim_id"])
        return
    pages = max(1, -(-total // PAGE_ROWS))
    top = st.columns([3, 1, 1, 1])
    page = 1
    if pages > 1:
        page = int(top[1].number_input("Page", min_value=1, max_value=pages, value=1, key="page"))
    top[0].markdown(f"**{total:,} claims** match the filters" + (f" · page {page} of {pages}" if pages > 1 else ""))
    with top[2]:
        st.download_button("CSV", data=lambda: export_csv(snap, f), file_name="claims.csv", mime="text/csv",
                           key="dl_csv", on_click="ignore", icon=":material/download:",
                           help="All filtered claims with provenance (UTF-8 with BOM, for spreadsheets).")
    with top[3]:
        st.download_button("Parquet", data=lambda: export_parquet(snap, f), file_name="claims.parquet",
                           mime="application/vnd.apache.parquet", key="dl_parquet", on_click="ignore",
                           icon=":material/download:", help="All filtered claims with provenance.")
    df = ask(snap, "claims_page", f, PAGE_ROWS, (page - 1) * PAGE_ROWS)
    table = pd.DataFrame({
        "Day": days(df.as_of), "Metric": metric_names(df.metric),
        "Subgroup": df.subgroup.fillna(""), "Figure": figures(df),
        "Publisher": df.publisher.fillna(""), "Attributed to": df.attributed_to.fillna(""),
        "Quote": df.quote, "Title": df.title.fillna(""),
    })
    event = st.dataframe(safe_table(table), hide_index=True, width="stretch", key="claims_table",
                         on_select="rerun", selection_mode="single-row", height=table_height(len(table), 12))
    rows = list(event.selection.rows) if event is not None and hasattr(event, "selection") else []
    ids = list(df.claim_id)
    if rows and st.session_state.get("claims_rows") != rows:
        st.session_state["claim_id"] = ids[rows[0]]
    st.session_state["claims_rows"] = rows
    current = st.session_state.get("claim_id")
    options = ids if current in ids or current is None else [current, *ids]
    labels = {cid: f"{d} · {short(or_(p, 'unknown'), 30)} · {fig} · {short(q, 50)}"
              for cid, d, p, fig, q in zip(ids, table.Day, df.publisher, table.Figure, df.quote)}
    if current is not None and current not in labels:
        labels[current] = f"claim {current}"
    if current not in options:
        current = options[0]
    st.session_state["claim_pick"] = current
    st.selectbox("Open claim", options, key="claim_pick", format_func=lambda c: labels.get(c, c),
                 on_change=lambda: st.session_state.update(claim_id=st.session_state["claim_pick"]))
    show_claim(snap, st.session_state["claim_pick"])


def export_csv(snap: Q.Snapshot, f: Q.Filters) -> bytes:
    con = snap.cursor()
    try:
        table = Q.export_table(con, f, for_csv=True)
    finally:
        con.close()
    buf = io.BytesIO()
    buf.write(b"\xef\xbb\xbf")  # BOM: spreadsheets then read the Arabic as UTF-8
    pacsv.write_csv(table, buf)
    return buf.getvalue()


def export_parquet(snap: Q.Snapshot, f: Q.Filters) -> bytes:
    con = snap.cursor()
    try:
        table = Q.export_table(con, f)
    finally:
        con.close()
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def show_claim(snap: Q.Snapshot, claim_id: str) -> None:
    """The claim drill-down: its sentence, provenance, and the whole article with every claim marked."""
    d = ask(snap, "claim_detail", claim_id)
    if d is None:
        st.info("That claim is no longer in the database (its article was re-ingested or re-extracted).")
        return
    st.markdown("#### Claim")
    html(sentence_markup(d))
    url_html = R.link(d["url"]) if d.get("url") else R.esc("no URL")
    html(R.meta_table([
        ("Metric", R.esc(metric_label(d["metric"]))),
        ("Figure", R.esc(fmt_interval(d)) + (R.esc(" · planned") if d["planned"] else "")),
        ("Subgroup", R.esc(or_(d["subgroup"], "total"))),
        ("Kind", R.esc(d["kind"])),
        ("Publisher", R.esc(or_(d["publisher"], "unknown"))),
        ("Published", R.esc(fmt_day(d["published_at"]))),
        ("Figure as of", R.esc(fmt_day(d["as_of"]))),
        ("Article", url_html),
        ("Title", f'<span dir="auto">{R.esc(or_(d["title"], ""))}</span>'),
        ("Attributed to", R.esc(or_(d["attributed_to"], "not attributed"))),
        ("Rule", R.esc(f"{d['rule_id']} (version {d['rule_version']})")),
        ("Claim id", R.esc(d["claim_id"])),
    ]))
    try:
        found = cached_article(snap.key, snap, d["article_id"])
    except store.StoreError:
        st.info("The article's text cannot be read right now (an ingest is writing); reopen the claim in a moment.")
        return
    if found is None:
        st.info("The article's text is no longer in the database.")
        return
    text = found[0]
    others = d["article_claims"]
    spans = [R.Span(int(r.span_start), int(r.span_end), "trk-claim",
                    title=f"{metric_label(r.metric, with_ar=False)}: {fmt_value(r.value)} ({r.qualifier})")
             for r in others.itertuples()]
    spans += [R.Span(int(r.number_start), int(r.number_end),
                     "trk-num trk-current" if r.claim_id == claim_id else "trk-num")
              for r in others.itertuples() if pd.notna(r.number_start) and pd.notna(r.number_end)]
    with st.expander(f"Whole article ({len(others)} claims marked)", expanded=True):
        html(R.arabic_block(R.highlight(text, spans), css="trk-article", testid="claim-article"))


# ---- page -------------------------------------------------------------------------------------

def status_line(snap: Q.Snapshot, summary: dict[str, Any]) -> None:
    refreshing, error = Q.refresh_state(snap.path)
    parts = [f"{summary['claims']:,} claims from {snap.info['articles']:,} articles",
             f"data as of {snap.built_at:%H:%M:%S}"]
    if summary["first_day"] is not None:
        parts.append(f"{fmt_day(summary['first_day'])} to {fmt_day(summary['last_day'])}")
    if summary["undated"]:
        parts.append(f"{summary['undated']:,} undated")
    if refreshing:
        parts.append("the database changed: loading the new data…")
    elif Q.is_stale(snap):
        parts.append("the database changed: the new data loads shortly")
    st.caption(" · ".join(parts))
    if error:
        st.caption("Could not read the latest data yet; showing the previous data.")
        st.text(short(error, 200))  # st.text: an error message is not Markdown


@st.fragment(run_every=5)
def watch_for_updates(path: str, key: tuple[Any, ...]) -> None:
    """Every few seconds: start a refresh if the file changed, and rerun once one is ready."""
    try:
        snap = Q.snapshot(path)
    except store.StoreError:
        return
    if snap.key != key:
        st.rerun(scope="app")


def main() -> None:
    st.set_page_config(page_title="Gaza war figures in Arabic news", page_icon=":bar_chart:", layout="wide")
    html(R.CSS)
    st.title("Gaza war figures in Arabic news")
    path = Q.db_path(db_from_argv(sys.argv[1:]))
    try:
        with st.spinner("Loading the database…"):
            snap = Q.snapshot(path)
    except Q.NoDatabase:
        st.info("There is no database yet.")
        st.markdown("Create it by ingesting articles, then reload this page:")
        st.code(f"tracker ingest ARTICLES.jsonl --db {path}", language="bash")
        return
    except store.StoreError as exc:
        st.warning("The database cannot be read right now. If an ingest is running, reload in a moment.")
        st.text(short(str(exc), 300))  # not Markdown: the message may quote anything
        return
    try:
        page(path, snap)
    except Exception:
        watch_for_updates(path, snap.key)  # a page that failed still picks up new data
        raise
    # once the page is drawn: the snapshot's remaining work (ordering its facts, the
    # disagreements) in the background, and the watch for new data
    Q.start_background(snap)
    watch_for_updates(path, snap.key)


def page(path: str, snap: Q.Snapshot) -> None:
    summary = ask(snap, "summary")
    status_line(snap, summary)
    if summary["claims"] == 0:
        st.info(f"The database has {snap.info['articles']:,} articles but no claims yet. Ingest articles "
                "that report the war's figures (`tracker ingest FILE`), then reload.")
        return
    counts = ask(snap, "metric_counts")
    f = sidebar_filters(snap, counts)
    if f.metric not in set(counts.metric):
        st.info(f"No claims of {metric_label(f.metric or '')} yet: no article in the database states this figure. "
                "Choose another metric in the sidebar.")
    tabs = st.tabs(SECTIONS, key="section", on_change="rerun")
    renderers: dict[str, Callable[[], None]] = {
        "Overview": lambda: section_overview(snap, f, counts),
        "Timeline": lambda: section_timeline(snap, f),
        "Disagreements": lambda: section_disagreements(snap, f),
        "Claims": lambda: section_claims(snap, f),
    }
    for name, tab in zip(SECTIONS, tabs):
        # lazy tabs: only the open one runs its queries
        if tab.open is False:
            continue
        with tab:
            if name != "Overview" and f.metric not in set(counts.metric):
                st.info("Nothing to show for this metric.")
                if name == "Claims" and "claim_id" in st.session_state:
                    show_claim(snap, st.session_state["claim_id"])
                continue
            renderers[name]()


try:
    main()
except Exception as exc:  # never a traceback in front of the user; details go to the server log
    import logging

    logging.getLogger("tracker.dashboard").exception("dashboard failed")
    st.error("Something went wrong while drawing this page. Reload to try again; the details are in the "
             "server log.")
    st.text(short(f"{type(exc).__name__}: {exc}", 200))  # not Markdown: the message may quote data
