-- A counter of changes to the metrics, so that a reader can tell whether a ranking it computed
-- earlier still holds: the same version means the same rows, hence the same rollups.
--
-- A statement trigger bumps it in the same transaction as every statement that writes
-- cf_performance_metrics through the parent (ingests, collections, cascades from deleted posts
-- and dossiers), so a reader that sees a version sees the metrics of that version. It fires
-- BEFORE the statement, so every writer takes the one row's lock first, before any rollup row:
-- an ingest and a cascading delete then never wait for each other in crossing orders. Rows
-- moved between partitions by cf_create_metrics_partitions do not fire it, which is right: a
-- move changes nothing a reader sees.
CREATE TABLE cf_metrics_version (
  singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
  version BIGINT NOT NULL
);
INSERT INTO cf_metrics_version (singleton, version) VALUES (true, 1);

-- SECURITY DEFINER: whoever writes the metrics bumps the version, including a role that only
-- deleted a dossier and reached the metrics by cascade.
CREATE FUNCTION cf_bump_metrics_version() RETURNS trigger
SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE cf_metrics_version SET version = version + 1;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER metrics_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON cf_performance_metrics FOR EACH STATEMENT EXECUTE FUNCTION cf_bump_metrics_version();

-- The rollup trigger from 0009 runs as its owner too. PostgreSQL runs a cascading delete as
-- the referencing table's owner, but fires that delete's AFTER STATEMENT triggers once back in
-- the deleting role: catalog's role, when a dossier is deleted, which may not write rollups.
ALTER FUNCTION cf_metrics_rollup_trigger() SECURITY DEFINER SET search_path = public, pg_temp;

GRANT SELECT ON cf_metrics_version TO cf_analytics;

-- ---------------------------------------------------------------------------------------------
-- Partitions refuse direct writes. The rollup and version triggers fire on the parent only, so
-- a row written straight into a partition (a retention job deleting from last year's, say)
-- would leave the rollups wrong for good. Each partition's statement trigger refuses it; writes
-- through cf_performance_metrics do not fire it. TRUNCATE is refused too, on the parent as well
-- (it reaches the partitions' triggers), since it would skip the rollup triggers.
-- cf_create_metrics_partitions, whose moves between partitions change no total, lets its own
-- through with a transaction-local setting.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION cf_refuse_direct_metrics_writes() RETURNS trigger AS $$
BEGIN
  IF current_setting('cf.moving_metrics_partitions', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '% on %: write through cf_performance_metrics (its triggers keep the rollups)',
    TG_OP, TG_TABLE_NAME USING ERRCODE = '42809';  -- wrong_object_type
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION cf_guard_metrics_partition(partition REGCLASS) RETURNS void AS $$
BEGIN
  EXECUTE format('CREATE TRIGGER metrics_partition_guard BEFORE INSERT OR UPDATE OR DELETE OR '
                 'TRUNCATE ON %s FOR EACH STATEMENT '
                 'EXECUTE FUNCTION cf_refuse_direct_metrics_writes()', partition);
END;
$$ LANGUAGE plpgsql;

SELECT cf_guard_metrics_partition(inhrelid::regclass)
  FROM pg_inherits WHERE inhparent = 'cf_performance_metrics'::regclass;

CREATE OR REPLACE FUNCTION cf_create_metrics_partitions(first_month DATE, last_month DATE)
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
  -- Our moves between partitions change no total: the partitions' guards let them through.
  PERFORM set_config('cf.moving_metrics_partitions', 'on', true);
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
    PERFORM cf_guard_metrics_partition(partition_name::regclass);
    created := created + 1;
  END LOOP;
  PERFORM set_config('cf.moving_metrics_partitions', 'off', true);
  RETURN created;
END;
$$ LANGUAGE plpgsql;
