-- Statements tracker/store.py runs, one per "-- name:" section. Parameters are always bound.
-- batch_* relations are Arrow tables the store registers for the current batch.

-- name: record_hashes
SELECT article_id, record_hash FROM articles;

-- name: batch_existing
SELECT a.article_id, a.record_hash
FROM articles AS a JOIN batch_ids AS b USING (article_id);

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

-- name: band_candidates
-- Stored articles sharing a band with the batch on a day it asks for (an equi-join on band and
-- day), plus undated ones on either side.
WITH hits AS (
    SELECT b.band_key, b.article_id
    FROM story_bands AS b JOIN batch_band_keys AS k ON k.band_key = b.band_key AND k.day = b.day
    UNION
    SELECT b.band_key, b.article_id
    FROM story_bands AS b JOIN (SELECT band_key FROM batch_band_keys WHERE day IS NULL) AS k USING (band_key)
    UNION
    SELECT b.band_key, b.article_id
    FROM (SELECT * FROM story_bands WHERE day IS NULL) AS b JOIN batch_band_keys AS k USING (band_key)
)
SELECT h.band_key, h.article_id, a.story_id, s.signature, s.shingles, a.published_at::DATE AS day
FROM hits AS h
JOIN articles AS a USING (article_id)
JOIN story_signatures AS s USING (article_id);

-- name: merge_story
UPDATE articles SET story_id = $keep WHERE story_id = $old;

-- name: insert_articles
INSERT INTO articles BY NAME
SELECT * REPLACE (metadata::JSON AS metadata), $now AS ingested_at, $run_id AS run_id,
       $rules_hash AS rules_hash
FROM batch_articles;

-- name: insert_claims
INSERT INTO claims BY NAME
SELECT *, $run_id AS run_id, $now AS extracted_at FROM batch_claims;

-- name: insert_signatures
INSERT INTO story_signatures BY NAME SELECT * FROM batch_signatures;

-- name: insert_bands
INSERT INTO story_bands BY NAME SELECT * FROM batch_bands;

-- name: current_claim_ids
SELECT c.article_id, list_sort(list(c.claim_id)) AS claim_ids
FROM claims AS c JOIN batch_ids AS b USING (article_id)
GROUP BY c.article_id;

-- name: set_rules_hash
UPDATE articles SET rules_hash = $rules_hash
WHERE article_id IN (SELECT article_id FROM batch_ids);

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
