-- Migration 3: storage for bulk loading (issue 6). The same columns, rebuilt tables:
-- * claims without the PRIMARY KEY index on claim_id: keeping the index cost more than the rest
--   of a claim's insert, and held the whole index in memory. Ids stay unique by construction
--   (an article's claims are replaced as a whole; store.claim_tuples keeps one claim per key).
-- * articles.text compressed with zstd: long texts compress better and faster than with the
--   default string compression, which cost most of each checkpoint.
-- * story_signatures.signature stored uncompressed: MinHash values are random bytes; trying to
--   compress them cost most of that table's checkpoint.

CREATE TABLE claims_v3 (
    claim_id        VARCHAR NOT NULL,         -- stable: same article text, rule and span, same id
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
INSERT INTO claims_v3 SELECT * FROM claims;
DROP TABLE claims;
ALTER TABLE claims_v3 RENAME TO claims;

CREATE TABLE articles_v3 (
    article_id          VARCHAR PRIMARY KEY,
    publisher           VARCHAR,
    url                 VARCHAR,
    published_at        TIMESTAMP,            -- wall clock as the source wrote it; NULL = undated
    published_at_source VARCHAR,              -- 'input', 'metadata:<key>', 'text' or NULL
    title               VARCHAR,
    text                VARCHAR NOT NULL USING COMPRESSION zstd,  -- the original text: claim offsets index it
    content_hash        VARCHAR NOT NULL,     -- sha256 of text
    record_hash         VARCHAR NOT NULL,     -- sha256 of every input field: same = unchanged
    metadata            JSON,                 -- every other input key
    read_from           VARCHAR,              -- 'path:line' of the record
    ingested_at         TIMESTAMP NOT NULL,   -- UTC, when this version was stored
    run_id              INTEGER NOT NULL,     -- the run that stored this version
    rules_hash          VARCHAR NOT NULL,     -- the rules that produced its current claims
    story_id            VARCHAR               -- the story: syndicated copies share one
);
INSERT INTO articles_v3 SELECT * FROM articles;
DROP TABLE articles;
ALTER TABLE articles_v3 RENAME TO articles;

CREATE TABLE story_signatures_v3 (
    article_id VARCHAR PRIMARY KEY,
    signature  BLOB NOT NULL USING COMPRESSION uncompressed,
    shingles   INTEGER NOT NULL
);
INSERT INTO story_signatures_v3 SELECT * FROM story_signatures;
DROP TABLE story_signatures;
ALTER TABLE story_signatures_v3 RENAME TO story_signatures;
