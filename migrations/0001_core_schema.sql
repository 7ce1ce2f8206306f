-- Content Factory core schema: every table of the seed specification
-- (seed/content-factory-schema.md, "Table Definitions" and "Constraints & Validations"),
-- with the fixes for its known defects, each marked "FIX:".

-- FIX: the seed's triggers call update_updated_at_column() but never define it.
CREATE FUNCTION update_updated_at_column() RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- ---------------------------------------------------------------------------------------------
-- cf_product_dossiers
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_product_dossiers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  slug TEXT UNIQUE NOT NULL,
  name TEXT NOT NULL,
  benefits TEXT[] DEFAULT '{}',
  pain_points TEXT[] DEFAULT '{}',
  proof_types TEXT[] DEFAULT '{before_after}',
  target_audience TEXT,
  category TEXT,
  niche TEXT,
  price DECIMAL(10,2),
  tiktok_shop_url TEXT,
  affiliate_link TEXT,
  -- The seed declares this CHECK inline and again as check_status; one named constraint here.
  status TEXT DEFAULT 'draft' CONSTRAINT check_status CHECK (status IN ('draft', 'active', 'archived')),
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW(),
  -- FIX: the seed's RLS policy compares auth.uid() with a user_id column no table has. Dossiers
  -- carry their owner (tenant) from the start; the policies come with the tenancy work.
  owner_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001',
  -- Idempotency key of the CreateDossier call that made the row (AIP-155).
  create_request_id TEXT UNIQUE
);

CREATE INDEX idx_dossiers_status ON cf_product_dossiers(status);
CREATE INDEX idx_dossiers_category ON cf_product_dossiers(category);
-- The seed has idx_dossiers_slug both plain and UNIQUE; the column's UNIQUE constraint already
-- provides the unique index, so a second one would only slow writes.
CREATE INDEX idx_dossiers_created_at ON cf_product_dossiers(created_at DESC);
-- Keyset pagination: newest first, id breaks ties.
CREATE INDEX idx_dossiers_created_at_id ON cf_product_dossiers(created_at DESC, id DESC);
CREATE INDEX idx_dossiers_owner ON cf_product_dossiers(owner_id);

CREATE TRIGGER update_dossier_updated_at
  BEFORE UPDATE ON cf_product_dossiers
  FOR EACH ROW
  EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------------------------
-- cf_generated_images
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_generated_images (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  dossier_id UUID NOT NULL REFERENCES cf_product_dossiers(id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('before', 'after', 'product', 'lifestyle')),
  prompt TEXT NOT NULL,
  model TEXT DEFAULT 'nano-banana',
  image_url TEXT,
  remotion_job_id TEXT,
  status TEXT DEFAULT 'pending' CHECK (status IN ('pending', 'generating', 'completed', 'failed')),
  metadata JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_images_dossier ON cf_generated_images(dossier_id);
CREATE INDEX idx_images_type ON cf_generated_images(type);
CREATE INDEX idx_images_status ON cf_generated_images(status);
CREATE INDEX idx_images_remotion_job ON cf_generated_images(remotion_job_id) WHERE remotion_job_id IS NOT NULL;
CREATE INDEX idx_images_pending ON cf_generated_images(created_at) WHERE status = 'pending';

-- ---------------------------------------------------------------------------------------------
-- cf_generated_videos
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_generated_videos (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  dossier_id UUID NOT NULL REFERENCES cf_product_dossiers(id) ON DELETE CASCADE,
  source_image_id UUID REFERENCES cf_generated_images(id) ON DELETE SET NULL,
  type TEXT NOT NULL CHECK (type IN ('reveal', 'demo', 'transition', 'testimonial')),
  prompt TEXT NOT NULL,
  model TEXT DEFAULT 'veo-3.1',
  duration INTEGER CHECK (duration > 0),
  aspect_ratio TEXT DEFAULT '9:16' CHECK (aspect_ratio IN ('9:16', '16:9', '1:1', '4:5')),
  video_url TEXT,
  remotion_job_id TEXT,
  status TEXT DEFAULT 'pending' CHECK (status IN ('pending', 'generating', 'completed', 'failed')),
  metadata JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_videos_dossier ON cf_generated_videos(dossier_id);
CREATE INDEX idx_videos_source_image ON cf_generated_videos(source_image_id);
CREATE INDEX idx_videos_type ON cf_generated_videos(type);
CREATE INDEX idx_videos_status ON cf_generated_videos(status);
CREATE INDEX idx_videos_remotion_job ON cf_generated_videos(remotion_job_id) WHERE remotion_job_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- cf_scripts
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_scripts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  dossier_id UUID NOT NULL REFERENCES cf_product_dossiers(id) ON DELETE CASCADE,
  -- Inline in the seed and again in its Constraints section; kept once, under the later name.
  awareness_level INTEGER NOT NULL CONSTRAINT check_awareness_level CHECK (awareness_level BETWEEN 1 AND 5),
  market_sophistication INTEGER CONSTRAINT check_market_sophistication CHECK (market_sophistication BETWEEN 1 AND 5),
  hook TEXT NOT NULL,
  body TEXT NOT NULL,
  cta TEXT NOT NULL,
  full_script TEXT GENERATED ALWAYS AS (hook || E'\n\n' || body || E'\n\n' || cta) STORED,
  estimated_duration INTEGER,
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_scripts_dossier ON cf_scripts(dossier_id);
CREATE INDEX idx_scripts_awareness ON cf_scripts(awareness_level);
-- FIX: a plain unique index treats NULLs as distinct, so scripts without a sophistication could
-- repeat the same (dossier, awareness) cell. PostgreSQL 15's NULLS NOT DISTINCT closes that.
CREATE UNIQUE INDEX idx_scripts_dossier_awareness
  ON cf_scripts(dossier_id, awareness_level, market_sophistication) NULLS NOT DISTINCT;

-- ---------------------------------------------------------------------------------------------
-- cf_assembled_content
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_assembled_content (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  dossier_id UUID NOT NULL REFERENCES cf_product_dossiers(id) ON DELETE CASCADE,
  script_id UUID REFERENCES cf_scripts(id) ON DELETE SET NULL,
  video_ids UUID[] DEFAULT '{}',
  image_ids UUID[] DEFAULT '{}',
  platform TEXT NOT NULL CHECK (platform IN ('tiktok', 'instagram', 'facebook', 'youtube')),
  caption TEXT,
  hashtags TEXT[] DEFAULT '{}',
  compliance_disclosure TEXT,
  remotion_render_id TEXT,
  final_video_url TEXT,
  status TEXT DEFAULT 'draft' CHECK (status IN ('draft', 'rendering', 'ready', 'published', 'failed')),
  metadata JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_assembled_dossier ON cf_assembled_content(dossier_id);
CREATE INDEX idx_assembled_script ON cf_assembled_content(script_id);
CREATE INDEX idx_assembled_status ON cf_assembled_content(status);
CREATE INDEX idx_assembled_platform ON cf_assembled_content(platform);
CREATE INDEX idx_assembled_remotion ON cf_assembled_content(remotion_render_id) WHERE remotion_render_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- cf_published_content
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_published_content (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  assembled_content_id UUID NOT NULL REFERENCES cf_assembled_content(id) ON DELETE CASCADE,
  platform TEXT NOT NULL CHECK (platform IN ('tiktok', 'instagram', 'facebook', 'youtube')),
  platform_post_id TEXT,
  platform_url TEXT,
  promotion_budget DECIMAL(10,2) CHECK (promotion_budget >= 0),
  promotion_status TEXT CHECK (promotion_status IN ('none', 'pending', 'active', 'completed', 'failed')),
  promotion_started_at TIMESTAMPTZ,
  promotion_ended_at TIMESTAMPTZ,
  published_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_published_assembled ON cf_published_content(assembled_content_id);
CREATE INDEX idx_published_platform ON cf_published_content(platform);
CREATE INDEX idx_published_platform_post ON cf_published_content(platform, platform_post_id);
CREATE INDEX idx_published_promotion_status ON cf_published_content(promotion_status);
CREATE INDEX idx_published_date ON cf_published_content(published_at DESC);

-- ---------------------------------------------------------------------------------------------
-- cf_performance_metrics (partitioning by month belongs to the analytics work)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_performance_metrics (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  published_content_id UUID NOT NULL REFERENCES cf_published_content(id) ON DELETE CASCADE,
  date DATE NOT NULL,
  views INTEGER DEFAULT 0 CONSTRAINT check_views_positive CHECK (views >= 0),
  likes INTEGER DEFAULT 0 CHECK (likes >= 0),
  comments INTEGER DEFAULT 0 CHECK (comments >= 0),
  shares INTEGER DEFAULT 0 CHECK (shares >= 0),
  saves INTEGER DEFAULT 0 CHECK (saves >= 0),
  clicks INTEGER DEFAULT 0 CHECK (clicks >= 0),
  conversions INTEGER DEFAULT 0 CHECK (conversions >= 0),
  spend DECIMAL(10,2) DEFAULT 0 CHECK (spend >= 0),
  -- FIX: the seed's DECIMAL(5,4) holds at most 9.9999, so a day with more than ten interactions
  -- per view (or clicks above ten times views) made the generated value overflow and the whole
  -- row was rejected. Four integer counters over views fit in NUMERIC(14,4).
  engagement_rate NUMERIC(14,4) GENERATED ALWAYS AS (
    CASE WHEN views > 0
    THEN (likes::BIGINT + comments + shares + saves)::DECIMAL / views
    ELSE 0 END
  ) STORED,
  ctr NUMERIC(14,4) GENERATED ALWAYS AS (
    CASE WHEN views > 0
    THEN clicks::DECIMAL / views
    ELSE 0 END
  ) STORED,
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE UNIQUE INDEX idx_metrics_unique ON cf_performance_metrics(published_content_id, date);
CREATE INDEX idx_metrics_published ON cf_performance_metrics(published_content_id);
CREATE INDEX idx_metrics_date ON cf_performance_metrics(date DESC);
CREATE INDEX idx_metrics_high_engagement ON cf_performance_metrics(engagement_rate DESC) WHERE views > 1000;
CREATE INDEX idx_metrics_high_ctr ON cf_performance_metrics(ctr DESC) WHERE views > 1000;

-- ---------------------------------------------------------------------------------------------
-- cf_scoring_config
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_scoring_config (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  weights JSONB NOT NULL,
  min_views_threshold INTEGER DEFAULT 1000,
  active BOOLEAN DEFAULT true,
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_scoring_active ON cf_scoring_config(active) WHERE active = true;
-- FIX: "only one active config at a time" was documented but not enforced; at most one row
-- may now have active = true.
CREATE UNIQUE INDEX idx_scoring_one_active ON cf_scoring_config((true)) WHERE active = true;

-- The seed's default config is the active one; its two examples would also default to active,
-- which the index above forbids, so they are stored inactive.
INSERT INTO cf_scoring_config (name, weights) VALUES
  ('Default', '{"engagement": 0.4, "ctr": 0.3, "conversions": 0.3}');
INSERT INTO cf_scoring_config (name, weights, active) VALUES
  ('Engagement Focus', '{"engagement": 0.7, "ctr": 0.2, "conversions": 0.1}', false),
  ('Conversion Focus', '{"engagement": 0.2, "ctr": 0.3, "conversions": 0.5}', false);

-- ---------------------------------------------------------------------------------------------
-- cf_ab_tests
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_ab_tests (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  variants JSONB[] NOT NULL,
  status TEXT DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'completed', 'cancelled')),
  winner_id UUID REFERENCES cf_published_content(id),
  confidence DECIMAL(3,2),
  created_at TIMESTAMPTZ DEFAULT NOW(),
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ
);

CREATE INDEX idx_tests_status ON cf_ab_tests(status);
CREATE INDEX idx_tests_winner ON cf_ab_tests(winner_id);

-- ---------------------------------------------------------------------------------------------
-- Audit log
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_audit_log (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  table_name TEXT NOT NULL,
  record_id UUID NOT NULL,
  action TEXT NOT NULL, -- INSERT, UPDATE, DELETE
  old_data JSONB,
  new_data JSONB,
  user_id UUID,
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_audit_record ON cf_audit_log(table_name, record_id, created_at);

-- FIX: the seed's function read NEW.id, which is NULL on DELETE, so every DELETE of an audited
-- row failed on record_id NOT NULL; it also returned NEW (NULL) for DELETE. It now takes the id
-- from whichever row exists. SECURITY DEFINER lets it write the log although service roles have
-- no privilege on cf_audit_log: the log is written by this trigger only. user_id records the
-- row's owner (tenant) where the table has one.
CREATE FUNCTION log_audit() RETURNS TRIGGER
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  row_data JSONB := to_jsonb(COALESCE(NEW, OLD));
BEGIN
  INSERT INTO cf_audit_log (table_name, record_id, action, old_data, new_data, user_id)
  VALUES (TG_TABLE_NAME, (row_data->>'id')::UUID, TG_OP,
          CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
          CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,
          (row_data->>'owner_id')::UUID);
  RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_dossiers
  AFTER INSERT OR UPDATE OR DELETE ON cf_product_dossiers
  FOR EACH ROW EXECUTE FUNCTION log_audit();
