// Test data for analytics: dossiers, scripts, videos, assemblies and published posts written
// straight into the schema as its owner (the other services' tables are read-only to analytics).
#ifndef CF_SERVICES_ANALYTICS_ANALYTICS_FIXTURES_H_
#define CF_SERVICES_ANALYTICS_ANALYTICS_FIXTURES_H_

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace cf::analytics {

struct PostSpec {
  std::string dossier_id;  // "" makes a new dossier
  int awareness_level = 3;
  int market_sophistication = 2;  // 0: none
  bool has_script = true;
  std::string platform = "tiktok";
  std::vector<std::string> video_types;  // reveal, demo, transition, testimonial
  std::string published_at = "2025-01-01 12:00:00+00";
};

class AnalyticsFixtures {
 public:
  explicit AnalyticsFixtures(std::string owner_conninfo) : conninfo_(std::move(owner_conninfo)) {}
  std::string AddDossier();
  // A post and what it is made from; returns its published_content_id.
  std::string AddPost(const PostSpec& spec = {});
  pqxx::result Query(const std::string& sql);
  // How many rows differ between the rollups and the same sums taken from the raw metrics, plus
  // per-post rollup rows whose dimensions differ from the tables they were copied from (0 when
  // every rollup is exact), over the three rollups.
  long RollupMismatches();

 private:
  std::string conninfo_;
};

}  // namespace cf::analytics

#endif  // CF_SERVICES_ANALYTICS_ANALYTICS_FIXTURES_H_
