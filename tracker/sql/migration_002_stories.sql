-- Migration 2: syndicated copies linked into stories (tracker/stories.py).
-- Articles stored before this migration get their signatures and story ids from the
-- Python step that runs right after it (store._backfill_stories).

ALTER TABLE articles ADD COLUMN story_id VARCHAR;

-- MinHash signature of each article's text (NUM_PERM little-endian uint32) and the number of
-- distinct word shingles it summarises.
CREATE TABLE story_signatures (
    article_id VARCHAR PRIMARY KEY,
    signature  BLOB NOT NULL,
    shingles   INTEGER NOT NULL
);

-- Locality-sensitive hashing bands: articles sharing a band_key are candidate copies. The
-- publication day is repeated here so that candidates are looked up by band and day at once.
CREATE TABLE story_bands (
    band_key   BIGINT NOT NULL,
    day        DATE,
    article_id VARCHAR NOT NULL
);
