-- A counter of changes to the metrics, so that a reader can tell whether a ranking it computed
-- earlier still holds: the same version means the same rows, hence the same rollups.
--
-- A statement trigger bumps it in the same transaction as every statement that writes
-- cf_performance_metrics through the parent (ingests, collections, cascades from deleted posts
-- and dossiers), so a reader that sees a version sees the metrics of that version. Ingests and
-- collections already run one at a time (the metrics writers' lock), so the one row adds no
-- waiting between them. Rows moved between partitions by cf_create_metrics_partitions do not
-- fire it, which is right: a move changes nothing a reader sees.
CREATE TABLE cf_metrics_version (
  singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
  version BIGINT NOT NULL
);
INSERT INTO cf_metrics_version (singleton, version) VALUES (true, 1);

CREATE FUNCTION cf_bump_metrics_version() RETURNS trigger AS $$
BEGIN
  UPDATE cf_metrics_version SET version = version + 1;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER metrics_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON cf_performance_metrics FOR EACH STATEMENT EXECUTE FUNCTION cf_bump_metrics_version();

GRANT SELECT, UPDATE ON cf_metrics_version TO cf_analytics;
