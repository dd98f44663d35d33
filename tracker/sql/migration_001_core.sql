-- Migration 1: runs, articles and their claims, and the claims later runs superseded.
-- Column names are a public interface (docs/storage.md): add columns, never rename them.

CREATE TABLE runs (
    run_id             INTEGER PRIMARY KEY,
    command            VARCHAR NOT NULL,      -- 'ingest' or 'reextract'
    started_at         TIMESTAMP NOT NULL,    -- UTC
    finished_at        TIMESTAMP,             -- NULL: still running, or killed
    status             VARCHAR NOT NULL,      -- running | completed | interrupted
    rules_hash         VARCHAR NOT NULL,      -- content hash of the rule files used
    tool_version       VARCHAR NOT NULL,      -- tracker package version
    inputs             VARCHAR[],             -- paths given to ingest
    articles_new       INTEGER NOT NULL DEFAULT 0,
    articles_unchanged INTEGER NOT NULL DEFAULT 0,
    articles_replaced  INTEGER NOT NULL DEFAULT 0,
    articles_failed    INTEGER NOT NULL DEFAULT 0,
    claims_added       INTEGER NOT NULL DEFAULT 0,
    claims_removed     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE articles (
    article_id          VARCHAR PRIMARY KEY,
    publisher           VARCHAR,
    url                 VARCHAR,
    published_at        TIMESTAMP,            -- wall clock as the source wrote it; NULL = undated
    published_at_source VARCHAR,              -- 'input', 'metadata:<key>', 'text' or NULL
    title               VARCHAR,
    text                VARCHAR NOT NULL,     -- the original text: claim offsets index it
    content_hash        VARCHAR NOT NULL,     -- sha256 of text
    record_hash         VARCHAR NOT NULL,     -- sha256 of every input field: same = unchanged
    metadata            JSON,                 -- every other input key
    read_from           VARCHAR,              -- 'path:line' of the record
    ingested_at         TIMESTAMP NOT NULL,   -- UTC, when this version was stored
    run_id              INTEGER NOT NULL,     -- the run that stored this version
    rules_hash          VARCHAR NOT NULL      -- the rules that produced its current claims
);

CREATE TABLE claims (
    claim_id        VARCHAR PRIMARY KEY,      -- stable: same article text, rule and span, same id
    article_id      VARCHAR NOT NULL,
    run_id          INTEGER NOT NULL,
    metric          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,         -- stock | cumulative | event
    value           DOUBLE NOT NULL,
    value_low       DOUBLE,                   -- NULL = unbounded below
    value_high      DOUBLE,                   -- NULL = unbounded above
    qualifier       VARCHAR NOT NULL,         -- exact approx more_than at_least less_than at_most range vague
    subgroup        VARCHAR,
    planned         BOOLEAN NOT NULL,
    parent_claim_id VARCHAR,
    attributed_to   VARCHAR,
    sentence        VARCHAR,
    span_start      INTEGER NOT NULL,         -- text[span_start:span_end] == quote (Python indices)
    span_end        INTEGER NOT NULL,
    quote           VARCHAR NOT NULL,
    number_start    INTEGER,
    number_end      INTEGER,
    rule_id         VARCHAR NOT NULL,
    rule_version    INTEGER NOT NULL,
    claim_key       VARCHAR NOT NULL,         -- the extractor's key, unique within the article
    as_of           DATE,                     -- the day the figure describes; default publication day
    extracted_at    TIMESTAMP NOT NULL        -- UTC
);

-- Claims replaced by a later run (rules changed) or by a new text under the same article id.
-- Their spans index the text whose sha256 is content_hash, which may no longer be stored.
CREATE TABLE claims_history (
    claim_id          VARCHAR NOT NULL,
    article_id        VARCHAR NOT NULL,
    run_id            INTEGER NOT NULL,
    metric            VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,
    value             DOUBLE NOT NULL,
    value_low         DOUBLE,
    value_high        DOUBLE,
    qualifier         VARCHAR NOT NULL,
    subgroup          VARCHAR,
    planned           BOOLEAN NOT NULL,
    parent_claim_id   VARCHAR,
    attributed_to     VARCHAR,
    sentence          VARCHAR,
    span_start        INTEGER NOT NULL,
    span_end          INTEGER NOT NULL,
    quote             VARCHAR NOT NULL,
    number_start      INTEGER,
    number_end        INTEGER,
    rule_id           VARCHAR NOT NULL,
    rule_version      INTEGER NOT NULL,
    claim_key         VARCHAR NOT NULL,
    as_of             DATE,
    extracted_at      TIMESTAMP NOT NULL,
    content_hash      VARCHAR NOT NULL,
    superseded_at     TIMESTAMP NOT NULL,
    superseded_by_run INTEGER NOT NULL
);
