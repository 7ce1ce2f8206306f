-- Publishes that must not overlap take turns (publishing's PublishStore::TakeTurn). Instagram's
-- media objects do not say which container they came from, so a publish whose media_publish
-- answer was lost finds its post by caption; two publishes of one caption to one account at
-- once could each take the other's post. Such publishes share a turn_key, and only one of them
-- at a time may be queued or running with its turn taken.
ALTER TABLE cf_publish_jobs ADD COLUMN turn_key TEXT;

CREATE INDEX idx_publish_jobs_turn ON cf_publish_jobs (turn_key)
  WHERE turn_key IS NOT NULL AND job_state IN ('queued', 'running');
