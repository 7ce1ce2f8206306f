-- Image and video generation jobs: the rows are the jobs (DESIGN.md "Data and jobs").
-- Workers claim pending rows with FOR UPDATE SKIP LOCKED, hold a lease they heartbeat, and
-- complete only while their attempt number (the fencing token) is still the row's.

-- A pending job can be cancelled.
ALTER TABLE cf_generated_images DROP CONSTRAINT cf_generated_images_status_check;
ALTER TABLE cf_generated_images ADD CONSTRAINT cf_generated_images_status_check
  CHECK (status IN ('pending', 'generating', 'completed', 'failed', 'cancelled'));
ALTER TABLE cf_generated_videos DROP CONSTRAINT cf_generated_videos_status_check;
ALTER TABLE cf_generated_videos ADD CONSTRAINT cf_generated_videos_status_check
  CHECK (status IN ('pending', 'generating', 'completed', 'failed', 'cancelled'));

-- Images are rendered at an aspect ratio too (the seed kept it for videos only).
ALTER TABLE cf_generated_images ADD COLUMN aspect_ratio TEXT NOT NULL DEFAULT '9:16'
  CHECK (aspect_ratio IN ('9:16', '16:9', '1:1', '4:5'));

-- The queue's columns, the same on both tables.
ALTER TABLE cf_generated_images
  ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,                 -- counted at each claim
  ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
  ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),  -- backoff
  ADD COLUMN lease_owner TEXT,
  ADD COLUMN lease_expires_at TIMESTAMPTZ,
  ADD COLUMN progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  ADD COLUMN last_error TEXT,
  ADD COLUMN dossier_snapshot JSONB NOT NULL DEFAULT '{}',         -- taken at creation
  ADD COLUMN create_request_id TEXT,
  ADD COLUMN batch_index INTEGER,
  ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD COLUMN completed_at TIMESTAMPTZ,
  ADD COLUMN next_poll_at TIMESTAMPTZ;                            -- long external jobs
ALTER TABLE cf_generated_videos
  ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
  ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD COLUMN lease_owner TEXT,
  ADD COLUMN lease_expires_at TIMESTAMPTZ,
  ADD COLUMN progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  ADD COLUMN last_error TEXT,
  ADD COLUMN dossier_snapshot JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN create_request_id TEXT,
  ADD COLUMN batch_index INTEGER,
  ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD COLUMN completed_at TIMESTAMPTZ,
  ADD COLUMN next_poll_at TIMESTAMPTZ;

-- A retried create (same request id) finds the jobs the first one made.
CREATE UNIQUE INDEX idx_images_request ON cf_generated_images(create_request_id, batch_index)
  WHERE create_request_id IS NOT NULL;
CREATE UNIQUE INDEX idx_videos_request ON cf_generated_videos(create_request_id, batch_index)
  WHERE create_request_id IS NOT NULL;

-- What workers and the rescuer scan.
CREATE INDEX idx_images_claim ON cf_generated_images(next_attempt_at) WHERE status = 'pending';
CREATE INDEX idx_videos_claim ON cf_generated_videos(next_attempt_at) WHERE status = 'pending';
CREATE INDEX idx_images_lease ON cf_generated_images(lease_expires_at) WHERE status = 'generating';
CREATE INDEX idx_videos_lease ON cf_generated_videos(lease_expires_at) WHERE status = 'generating';

CREATE TRIGGER update_image_updated_at BEFORE UPDATE ON cf_generated_images
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_video_updated_at BEFORE UPDATE ON cf_generated_videos
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Wakes idle workers when a job becomes pending; they also poll, so a lost notification only
-- delays work. Identical payloads in one transaction are delivered once.
CREATE FUNCTION notify_generation_job() RETURNS TRIGGER AS $$
BEGIN
  PERFORM pg_notify('cf_generation_jobs', TG_TABLE_NAME);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notify_image_job AFTER INSERT OR UPDATE OF status ON cf_generated_images
  FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION notify_generation_job();
CREATE TRIGGER notify_video_job AFTER INSERT OR UPDATE OF status ON cf_generated_videos
  FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION notify_generation_job();
