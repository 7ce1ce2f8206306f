-- Publishing's attempts are jobs of common/jobs in a table of their own (DESIGN.md "Data and
-- jobs"): a cf_published_content row exists only once the platform has confirmed the post, so
-- the job cannot live on it. The hook maps job_state onto status; the running phases
-- (uploading, processing) are in the queue's phase column.

CREATE TABLE cf_publish_jobs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  assembled_content_id UUID NOT NULL REFERENCES cf_assembled_content(id) ON DELETE CASCADE,
  platform TEXT NOT NULL CHECK (platform IN ('tiktok', 'instagram', 'facebook', 'youtube')),
  -- A retried PublishContent (same request id) finds the publish the first one made.
  request_id TEXT NOT NULL UNIQUE CHECK (length(request_id) BETWEEN 1 AND 200),
  status TEXT NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'published', 'failed', 'cancelled')),
  privacy TEXT NOT NULL DEFAULT 'public'
    CHECK (privacy IN ('public', 'friends', 'private', 'unlisted')),
  scheduled_time TIMESTAMPTZ,
  -- What the upload needs, taken from the assembly when the publish was asked for (workers
  -- call no other service): the video's URL, size and length, the caption, title, hashtags,
  -- the disclosure and the AI label.
  publish_snapshot JSONB NOT NULL,
  -- The platform's handle for this post (publish id, container id, upload session), recorded
  -- before the step that makes the post public. Recovery looks the post up by it before
  -- anything is sent again.
  platform_handle TEXT,
  published_content_id UUID REFERENCES cf_published_content(id) ON DELETE SET NULL,
  -- What the platform said that matters (e.g. a private TikTok post has no public id).
  note TEXT,
  -- When the assembly was marked published through the assembly API (NULL: still to do).
  assembly_marked_at TIMESTAMPTZ,
  -- The job queue's columns (common/jobs).
  job_state TEXT NOT NULL DEFAULT 'queued'
    CHECK (job_state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  lease_token BIGINT NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  next_poll_at TIMESTAMPTZ,
  lease_owner TEXT,
  lease_expires_at TIMESTAMPTZ,
  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  phase TEXT,
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- One unfinished publish per assembly: a second one, under another request id, is refused.
CREATE UNIQUE INDEX idx_publish_jobs_one_open ON cf_publish_jobs(assembled_content_id)
  WHERE job_state IN ('queued', 'running');
CREATE INDEX idx_publish_jobs_assembly ON cf_publish_jobs(assembled_content_id);
CREATE INDEX idx_publish_jobs_claim ON cf_publish_jobs(next_attempt_at) WHERE job_state = 'queued';
CREATE INDEX idx_publish_jobs_lease ON cf_publish_jobs(lease_expires_at) WHERE job_state = 'running';
CREATE INDEX idx_publish_jobs_created ON cf_publish_jobs(created_at DESC, id DESC);
-- Published but not yet marked so on the assembly: what the marker retries.
CREATE INDEX idx_publish_jobs_unmarked ON cf_publish_jobs(updated_at)
  WHERE job_state = 'done' AND assembly_marked_at IS NULL;

CREATE TRIGGER update_publish_jobs_updated_at BEFORE UPDATE ON cf_publish_jobs
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER notify_publish_job AFTER INSERT OR UPDATE OF job_state ON cf_publish_jobs
  FOR EACH ROW WHEN (NEW.job_state = 'queued') EXECUTE FUNCTION cf_jobs_notify('cf_publish_jobs');

-- The post a publish made (inserted by the publish's fenced completion, in the same statement,
-- with the publish's own id), and at most one per publish and per platform post: a recovery
-- that found a post already made can never record it twice. platform_handle holds capability
-- URLs (an upload URL, a session URL): no other service's role may read this table.
ALTER TABLE cf_published_content
  ADD COLUMN publish_job_id UUID UNIQUE REFERENCES cf_publish_jobs(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX idx_published_one_per_post ON cf_published_content(platform, platform_post_id)
  WHERE platform_post_id IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON cf_publish_jobs TO cf_publishing;
