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
