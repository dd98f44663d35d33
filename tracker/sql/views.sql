-- Views and table macros over the tables: recreated whenever this file changes.
-- docs/storage.md documents every column; its example queries run in tests/test_store.py.

-- Each article with its story and its independent source: the first publisher (by publication
-- time, then article id) that carried the story. Syndicated copies share that source, so they
-- count once when sources are compared.
CREATE OR REPLACE VIEW article_sources AS
SELECT
    article_id,
    publisher,
    story_id,
    published_at,
    COALESCE(
        first_value(publisher IGNORE NULLS) OVER story_order,
        'story ' || story_id
    ) AS source
FROM articles
WINDOW story_order AS (
    PARTITION BY story_id ORDER BY published_at NULLS LAST, article_id
    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
);

-- One row per story: its articles and publishers.
CREATE OR REPLACE VIEW stories AS
SELECT
    story_id,
    any_value(source) AS source,
    count(*) AS n_articles,
    count(DISTINCT publisher) AS n_publishers,
    list_sort(list(DISTINCT publisher) FILTER (WHERE publisher IS NOT NULL)) AS publishers,
    min(published_at) AS first_published_at,
    list(article_id ORDER BY published_at NULLS LAST, article_id) AS article_ids
FROM article_sources
GROUP BY story_id;

-- Every claim with its article's publisher, url, title, date, story and source, and whether
-- its interval bounds are open (more_than / less_than exclude the stated number).
CREATE OR REPLACE VIEW claims_detailed AS
SELECT
    c.*,
    a.publisher,
    a.url,
    a.title,
    a.published_at,
    a.story_id,
    s.source,
    c.qualifier = 'more_than' AS low_open,
    c.qualifier = 'less_than' AS high_open
FROM claims AS c
JOIN articles AS a USING (article_id)
JOIN article_sources AS s USING (article_id);

-- metric x subgroup x source x day -> each distinct figure stated, with its interval.
-- A figure repeated (headline and body, or syndicated copies) is one row with n_mentions > 1.
-- Undated claims have day NULL.
CREATE OR REPLACE VIEW timeline AS
SELECT
    metric,
    subgroup,
    kind,
    planned,
    source,
    attributed_to,
    as_of AS day,
    value,
    value_low,
    value_high,
    qualifier,
    count(*) AS n_mentions,
    count(DISTINCT article_id) AS n_articles,
    list_sort(list(DISTINCT publisher) FILTER (WHERE publisher IS NOT NULL)) AS publishers,
    list_sort(list(DISTINCT article_id)) AS article_ids,
    list_sort(list(claim_id)) AS claim_ids
FROM claims_detailed
GROUP BY ALL;

-- Disagreements between independent sources, as-of days at most window_days apart.
--
-- Two timeline rows (same metric, subgroup, kind and planned flag) conflict when their
-- intervals cannot both hold: one lies wholly below the other, an open bound (more_than,
-- less_than) excluding its own number. They must come from independent sources: a different
-- source (first publisher of the story), or two different named attributions. A cumulative
-- toll only grows, so a later higher figure does not conflict with an earlier lower one.
--
-- Pairs are formed between voices (one row per metric, subgroup, day, source and attribution,
-- carrying its lowest upper bound and highest lower bound), never between claims: two voices
-- conflict when one's lowest upper bound lies below the other's highest lower bound, and the
-- statements on each side are then picked from the voices' lists. The ±window join is an
-- equi-join on a day offset expanded from a small range (a BETWEEN range join measured 50x
-- slower, and day = day + k inside the join a cross product). Each conflicting pair belongs to the group of its earlier day: one row per metric,
-- subgroup, kind, planned flag and first day.
CREATE OR REPLACE MACRO disagreements_within(window_days) AS TABLE
WITH voices AS MATERIALIZED (
    SELECT
        metric, subgroup, COALESCE(subgroup, '') AS subgroup_key, kind, planned, day, source,
        attributed_to,
        source || COALESCE(' / ' || attributed_to, '') AS voice,
        -- the strongest lower bound: highest, an open one winning a tie
        max({'v': value_low, 'open': qualifier = 'more_than'}) FILTER (WHERE value_low IS NOT NULL) AS top_low,
        -- the weakest upper bound: lowest, an open one winning a tie
        min({'v': value_high, 'closed': qualifier <> 'less_than'}) FILTER (WHERE value_high IS NOT NULL) AS bottom_high,
        list({'low': value_low, 'high': value_high, 'low_open': qualifier = 'more_than',
              'high_open': qualifier = 'less_than', 'value': value, 'claim_ids': claim_ids}) AS statements
    FROM timeline
    WHERE day IS NOT NULL
    GROUP BY ALL
),
-- each voice once per day it may be compared with: the window as an equi-join key (a join on
-- day = day + k would be planned as a cross product over all days)
shifted AS MATERIALIZED (
    SELECT voices.*, CAST(voices.day + CAST(offsets.k AS INTEGER) AS DATE) AS partner_day
    FROM voices CROSS JOIN range(-window_days, window_days + 1) AS offsets(k)
),
pairs AS MATERIALIZED (
    SELECT
        lo.metric, lo.subgroup, lo.kind, lo.planned,
        least(lo.day, hi.day) AS first_day,
        greatest(lo.day, hi.day) AS last_day,
        lo.voice AS low_voice,
        hi.voice AS high_voice,
        -- the low voice's statements below the high voice's strongest lower bound, and back
        list_filter(lo.statements, lambda s: s.high < hi.top_low.v
                    OR (s.high = hi.top_low.v AND (s.high_open OR hi.top_low.open))) AS low_side,
        list_filter(hi.statements, lambda s: s.low > lo.bottom_high.v
                    OR (s.low = lo.bottom_high.v AND (s.low_open OR NOT lo.bottom_high.closed))) AS high_side
    FROM shifted AS lo
    JOIN voices AS hi
      ON hi.metric = lo.metric
     AND hi.subgroup_key = lo.subgroup_key
     AND hi.kind = lo.kind
     AND hi.planned = lo.planned
     AND hi.day = lo.partner_day
    WHERE lo.bottom_high IS NOT NULL
      AND hi.top_low IS NOT NULL
      AND (lo.bottom_high.v < hi.top_low.v
           OR (lo.bottom_high.v = hi.top_low.v AND (NOT lo.bottom_high.closed OR hi.top_low.open)))
      AND (lo.source <> hi.source OR lo.attributed_to <> hi.attributed_to)
      AND NOT (lo.kind = 'cumulative' AND lo.day < hi.day)
),
ends AS (
    SELECT metric, subgroup, kind, planned, first_day, last_day, 'low' AS side, low_voice AS voice,
           unnest(low_side) AS s
    FROM pairs
    UNION ALL
    SELECT metric, subgroup, kind, planned, first_day, last_day, 'high' AS side, high_voice AS voice,
           unnest(high_side) AS s
    FROM pairs
)
SELECT
    md5(concat_ws('|', metric, COALESCE(subgroup, ''), kind, planned, first_day))[:16] AS conflict_id,
    metric,
    subgroup,
    kind,
    planned,
    first_day,
    max(last_day) AS last_day,
    count(DISTINCT voice) AS n_sources,
    min(s.value) AS min_value,
    max(s.value) AS max_value,
    (max(s.value) - min(s.value)) / NULLIF(max(s.value), 0) AS relative_spread,
    list_sort(list_distinct(flatten(list(s.claim_ids) FILTER (WHERE side = 'low')))) AS low_claim_ids,
    list_sort(list_distinct(flatten(list(s.claim_ids) FILTER (WHERE side = 'high')))) AS high_claim_ids,
    list_sort(list_distinct(list(voice))) AS sources
FROM ends
GROUP BY metric, subgroup, kind, planned, first_day;

-- The default window: as-of days at most one day apart.
CREATE OR REPLACE VIEW disagreements AS
SELECT * FROM disagreements_within(1);

-- A cumulative toll that a source states lower than it did on an earlier day: the later
-- figure's interval lies wholly below the highest lower bound the same source (and the same
-- attribution) gave before.
CREATE OR REPLACE VIEW revisions AS
WITH daily AS (
    SELECT
        metric, subgroup, source, attributed_to, day,
        max({'low': value_low, 'open': qualifier = 'more_than', 'day': day, 'value': value,
             'claim_ids': claim_ids}) FILTER (WHERE value_low IS NOT NULL) AS strongest,
        min({'high': value_high, 'closed': qualifier <> 'less_than', 'value': value,
             'claim_ids': claim_ids}) FILTER (WHERE value_high IS NOT NULL) AS weakest
    FROM timeline
    WHERE kind = 'cumulative' AND NOT planned AND day IS NOT NULL
    GROUP BY ALL
),
running AS (
    SELECT *, max(strongest) OVER (
        PARTITION BY metric, subgroup, source, attributed_to ORDER BY day
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS before
    FROM daily
)
SELECT
    metric,
    subgroup,
    source,
    attributed_to,
    day,
    weakest.value AS value,
    weakest.high AS value_high,
    weakest.claim_ids AS claim_ids,
    before.day AS previous_day,
    before.value AS previous_value,
    before.low AS previous_value_low,
    before.claim_ids AS previous_claim_ids
FROM running
WHERE weakest IS NOT NULL AND before IS NOT NULL
  AND (weakest.high < before.low
       OR (weakest.high = before.low AND (before.open OR NOT weakest.closed)));
