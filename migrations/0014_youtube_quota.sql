-- YouTube's upload quota, spent: units per quota day (YouTube's day, which starts at midnight
-- Pacific time). Publishing charges an upload's cost here, in one statement that refuses to
-- pass the daily quota, before each request that opens an upload session (retries included,
-- as YouTube counts them), so two publishes at once cannot both take the last units.
CREATE TABLE cf_youtube_quota (
  quota_day DATE PRIMARY KEY,
  units INTEGER NOT NULL CHECK (units >= 0)
);

GRANT SELECT, INSERT, UPDATE ON cf_youtube_quota TO cf_publishing;
