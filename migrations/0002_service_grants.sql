-- Each service connects as its own role and may write only the tables it owns (DESIGN.md).
-- The roles belong to the whole cluster, so the migrate tool creates missing ones before it
-- applies migrations; this file only grants.
--
-- Reads across slices, the only ones allowed, all read-only:
--   * catalog reads the generation, assembly and publishing tables to count a dossier's assets
--     (GetDossierOverview) and to refuse deleting a published dossier;
--   * analytics reads publishing's, assembly's and generation's tables for reporting joins.
-- Foreign-key cascades run as the table owner and so still act across slices: deleting a
-- dossier deletes everything made from it (the seed's design), which is why DeleteDossier
-- refuses a published dossier unless forced.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON cf_product_dossiers TO cf_catalog;
GRANT SELECT ON cf_generated_images, cf_generated_videos, cf_scripts, cf_assembled_content,
  cf_published_content TO cf_catalog;

GRANT SELECT, INSERT, UPDATE, DELETE ON cf_scripts, cf_generated_images, cf_generated_videos
  TO cf_generation;

GRANT SELECT, INSERT, UPDATE, DELETE ON cf_assembled_content TO cf_assembly;

GRANT SELECT, INSERT, UPDATE, DELETE ON cf_published_content TO cf_publishing;

GRANT SELECT, INSERT, UPDATE, DELETE ON cf_performance_metrics, cf_scoring_config, cf_ab_tests
  TO cf_analytics;
GRANT SELECT ON cf_published_content, cf_assembled_content, cf_scripts, cf_generated_images,
  cf_generated_videos TO cf_analytics;

-- Every service checks at start that the schema is new enough for it.
GRANT SELECT ON schema_migrations TO cf_catalog, cf_generation, cf_assembly, cf_publishing,
  cf_analytics;
