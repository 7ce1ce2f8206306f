#include "services/analytics/analytics_fixtures.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cf::analytics {

pqxx::result AnalyticsFixtures::Query(const std::string& sql) {
  pqxx::connection connection(conninfo_);
  pqxx::work txn(connection);
  pqxx::result result = txn.exec(sql);
  txn.commit();
  return result;
}

std::string AnalyticsFixtures::AddDossier() {
  return Query(
             "INSERT INTO cf_product_dossiers (slug, name) "
             "VALUES ('d-' || gen_random_uuid(), 'Dossier') RETURNING id")[0][0]
      .as<std::string>();
}

std::string AnalyticsFixtures::AddPost(const PostSpec& spec) {
  const std::string dossier = spec.dossier_id.empty() ? AddDossier() : spec.dossier_id;
  std::string script = "NULL";
  if (spec.has_script) {
    const std::string sophistication =
        spec.market_sophistication == 0 ? "NULL" : absl::StrCat(spec.market_sophistication);
    // One script per dossier and cell (the schema's unique index): posts of a cell share it.
    pqxx::result found =
        Query(absl::StrCat("SELECT id FROM cf_scripts WHERE dossier_id = '", dossier,
                           "' AND awareness_level = ", spec.awareness_level,
                           " AND market_sophistication IS NOT DISTINCT FROM ", sophistication));
    const std::string id =
        !found.empty()
            ? found[0][0].as<std::string>()
            : Query(absl::StrCat("INSERT INTO cf_scripts (dossier_id, awareness_level, "
                                 "market_sophistication, hook, body, cta) VALUES ('",
                                 dossier, "', ", spec.awareness_level, ", ", sophistication,
                                 ", 'hook', 'body', 'cta') RETURNING id"))[0][0]
                  .as<std::string>();
    script = absl::StrCat("'", id, "'");
  }
  std::vector<std::string> videos;
  for (const std::string& type : spec.video_types) {
    videos.push_back(
        Query(absl::StrCat("INSERT INTO cf_generated_videos (dossier_id, type, "
                           "prompt) VALUES ('",
                           dossier, "', '", type, "', 'a prompt') RETURNING id"))[0][0]
            .as<std::string>());
  }
  const std::string assembly =
      Query(absl::StrCat("INSERT INTO cf_assembled_content (dossier_id, script_id, video_ids, "
                         "platform) VALUES ('",
                         dossier, "', ", script, ", '{", absl::StrJoin(videos, ","), "}', '",
                         spec.platform, "') RETURNING id"))[0][0]
          .as<std::string>();
  return Query(
             absl::StrCat("INSERT INTO cf_published_content (assembled_content_id, platform, "
                          "platform_post_id, published_at) VALUES ('",
                          assembly, "', '", spec.platform, "', 'post-' || gen_random_uuid(), '",
                          spec.published_at, "') RETURNING id"))[0][0]
      .as<std::string>();
}

long AnalyticsFixtures::RollupMismatches() {
  const std::string sums =
      "count(*)::bigint AS days, sum(views)::bigint AS views, sum(likes)::bigint AS likes, "
      "sum(comments)::bigint AS comments, sum(shares)::bigint AS shares, "
      "sum(saves)::bigint AS saves, sum(clicks)::bigint AS clicks, "
      "sum(conversions)::bigint AS conversions, sum(spend) AS spend, "
      "sum(engagement_rate) AS engagement_rate_sum, sum(ctr) AS ctr_sum";
  const std::string rollup_sums =
      "days, views, likes, comments, shares, saves, clicks, conversions, spend, "
      "engagement_rate_sum, ctr_sum";
  const std::string content_raw = absl::StrCat("SELECT published_content_id, ", sums,
                                               " FROM cf_performance_metrics GROUP BY 1");
  const std::string content_rollup =
      absl::StrCat("SELECT published_content_id, ", rollup_sums, " FROM cf_metrics_content_rollup");
  const std::string month_raw =
      absl::StrCat("SELECT published_content_id, date_trunc('month', date)::date, ", sums,
                   " FROM cf_performance_metrics GROUP BY 1, 2");
  const std::string month_rollup = absl::StrCat("SELECT published_content_id, month, ", rollup_sums,
                                                " FROM cf_metrics_monthly_rollup");
  const std::string cell_raw = absl::StrCat(
      "SELECT COALESCE(s.awareness_level, 0)::smallint, "
      "COALESCE(s.market_sophistication, 0)::smallint, pc.platform, "
      "date_trunc('month', m.date)::date, ",
      sums,
      " FROM cf_performance_metrics m JOIN cf_published_content pc "
      "ON pc.id = m.published_content_id JOIN cf_assembled_content ac "
      "ON ac.id = pc.assembled_content_id LEFT JOIN cf_scripts s ON s.id = ac.script_id "
      "GROUP BY 1, 2, 3, 4");
  const std::string cell_rollup =
      absl::StrCat("SELECT awareness_level, market_sophistication, platform, month, ", rollup_sums,
                   " FROM cf_metrics_cell_rollup");
  // The dimensions copied into the per-post rollups, against the tables they come from.
  const std::string same_dimensions =
      "SELECT 1 FROM cf_published_content pc JOIN cf_assembled_content ac ON ac.id = "
      "pc.assembled_content_id LEFT JOIN cf_scripts s ON s.id = ac.script_id WHERE pc.id = "
      "r.published_content_id AND (ac.dossier_id, pc.platform, COALESCE(s.awareness_level, "
      "0)::smallint, COALESCE(s.market_sophistication, 0)::smallint, COALESCE((SELECT "
      "array_agg(DISTINCT v.type ORDER BY v.type) FROM cf_generated_videos v WHERE v.id = "
      "ANY(ac.video_ids)), '{}')) IS NOT DISTINCT FROM (r.dossier_id, r.platform, "
      "r.awareness_level, r.market_sophistication, r.video_types)";
  long mismatches = 0;
  for (const char* rollup : {"cf_metrics_content_rollup", "cf_metrics_monthly_rollup"}) {
    mismatches += Query(absl::StrCat("SELECT count(*) FROM ", rollup, " r WHERE NOT EXISTS (",
                                     same_dimensions, ")"))[0][0]
                      .as<long>();
  }
  for (const auto& [raw, rollup] :
       {std::make_pair(content_raw, content_rollup), std::make_pair(month_raw, month_rollup),
        std::make_pair(cell_raw, cell_rollup)}) {
    mismatches += Query(absl::StrCat("SELECT count(*) FROM ((", raw, " EXCEPT ", rollup,
                                     ") UNION ALL (", rollup, " EXCEPT ", raw, ")) AS diff"))[0][0]
                      .as<long>();
  }
  return mismatches;
}

}  // namespace cf::analytics
