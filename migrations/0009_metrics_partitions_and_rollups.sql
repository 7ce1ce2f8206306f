-- Analytics at scale: cf_performance_metrics partitioned by month, and rollups kept exact by
-- statement-level triggers in the same transaction as every write to it.
--
-- The data already in the unpartitioned table is kept: it is copied into the partitioned table
-- after the rollup triggers exist, so the copy itself fills the rollups.

-- ---------------------------------------------------------------------------------------------
-- The partitioned table
-- ---------------------------------------------------------------------------------------------
ALTER TABLE cf_performance_metrics RENAME TO cf_performance_metrics_unpartitioned;
-- Its indexes' names go to the new table's indexes.
ALTER TABLE cf_performance_metrics_unpartitioned
  RENAME CONSTRAINT cf_performance_metrics_pkey TO cf_performance_metrics_unpartitioned_pkey;
DROP INDEX idx_metrics_unique, idx_metrics_published, idx_metrics_date,
  idx_metrics_high_engagement, idx_metrics_high_ctr;


-- PostgreSQL needs the partition key in every unique constraint, so the primary key becomes
-- (id, date); the unique (published_content_id, date) already holds the key and keeps working.
CREATE TABLE cf_performance_metrics (
  id UUID NOT NULL DEFAULT gen_random_uuid(),
  published_content_id UUID NOT NULL REFERENCES cf_published_content(id) ON DELETE CASCADE,
  date DATE NOT NULL,
  -- FIX: the seed lets the counts be NULL (only DEFAULT 0); a NULL count would make every sum
  -- and rate unknown, so they are NOT NULL here (the copy below turns old NULLs into 0).
  views INTEGER NOT NULL DEFAULT 0 CONSTRAINT check_views_positive CHECK (views >= 0),
  likes INTEGER NOT NULL DEFAULT 0 CHECK (likes >= 0),
  comments INTEGER NOT NULL DEFAULT 0 CHECK (comments >= 0),
  shares INTEGER NOT NULL DEFAULT 0 CHECK (shares >= 0),
  saves INTEGER NOT NULL DEFAULT 0 CHECK (saves >= 0),
  clicks INTEGER NOT NULL DEFAULT 0 CHECK (clicks >= 0),
  conversions INTEGER NOT NULL DEFAULT 0 CHECK (conversions >= 0),
  spend DECIMAL(10,2) NOT NULL DEFAULT 0 CHECK (spend >= 0),
  -- The overflow fix of 0001 (NUMERIC(14,4) instead of the seed's DECIMAL(5,4)) is kept.
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
  created_at TIMESTAMPTZ DEFAULT NOW(),
  PRIMARY KEY (id, date)
) PARTITION BY RANGE (date);

-- Rows whose month has no partition yet land here, so an insert never fails for want of one.
CREATE TABLE cf_performance_metrics_default PARTITION OF cf_performance_metrics DEFAULT;

-- ---------------------------------------------------------------------------------------------
-- Rollups. Each keeps the sums and the count of daily rows (days) with the sums of the daily
-- rates, so both a ratio of sums and the seed's average of daily rates come from them. A post's
-- dimensions (dossier, platform, script cell, video types) are copied in when its first metrics
-- arrive, so a cascade that has already removed the post still finds the cell to correct.
-- awareness_level and market_sophistication are 0 when the post has no script or no
-- sophistication (a key cannot hold NULL).
-- Every write updates rollup rows in place: fillfactor 70 leaves room on each page for the new
-- version, so the update is HOT (no index entries to add; the sums are not indexed).
-- There is no CHECK (days >= 0): INSERT ... ON CONFLICT checks the proposed row, a negative
-- delta, before it finds the row to add it to. The exactness test guards the sums instead.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_metrics_content_rollup (
  published_content_id UUID PRIMARY KEY,
  dossier_id UUID,
  platform TEXT NOT NULL,
  awareness_level SMALLINT NOT NULL,
  market_sophistication SMALLINT NOT NULL,
  video_types TEXT[] NOT NULL DEFAULT '{}',
  days BIGINT NOT NULL DEFAULT 0,
  views BIGINT NOT NULL DEFAULT 0,
  likes BIGINT NOT NULL DEFAULT 0,
  comments BIGINT NOT NULL DEFAULT 0,
  shares BIGINT NOT NULL DEFAULT 0,
  saves BIGINT NOT NULL DEFAULT 0,
  clicks BIGINT NOT NULL DEFAULT 0,
  conversions BIGINT NOT NULL DEFAULT 0,
  spend NUMERIC(16,2) NOT NULL DEFAULT 0,
  engagement_rate_sum NUMERIC NOT NULL DEFAULT 0,
  ctr_sum NUMERIC NOT NULL DEFAULT 0
) WITH (fillfactor = 70);

CREATE INDEX idx_metrics_content_rollup_dossier ON cf_metrics_content_rollup(dossier_id);

CREATE TABLE cf_metrics_monthly_rollup (
  published_content_id UUID NOT NULL,
  month DATE NOT NULL,
  dossier_id UUID,
  platform TEXT NOT NULL,
  awareness_level SMALLINT NOT NULL,
  market_sophistication SMALLINT NOT NULL,
  video_types TEXT[] NOT NULL DEFAULT '{}',
  days BIGINT NOT NULL DEFAULT 0,
  views BIGINT NOT NULL DEFAULT 0,
  likes BIGINT NOT NULL DEFAULT 0,
  comments BIGINT NOT NULL DEFAULT 0,
  shares BIGINT NOT NULL DEFAULT 0,
  saves BIGINT NOT NULL DEFAULT 0,
  clicks BIGINT NOT NULL DEFAULT 0,
  conversions BIGINT NOT NULL DEFAULT 0,
  spend NUMERIC(16,2) NOT NULL DEFAULT 0,
  engagement_rate_sum NUMERIC NOT NULL DEFAULT 0,
  ctr_sum NUMERIC NOT NULL DEFAULT 0,
  PRIMARY KEY (published_content_id, month)
) WITH (fillfactor = 70);

CREATE INDEX idx_metrics_monthly_rollup_month ON cf_metrics_monthly_rollup(month);

CREATE TABLE cf_metrics_cell_rollup (
  awareness_level SMALLINT NOT NULL,
  market_sophistication SMALLINT NOT NULL,
  platform TEXT NOT NULL,
  month DATE NOT NULL,
  days BIGINT NOT NULL DEFAULT 0,
  views BIGINT NOT NULL DEFAULT 0,
  likes BIGINT NOT NULL DEFAULT 0,
  comments BIGINT NOT NULL DEFAULT 0,
  shares BIGINT NOT NULL DEFAULT 0,
  saves BIGINT NOT NULL DEFAULT 0,
  clicks BIGINT NOT NULL DEFAULT 0,
  conversions BIGINT NOT NULL DEFAULT 0,
  spend NUMERIC(16,2) NOT NULL DEFAULT 0,
  engagement_rate_sum NUMERIC NOT NULL DEFAULT 0,
  ctr_sum NUMERIC NOT NULL DEFAULT 0,
  PRIMARY KEY (awareness_level, market_sophistication, platform, month)
) WITH (fillfactor = 70);

-- One statement's change to the metrics, per post and month: counts and sums with a sign.
CREATE TYPE cf_metric_delta AS (
  published_content_id UUID,
  month DATE,
  days BIGINT,
  views BIGINT,
  likes BIGINT,
  comments BIGINT,
  shares BIGINT,
  saves BIGINT,
  clicks BIGINT,
  conversions BIGINT,
  spend NUMERIC,
  engagement_rate_sum NUMERIC,
  ctr_sum NUMERIC
);

-- Applies deltas to the three rollups. Rows are visited in key order so that concurrent
-- writers lock rollup rows in the same order; a row whose days fall to 0 has no metrics left
-- and is removed.
CREATE FUNCTION cf_apply_metric_deltas(deltas cf_metric_delta[]) RETURNS void AS $$
BEGIN
  INSERT INTO cf_metrics_content_rollup AS r (
      published_content_id, dossier_id, platform, awareness_level, market_sophistication,
      video_types, days, views, likes, comments, shares, saves, clicks, conversions, spend,
      engagement_rate_sum, ctr_sum)
  SELECT d.published_content_id, ac.dossier_id, COALESCE(pc.platform, ''),
         COALESCE(s.awareness_level, 0), COALESCE(s.market_sophistication, 0),
         COALESCE((SELECT array_agg(DISTINCT v.type ORDER BY v.type)
                     FROM cf_generated_videos v WHERE v.id = ANY(ac.video_ids)), '{}'),
         d.days, d.views, d.likes, d.comments, d.shares, d.saves, d.clicks, d.conversions,
         d.spend, d.engagement_rate_sum, d.ctr_sum
    FROM (SELECT published_content_id, sum(days) AS days, sum(views) AS views,
                 sum(likes) AS likes, sum(comments) AS comments, sum(shares) AS shares,
                 sum(saves) AS saves, sum(clicks) AS clicks, sum(conversions) AS conversions,
                 sum(spend) AS spend, sum(engagement_rate_sum) AS engagement_rate_sum,
                 sum(ctr_sum) AS ctr_sum
            FROM unnest(deltas) GROUP BY published_content_id) d
    LEFT JOIN cf_published_content pc ON pc.id = d.published_content_id
    LEFT JOIN cf_assembled_content ac ON ac.id = pc.assembled_content_id
    LEFT JOIN cf_scripts s ON s.id = ac.script_id
   ORDER BY d.published_content_id
  ON CONFLICT (published_content_id) DO UPDATE SET
    days = r.days + EXCLUDED.days, views = r.views + EXCLUDED.views,
    likes = r.likes + EXCLUDED.likes, comments = r.comments + EXCLUDED.comments,
    shares = r.shares + EXCLUDED.shares, saves = r.saves + EXCLUDED.saves,
    clicks = r.clicks + EXCLUDED.clicks, conversions = r.conversions + EXCLUDED.conversions,
    spend = r.spend + EXCLUDED.spend,
    engagement_rate_sum = r.engagement_rate_sum + EXCLUDED.engagement_rate_sum,
    ctr_sum = r.ctr_sum + EXCLUDED.ctr_sum;

  INSERT INTO cf_metrics_monthly_rollup AS r (
      published_content_id, month, dossier_id, platform, awareness_level, market_sophistication,
      video_types, days, views, likes, comments, shares, saves, clicks, conversions, spend,
      engagement_rate_sum, ctr_sum)
  SELECT d.published_content_id, d.month, c.dossier_id, c.platform, c.awareness_level,
         c.market_sophistication, c.video_types, d.days, d.views, d.likes, d.comments,
         d.shares, d.saves, d.clicks, d.conversions, d.spend, d.engagement_rate_sum, d.ctr_sum
    FROM unnest(deltas) d
    JOIN cf_metrics_content_rollup c ON c.published_content_id = d.published_content_id
   ORDER BY d.published_content_id, d.month
  ON CONFLICT (published_content_id, month) DO UPDATE SET
    days = r.days + EXCLUDED.days, views = r.views + EXCLUDED.views,
    likes = r.likes + EXCLUDED.likes, comments = r.comments + EXCLUDED.comments,
    shares = r.shares + EXCLUDED.shares, saves = r.saves + EXCLUDED.saves,
    clicks = r.clicks + EXCLUDED.clicks, conversions = r.conversions + EXCLUDED.conversions,
    spend = r.spend + EXCLUDED.spend,
    engagement_rate_sum = r.engagement_rate_sum + EXCLUDED.engagement_rate_sum,
    ctr_sum = r.ctr_sum + EXCLUDED.ctr_sum;

  INSERT INTO cf_metrics_cell_rollup AS r (
      awareness_level, market_sophistication, platform, month, days, views, likes, comments,
      shares, saves, clicks, conversions, spend, engagement_rate_sum, ctr_sum)
  SELECT c.awareness_level, c.market_sophistication, c.platform, d.month, sum(d.days),
         sum(d.views), sum(d.likes), sum(d.comments), sum(d.shares), sum(d.saves),
         sum(d.clicks), sum(d.conversions), sum(d.spend), sum(d.engagement_rate_sum),
         sum(d.ctr_sum)
    FROM unnest(deltas) d
    JOIN cf_metrics_content_rollup c ON c.published_content_id = d.published_content_id
   GROUP BY c.awareness_level, c.market_sophistication, c.platform, d.month
   ORDER BY c.awareness_level, c.market_sophistication, c.platform, d.month
  ON CONFLICT (awareness_level, market_sophistication, platform, month) DO UPDATE SET
    days = r.days + EXCLUDED.days, views = r.views + EXCLUDED.views,
    likes = r.likes + EXCLUDED.likes, comments = r.comments + EXCLUDED.comments,
    shares = r.shares + EXCLUDED.shares, saves = r.saves + EXCLUDED.saves,
    clicks = r.clicks + EXCLUDED.clicks, conversions = r.conversions + EXCLUDED.conversions,
    spend = r.spend + EXCLUDED.spend,
    engagement_rate_sum = r.engagement_rate_sum + EXCLUDED.engagement_rate_sum,
    ctr_sum = r.ctr_sum + EXCLUDED.ctr_sum;

  -- Only rows that lost days can have none left; an insert-only statement skips this.
  IF EXISTS (SELECT 1 FROM unnest(deltas) WHERE days < 0) THEN
    DELETE FROM cf_metrics_cell_rollup WHERE days = 0;
    DELETE FROM cf_metrics_monthly_rollup r USING unnest(deltas) d
     WHERE r.published_content_id = d.published_content_id AND r.month = d.month
       AND r.days = 0;
    DELETE FROM cf_metrics_content_rollup r USING unnest(deltas) d
     WHERE r.published_content_id = d.published_content_id AND r.days = 0;
  END IF;
END;
$$ LANGUAGE plpgsql;

-- The statement's rows with a sign: +1 for rows it wrote, -1 for the rows they replaced or it
-- deleted. A replay that writes the same values yields no delta at all.
CREATE FUNCTION cf_metrics_rollup_trigger() RETURNS TRIGGER AS $$
DECLARE
  deltas cf_metric_delta[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    deltas := ARRAY(
      SELECT ROW(published_content_id, date_trunc('month', date)::date, count(*), sum(views),
                 sum(likes), sum(comments), sum(shares), sum(saves), sum(clicks),
                 sum(conversions), sum(spend), sum(engagement_rate), sum(ctr))::cf_metric_delta
        FROM new_rows GROUP BY published_content_id, date_trunc('month', date));
  ELSIF TG_OP = 'DELETE' THEN
    deltas := ARRAY(
      SELECT ROW(published_content_id, date_trunc('month', date)::date, -count(*), -sum(views),
                 -sum(likes), -sum(comments), -sum(shares), -sum(saves), -sum(clicks),
                 -sum(conversions), -sum(spend), -sum(engagement_rate), -sum(ctr))::cf_metric_delta
        FROM old_rows GROUP BY published_content_id, date_trunc('month', date));
  ELSE
    deltas := ARRAY(
      SELECT ROW(published_content_id, month, sum(sign), sum(sign * views), sum(sign * likes),
                 sum(sign * comments), sum(sign * shares), sum(sign * saves),
                 sum(sign * clicks), sum(sign * conversions), sum(sign * spend),
                 sum(sign * engagement_rate), sum(sign * ctr))::cf_metric_delta
        FROM (SELECT 1 AS sign, published_content_id, date_trunc('month', date)::date AS month,
                     views, likes, comments, shares, saves, clicks, conversions, spend,
                     engagement_rate, ctr FROM new_rows
              UNION ALL
              SELECT -1, published_content_id, date_trunc('month', date)::date, views, likes,
                     comments, shares, saves, clicks, conversions, spend, engagement_rate, ctr
                FROM old_rows) signed
       GROUP BY published_content_id, month
      HAVING sum(sign) <> 0 OR sum(sign * views) <> 0 OR sum(sign * likes) <> 0
          OR sum(sign * comments) <> 0 OR sum(sign * shares) <> 0 OR sum(sign * saves) <> 0
          OR sum(sign * clicks) <> 0 OR sum(sign * conversions) <> 0
          OR sum(sign * spend) <> 0 OR sum(sign * engagement_rate) <> 0
          OR sum(sign * ctr) <> 0);
  END IF;
  IF cardinality(deltas) > 0 THEN
    PERFORM cf_apply_metric_deltas(deltas);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- One trigger per event: PostgreSQL allows transition tables only on single-event triggers.
-- Statements run through the parent (the service, and the cascade from a deleted post) fire
-- them; rows moved between partitions by cf_create_metrics_partitions do not, which is right,
-- since a move changes no total.
CREATE TRIGGER metrics_rollup_insert AFTER INSERT ON cf_performance_metrics
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cf_metrics_rollup_trigger();
CREATE TRIGGER metrics_rollup_update AFTER UPDATE ON cf_performance_metrics
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION cf_metrics_rollup_trigger();
CREATE TRIGGER metrics_rollup_delete AFTER DELETE ON cf_performance_metrics
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cf_metrics_rollup_trigger();

-- ---------------------------------------------------------------------------------------------
-- Partition management. The analytics role may not run DDL, so it calls this SECURITY DEFINER
-- function (owned by the migration's owner) to create the month partitions it needs. Rows that
-- already sit in the DEFAULT partition for such a month are moved into the new partition, which
-- is built beside the table and attached, so the DEFAULT partition never blocks a new month.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION cf_create_metrics_partitions(first_month DATE, last_month DATE)
RETURNS INTEGER
SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  month DATE;
  partition_name TEXT;
  missing DATE[] := '{}';
  created INTEGER := 0;
BEGIN
  IF first_month IS NULL OR last_month IS NULL OR last_month < first_month THEN
    RAISE EXCEPTION 'cf_create_metrics_partitions: need first_month <= last_month'
      USING ERRCODE = '22023';
  END IF;
  IF last_month > first_month + INTERVAL '10 years' THEN
    RAISE EXCEPTION 'cf_create_metrics_partitions: at most ten years at a time'
      USING ERRCODE = '22023';
  END IF;
  month := date_trunc('month', first_month)::date;
  WHILE month <= last_month LOOP
    IF to_regclass('cf_performance_metrics_' || to_char(month, 'YYYY_MM')) IS NULL THEN
      missing := missing || month;
    END IF;
    month := (month + INTERVAL '1 month')::date;
  END LOOP;
  IF cardinality(missing) = 0 THEN
    RETURN 0;  -- the daily call: nothing to do, no locks taken
  END IF;
  -- Locks first, always in this order, so nothing waits in a cycle with us:
  --  * the metrics writers' lock (an ingest or a collection waits until we are done);
  --  * cf_published_content, which attaching a partition locks anyway (SHARE ROW EXCLUSIVE, to
  --    clone the foreign key): taken before the DEFAULT partition, because a cascade from a
  --    deleted post holds it and then reaches the DEFAULT partition;
  --  * the DEFAULT partition whole, before rows move out of it, so no statement can slip a row
  --    for the month into it between the move and the attach.
  PERFORM pg_advisory_xact_lock(hashtext('cf_performance_metrics ingest'));
  LOCK TABLE cf_published_content IN SHARE ROW EXCLUSIVE MODE;
  LOCK TABLE cf_performance_metrics_default IN ACCESS EXCLUSIVE MODE;
  FOREACH month IN ARRAY missing LOOP
    partition_name := 'cf_performance_metrics_' || to_char(month, 'YYYY_MM');
    CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;  -- made while we waited
    EXECUTE format('CREATE TABLE %I (LIKE cf_performance_metrics INCLUDING DEFAULTS '
                   'INCLUDING CONSTRAINTS INCLUDING GENERATED)', partition_name);
    -- The range as a constraint lets ATTACH skip validating the new table (it still scans the
    -- DEFAULT partition, which the daily run keeps empty by making months ahead of time).
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (date >= %L AND date < %L)',
                   partition_name, partition_name || '_range', month,
                   (month + INTERVAL '1 month')::date);
    EXECUTE format('WITH moved AS (DELETE FROM cf_performance_metrics_default '
                   'WHERE date >= %L AND date < %L RETURNING *) '
                   'INSERT INTO %I (id, published_content_id, date, views, likes, comments, '
                   'shares, saves, clicks, conversions, spend, created_at) '
                   'SELECT id, published_content_id, date, views, likes, comments, shares, '
                   'saves, clicks, conversions, spend, created_at FROM moved',
                   month, (month + INTERVAL '1 month')::date, partition_name);
    EXECUTE format('ALTER TABLE cf_performance_metrics ATTACH PARTITION %I '
                   'FOR VALUES FROM (%L) TO (%L)',
                   partition_name, month, (month + INTERVAL '1 month')::date);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', partition_name,
                   partition_name || '_range');
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$ LANGUAGE plpgsql;

-- The posts among `ids` that exist, with their UTC publish day, locked FOR KEY SHARE until the
-- caller's transaction ends: an ingest checks its posts once and no delete can then make its
-- foreign key fail. The analytics role only reads cf_published_content, and a row lock needs
-- more, hence SECURITY DEFINER. Locked in id order, as every ingest does.
CREATE FUNCTION cf_lock_published_content(ids UUID[])
RETURNS TABLE (id UUID, published_day DATE)
SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT pc.id, (pc.published_at AT TIME ZONE 'UTC')::date
    FROM cf_published_content pc
   WHERE pc.id = ANY(ids)
   ORDER BY pc.id
     FOR KEY SHARE
$$ LANGUAGE sql;

REVOKE ALL ON FUNCTION cf_lock_published_content(UUID[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cf_lock_published_content(UUID[]) TO cf_analytics;

REVOKE ALL ON FUNCTION cf_create_metrics_partitions(DATE, DATE) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cf_create_metrics_partitions(DATE, DATE) TO cf_analytics;

-- Partitions for the months the old table holds, and for this month and the next three.
SELECT cf_create_metrics_partitions(
  LEAST(COALESCE((SELECT min(date) FROM cf_performance_metrics_unpartitioned), CURRENT_DATE),
        CURRENT_DATE),
  GREATEST(COALESCE((SELECT max(date) FROM cf_performance_metrics_unpartitioned), CURRENT_DATE),
           (CURRENT_DATE + INTERVAL '3 months')::date));

-- The seed's indexes, on the parent so every partition has them. idx_metrics_published is
-- dropped: the unique index leads with the same column and serves the same lookups, and each
-- extra index slows every ingest.
CREATE UNIQUE INDEX idx_metrics_unique ON cf_performance_metrics(published_content_id, date);
CREATE INDEX idx_metrics_date ON cf_performance_metrics(date DESC);
CREATE INDEX idx_metrics_high_engagement ON cf_performance_metrics(engagement_rate DESC)
  WHERE views > 1000;
CREATE INDEX idx_metrics_high_ctr ON cf_performance_metrics(ctr DESC) WHERE views > 1000;

-- The old rows, through the parent so the rollup triggers backfill the rollups.
INSERT INTO cf_performance_metrics (id, published_content_id, date, views, likes, comments,
                                    shares, saves, clicks, conversions, spend, created_at)
SELECT id, published_content_id, date, COALESCE(views, 0), COALESCE(likes, 0),
       COALESCE(comments, 0), COALESCE(shares, 0), COALESCE(saves, 0), COALESCE(clicks, 0),
       COALESCE(conversions, 0), COALESCE(spend, 0), created_at
  FROM cf_performance_metrics_unpartitioned;

DROP TABLE cf_performance_metrics_unpartitioned;

-- ---------------------------------------------------------------------------------------------
-- Metric snapshots: the lifetime totals the collector read from the platform, one per post and
-- day, from which each day's metrics row is the difference. reset marks a day whose total went
-- down (a platform recount or a deleted interaction); that day's difference is clamped at 0.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE cf_metric_snapshots (
  published_content_id UUID NOT NULL REFERENCES cf_published_content(id) ON DELETE CASCADE,
  date DATE NOT NULL,
  views BIGINT NOT NULL CHECK (views >= 0),
  likes BIGINT NOT NULL CHECK (likes >= 0),
  comments BIGINT NOT NULL CHECK (comments >= 0),
  shares BIGINT NOT NULL CHECK (shares >= 0),
  saves BIGINT NOT NULL CHECK (saves >= 0),
  clicks BIGINT NOT NULL CHECK (clicks >= 0),
  conversions BIGINT NOT NULL CHECK (conversions >= 0),
  spend NUMERIC(16,2) NOT NULL CHECK (spend >= 0),
  reset BOOLEAN NOT NULL DEFAULT false,
  -- Clicks above the day's views, and conversions above its clicks, wait here for a later day.
  carried_clicks BIGINT NOT NULL DEFAULT 0,
  carried_conversions BIGINT NOT NULL DEFAULT 0,
  collected_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (published_content_id, date)
);

-- What the last collection did for each post: "collected", or why it was skipped.
CREATE TABLE cf_metric_collection_status (
  published_content_id UUID PRIMARY KEY REFERENCES cf_published_content(id) ON DELETE CASCADE,
  outcome TEXT NOT NULL CHECK (outcome IN ('collected', 'skipped', 'failed')),
  reason TEXT NOT NULL DEFAULT '',
  attempted_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- FIX: cf_ab_tests.winner_id referenced the winning post without ON DELETE, so deleting a
-- dossier whose post had won a test failed. The test keeps its record; its winner becomes NULL.
ALTER TABLE cf_ab_tests DROP CONSTRAINT cf_ab_tests_winner_id_fkey,
  ADD CONSTRAINT cf_ab_tests_winner_id_fkey FOREIGN KEY (winner_id)
    REFERENCES cf_published_content(id) ON DELETE SET NULL;

-- ---------------------------------------------------------------------------------------------
-- Grants: analytics owns the metrics, its rollups, snapshots and collection status. The rollup
-- triggers run as the writer, so the writer needs the rollups too.
-- ---------------------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON cf_performance_metrics, cf_metrics_content_rollup,
  cf_metrics_monthly_rollup, cf_metrics_cell_rollup, cf_metric_snapshots,
  cf_metric_collection_status TO cf_analytics;
