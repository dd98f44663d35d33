-- Statements tracker/store.py runs, one per "-- name:" section. Parameters are always bound.
-- batch_* relations are Arrow tables the store registers for the current batch; batch_articles
-- has the columns of store.BATCH_ARTICLE_SCHEMA (story_id added once the batch is linked).

-- name: record_hashes
SELECT article_id, record_hash FROM articles;

-- name: record_keys
-- store.hash_key(record_hash): its first 16 hex digits as an unsigned 64-bit int
SELECT article_id, ('0x' || left(record_hash, 16))::UBIGINT FROM articles;

-- name: batch_existing
SELECT a.article_id, a.record_hash
FROM articles AS a JOIN (SELECT article_id FROM batch_articles) AS b USING (article_id);

-- name: next_run_id
SELECT COALESCE(max(run_id), 0) + 1 FROM runs;

-- name: insert_run
INSERT INTO runs (run_id, command, started_at, status, rules_hash, tool_version, inputs)
VALUES ($run_id, $command, $started_at, 'running', $rules_hash, $tool_version, $inputs);

-- name: update_run
UPDATE runs SET
    articles_new = articles_new + $new,
    articles_unchanged = articles_unchanged + $unchanged,
    articles_replaced = articles_replaced + $replaced,
    articles_failed = articles_failed + $failed,
    claims_added = claims_added + $claims_added,
    claims_removed = claims_removed + $claims_removed
WHERE run_id = $run_id;

-- name: finish_run
UPDATE runs SET finished_at = $finished_at, status = $status WHERE run_id = $run_id;

-- name: archive_claims
INSERT INTO claims_history
SELECT c.*, a.content_hash, $now AS superseded_at, $run_id AS superseded_by_run
FROM claims AS c
JOIN articles AS a USING (article_id)
WHERE c.article_id IN (SELECT article_id FROM batch_superseded);

-- name: delete_claims
DELETE FROM claims WHERE article_id IN (SELECT article_id FROM batch_superseded);

-- name: delete_articles
DELETE FROM articles WHERE article_id IN (SELECT article_id FROM batch_replaced);

-- name: delete_signatures
DELETE FROM story_signatures WHERE article_id IN (SELECT article_id FROM batch_replaced);

-- name: delete_bands
DELETE FROM story_bands WHERE article_id IN (SELECT article_id FROM batch_replaced);

-- name: stored_candidates
-- batch_links: (pos, bands, published_at) of each article of the batch, pos its position in
-- batch_articles. Stored articles sharing a band with one of them and published at most $window
-- days apart (either undated: any day): a hash join on the band key, the days compared on each
-- match. Stored bands outside [$lo, $hi] (the batch's days and the window) are skipped by the
-- scan (story_bands is mostly in day order); the caller widens the range for undated articles.
WITH nb AS (
    SELECT pos, unnest(bands) AS band_key, published_at::DATE AS day FROM batch_links
),
stored AS (
    SELECT band_key, day, article_id FROM story_bands WHERE day BETWEEN $lo AND $hi
    UNION ALL
    SELECT band_key, day, article_id FROM story_bands WHERE day IS NULL
),
hits AS (
    SELECT DISTINCT n.pos, s.article_id
    FROM nb AS n JOIN stored AS s
      ON s.band_key = n.band_key
     AND (n.day IS NULL OR s.day IS NULL OR s.day BETWEEN n.day - $window::INTEGER AND n.day + $window::INTEGER)
)
SELECT h.pos, a.story_id, s.signature, s.shingles
FROM hits AS h
JOIN articles AS a USING (article_id)
JOIN story_signatures AS s USING (article_id)
ORDER BY h.pos, h.article_id;

-- name: batch_candidates
-- The same within the batch: (pos, earlier pos) of articles sharing a band, days apart as above;
-- only band keys that occur twice in the batch are joined. The store computes this in numpy
-- (store._batch_candidates, several times faster); this statement is the reference its test
-- compares it with (tests/test_store_batch_candidates.py).
WITH nb AS (
    SELECT pos, unnest(bands) AS band_key, published_at::DATE AS day FROM batch_links
),
shared AS (
    SELECT * FROM nb WHERE band_key IN (SELECT band_key FROM nb GROUP BY band_key HAVING count(*) > 1)
)
SELECT DISTINCT a.pos, b.pos AS other
FROM shared AS a JOIN shared AS b
  ON b.band_key = a.band_key AND b.pos < a.pos
 AND (a.day IS NULL OR b.day IS NULL OR b.day BETWEEN a.day - $window::INTEGER AND a.day + $window::INTEGER)
ORDER BY a.pos, other;

-- name: merge_story
UPDATE articles SET story_id = $keep WHERE story_id = $old;

-- name: insert_articles
INSERT INTO articles BY NAME
SELECT article_id, publisher, url, published_at, published_at_source, title, text, content_hash,
       record_hash, metadata::JSON AS metadata, read_from, $now AS ingested_at, $run_id AS run_id,
       $rules_hash || CASE WHEN incomplete THEN $incomplete ELSE '' END AS rules_hash, story_id
FROM batch_articles;

-- name: insert_claims
INSERT INTO claims BY NAME
SELECT *, $run_id AS run_id, $now AS extracted_at FROM batch_claims;

-- name: insert_batch_article_claims
INSERT INTO claims BY NAME
SELECT *, $run_id AS run_id, $now AS extracted_at FROM batch_claims
WHERE article_id IN (SELECT article_id FROM batch_articles);

-- name: insert_signatures
INSERT INTO story_signatures BY NAME
SELECT article_id, signature, shingles FROM batch_articles WHERE signature IS NOT NULL;

-- name: insert_bands
INSERT INTO story_bands BY NAME
SELECT unnest(bands) AS band_key, published_at::DATE AS day, article_id FROM batch_articles;

-- name: current_claim_ids
SELECT c.article_id, list_sort(list(c.claim_id)) AS claim_ids
FROM claims AS c JOIN batch_ids AS b USING (article_id)
GROUP BY c.article_id;

-- name: set_rules_hash
UPDATE articles SET rules_hash = $rules_hash || CASE WHEN b.incomplete THEN $incomplete ELSE '' END
FROM batch_ids AS b
WHERE articles.article_id = b.article_id;

-- name: articles_to_reextract
SELECT article_id FROM articles
WHERE $force OR rules_hash <> $rules_hash
ORDER BY article_id;

-- name: articles_by_id
SELECT a.article_id, a.text, a.publisher, a.url, a.published_at, a.title,
       a.metadata::VARCHAR AS metadata, a.read_from, a.content_hash, a.story_id
FROM articles AS a JOIN batch_ids AS b USING (article_id)
ORDER BY a.article_id;

-- name: stories_missing
SELECT article_id, text, content_hash, published_at FROM articles
WHERE article_id NOT IN (SELECT article_id FROM story_signatures)
ORDER BY ingested_at, article_id;

-- name: set_story
UPDATE articles SET story_id = b.story_id FROM batch_story_ids AS b
WHERE articles.article_id = b.article_id;
