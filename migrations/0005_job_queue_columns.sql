-- The job queue's own columns (common/jobs), added to each table whose rows are jobs.
--
-- job_state is the queue's view (queued, running, done, failed, cancelled); the seed's status
-- column stays and is set from it by the service's hook in the same UPDATE. lease_token is the
-- fencing token: every claim takes a new value from one sequence, so it grows and never repeats,
-- Retry included (attempts, which Retry resets and a release gives back, was the token before
-- and could repeat). phase names the step a running job is in (e.g. uploading, processing).

CREATE SEQUENCE cf_job_lease_tokens AS BIGINT;

CREATE FUNCTION cf_job_state_of_status(status TEXT) RETURNS TEXT AS $$
  SELECT CASE status WHEN 'pending' THEN 'queued' WHEN 'generating' THEN 'running'
                     WHEN 'completed' THEN 'done' ELSE status END
$$ LANGUAGE sql IMMUTABLE;

ALTER TABLE cf_generated_images
  ADD COLUMN job_state TEXT NOT NULL DEFAULT 'queued'
    CHECK (job_state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN phase TEXT;
ALTER TABLE cf_generated_videos
  ADD COLUMN job_state TEXT NOT NULL DEFAULT 'queued'
    CHECK (job_state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN phase TEXT;

UPDATE cf_generated_images SET job_state = cf_job_state_of_status(status);
UPDATE cf_generated_videos SET job_state = cf_job_state_of_status(status);
-- Rows running at the upgrade get a token as if claimed now (their workers, from before the
-- upgrade, fence on attempts and must be stopped first: README "Upgrading").
UPDATE cf_generated_images SET lease_token = nextval('cf_job_lease_tokens')
  WHERE job_state = 'running';
UPDATE cf_generated_videos SET lease_token = nextval('cf_job_lease_tokens')
  WHERE job_state = 'running';
DROP FUNCTION cf_job_state_of_status(TEXT);

-- What workers and the rescuer scan, now by job_state.
DROP INDEX idx_images_claim;
DROP INDEX idx_videos_claim;
DROP INDEX idx_images_lease;
DROP INDEX idx_videos_lease;
CREATE INDEX idx_images_claim ON cf_generated_images(next_attempt_at) WHERE job_state = 'queued';
CREATE INDEX idx_videos_claim ON cf_generated_videos(next_attempt_at) WHERE job_state = 'queued';
CREATE INDEX idx_images_lease ON cf_generated_images(lease_expires_at) WHERE job_state = 'running';
CREATE INDEX idx_videos_lease ON cf_generated_videos(lease_expires_at) WHERE job_state = 'running';

-- One wake-up trigger function for every queue: its channel is the trigger's argument.
CREATE FUNCTION cf_jobs_notify() RETURNS TRIGGER AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], TG_TABLE_NAME);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER notify_image_job ON cf_generated_images;
DROP TRIGGER notify_video_job ON cf_generated_videos;
DROP FUNCTION notify_generation_job();
CREATE TRIGGER notify_image_job AFTER INSERT OR UPDATE OF job_state ON cf_generated_images
  FOR EACH ROW WHEN (NEW.job_state = 'queued') EXECUTE FUNCTION cf_jobs_notify('cf_generation_jobs');
CREATE TRIGGER notify_video_job AFTER INSERT OR UPDATE OF job_state ON cf_generated_videos
  FOR EACH ROW WHEN (NEW.job_state = 'queued') EXECUTE FUNCTION cf_jobs_notify('cf_generation_jobs');

-- Every service whose table holds jobs takes its tokens from the one sequence.
GRANT USAGE ON SEQUENCE cf_job_lease_tokens TO cf_generation, cf_assembly, cf_publishing;
