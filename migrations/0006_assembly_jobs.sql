-- Assembly renders are jobs of common/jobs, run on cf_assembled_content itself (DESIGN.md
-- "Data and jobs"). A draft has no job yet: its job_state is NULL until a render is asked for.
-- The hook maps job_state onto the seed's status: queued and running are 'rendering', done is
-- 'ready', failed is 'failed', and a cancelled render goes back to 'draft'. 'published' is set
-- by publishing (through MarkPublished) on a done job.

ALTER TABLE cf_assembled_content
  ADD COLUMN job_state TEXT CHECK (job_state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
  ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD COLUMN next_poll_at TIMESTAMPTZ,
  ADD COLUMN lease_owner TEXT,
  ADD COLUMN lease_expires_at TIMESTAMPTZ,
  ADD COLUMN progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  ADD COLUMN phase TEXT,
  ADD COLUMN last_error TEXT,
  -- What the render needs, taken when the draft is made (and updated with it): the dossier's
  -- fields, the script's text, and each asset's URL and metadata. Workers call no service.
  ADD COLUMN render_snapshot JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN create_request_id TEXT,
  ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD COLUMN rendered_at TIMESTAMPTZ;

-- Rows from before: ready and published ones are done; drafts have no job. A render in progress
-- cannot go on (it has no render snapshot): it fails, saying why.
UPDATE cf_assembled_content SET job_state = CASE status
  WHEN 'ready' THEN 'done' WHEN 'published' THEN 'done' WHEN 'failed' THEN 'failed'
  WHEN 'rendering' THEN 'failed' END;
UPDATE cf_assembled_content SET status = 'failed',
  last_error = 'rendering when migration 0006 ran, without a render snapshot: create it again'
  WHERE status = 'rendering';

-- A retried create (same request id) finds the draft the first one made.
CREATE UNIQUE INDEX idx_assembled_request ON cf_assembled_content(create_request_id)
  WHERE create_request_id IS NOT NULL;
-- What workers and the rescuer scan; what ListReadyToPublish reads (oldest first).
CREATE INDEX idx_assembled_claim ON cf_assembled_content(next_attempt_at)
  WHERE job_state = 'queued';
CREATE INDEX idx_assembled_lease ON cf_assembled_content(lease_expires_at)
  WHERE job_state = 'running';
CREATE INDEX idx_assembled_ready ON cf_assembled_content(created_at, id) WHERE status = 'ready';

CREATE TRIGGER update_assembled_updated_at BEFORE UPDATE ON cf_assembled_content
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER notify_assembly_job AFTER INSERT OR UPDATE OF job_state ON cf_assembled_content
  FOR EACH ROW WHEN (NEW.job_state = 'queued') EXECUTE FUNCTION cf_jobs_notify('cf_assembly_jobs');
