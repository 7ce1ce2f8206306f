-- Idempotent CreateScript (AIP-155): the request id of the call that created a hand-written
-- script, so a retry returns the first result instead of a duplicate or an error.
ALTER TABLE cf_scripts ADD COLUMN create_request_id TEXT UNIQUE;
