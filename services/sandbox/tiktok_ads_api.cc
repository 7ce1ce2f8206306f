#include "services/sandbox/tiktok_ads_api.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "common/platforms/platforms.h"

namespace cf::sandbox {
namespace {

// A route pattern (regex): the dot escaped.
constexpr char kPrefix[] = R"(/tiktok-business/open_api/v1\.3)";
// The token account whose access tokens the Marketing API accepts (Content Posting's).
constexpr char kTokenAccount[] = "tiktok";
// 16-digit ids, as TikTok's campaign, ad group and ad ids are.
constexpr int64_t kFirstAdsId = 1800000000000000;
constexpr size_t kMaxNameLength = 512;  // UTF-16 units, for every name
constexpr size_t kMaxCreatives = 20;
constexpr size_t kMaxStatusIds = 20;
constexpr size_t kMaxFilterIds = 100;
constexpr int64_t kMaxPageSize = 1000;

// Why a request is refused: the Marketing API's code and message.
struct Refusal {
  int code = kAdsInvalidParameter;
  std::string message;
};

Refusal Invalid(const std::string& message) { return {kAdsInvalidParameter, message}; }

void Refuse(httplib::Response& res, const Refusal& refusal) {
  SendTikTokAdsError(res, refusal.code, refusal.message);
}

void SendInternal(httplib::Response& res, const absl::Status& status) {
  Log(LogLevel::kError, "tiktok ads call failed", {{"error", std::string(status.message())}});
  SendTikTokAdsError(res, kAdsInternalError, "Internal error, please retry later");
}

// An id member as text: ids come as decimal strings, or as JSON integers ("" otherwise).
std::string IdAt(const nlohmann::json& object, const std::string& name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return "";
}

std::string IdOf(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return value.dump();
  return "";
}

// Member `name` must be the string `expected`.
std::optional<Refusal> Expect(const nlohmann::json& body, const std::string& name,
                              const std::string& expected) {
  if (!body.contains(name))
    return Invalid(absl::StrCat(name, ": Missing data for required field."));
  if (TextAt(body, name) != expected) {
    return Invalid(absl::StrCat(name, ": the sandbox supports ", expected, " only"));
  }
  return std::nullopt;
}

// A required name: a nonempty string of at most 512 UTF-16 units.
std::optional<Refusal> CheckName(const nlohmann::json& object, const std::string& name,
                                 const std::string& where = "") {
  const std::string label = where + name;
  if (!object.contains(name)) {
    return Invalid(absl::StrCat(label, ": Missing data for required field."));
  }
  const std::string text = TextAt(object, name);
  if (absl::StripAsciiWhitespace(text).empty()) {
    return Invalid(absl::StrCat(label, " must be a nonempty string"));
  }
  if (platforms::CaptionLength(text) > kMaxNameLength) {
    return Invalid(absl::StrCat(label, " is longer than ", kMaxNameLength, " characters"));
  }
  return std::nullopt;
}

// The Access-Token header names a live TikTok token.
std::optional<Refusal> CheckToken(Env& env, const httplib::Request& req) {
  const std::string token =
      std::string(absl::StripAsciiWhitespace(req.get_header_value("Access-Token")));
  if (token.empty()) return Refusal{kAdsInvalidToken, "Access-Token is missing"};
  auto lock = env.store->Lock();
  const TokenAccount& tokens = env.store->state().Tokens(kTokenAccount);
  if (std::find(tokens.valid.begin(), tokens.valid.end(), token) != tokens.valid.end()) {
    return std::nullopt;
  }
  return Refusal{kAdsInvalidToken, "The access token is invalid or has expired"};
}

std::optional<Refusal> CheckAdvertiser(const std::string& advertiser_id) {
  if (advertiser_id.empty()) {
    return Invalid("advertiser_id: Missing data for required field.");
  }
  if (advertiser_id != kAdvertiserId) {
    return Refusal{kAdsNoPermission,
                   absl::StrCat("No permission to operate advertiser ", advertiser_id)};
  }
  return std::nullopt;
}

// The advertiser and the rate, checked after the token. Answers and returns false when one fails.
bool AdmitAdvertiser(Env& env, httplib::Response& res, const std::string& advertiser_id) {
  if (std::optional<Refusal> refused = CheckAdvertiser(advertiser_id)) {
    Refuse(res, *refused);
    return false;
  }
  return WithinRate(env, Flavor::kTikTokAds, absl::StrCat("tiktok_ads:", advertiser_id),
                    kAdsCallsPerSecond, absl::Seconds(1), res);
}

// What every call checks first: the token, the advertiser, the rate.
bool Admit(Env& env, const httplib::Request& req, httplib::Response& res,
           const std::string& advertiser_id) {
  if (std::optional<Refusal> refused = CheckToken(env, req)) {
    Refuse(res, *refused);
    return false;
  }
  return AdmitAdvertiser(env, res, advertiser_id);
}

// A POST's body, admitted: the token is checked before the body, so a bad token is 40105
// whatever was sent.
std::optional<nlohmann::json> AdmitPost(Env& env, const httplib::Request& req,
                                        httplib::Response& res) {
  if (std::optional<Refusal> refused = CheckToken(env, req)) {
    Refuse(res, *refused);
    return std::nullopt;
  }
  std::optional<nlohmann::json> body = JsonObjectBody(req);
  if (!body.has_value()) {
    Refuse(res, Invalid("The request body is not a JSON object"));
    return std::nullopt;
  }
  if (!AdmitAdvertiser(env, res, IdAt(*body, "advertiser_id"))) return std::nullopt;
  return body;
}

std::string NewId(State& state) { return std::to_string(kFirstAdsId + state.NextNumber()); }

// "2025-01-02 03:04:05", the Marketing API's times (UTC).
std::string AdsTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

// With the store locked: every post an ad points at takes the budget its ad groups now give it.
void ApplyPromotions(Env& env, State& state) {
  const int64_t now_ms = env.NowMs();
  const absl::Duration day = env.audience().day;
  const std::map<std::string, int64_t> ends = PromotionEnds(state);
  for (const auto& [key, cents] : PromotionBudgets(state)) {
    Post* post = state.FindPost(kTokenAccount, key);
    auto end = ends.find(key);
    const int64_t until_ms = end == ends.end() ? 0 : end->second;
    // Ad groups past their scheduled end give nothing any more.
    const bool ended = until_ms != 0 && until_ms <= now_ms;
    if (post != nullptr) SetPromotionBudget(*post, ended ? 0 : cents, now_ms, day, until_ms);
  }
}

void CampaignCreate(Env& env, const httplib::Request& req, httplib::Response& res) {
  std::optional<nlohmann::json> body = AdmitPost(env, req, res);
  if (!body.has_value()) return;
  if (auto refused = CheckName(*body, "campaign_name")) return Refuse(res, *refused);
  if (auto refused = Expect(*body, "objective_type", "VIDEO_VIEWS")) return Refuse(res, *refused);
  if (auto refused = Expect(*body, "budget_mode", "BUDGET_MODE_INFINITE")) {
    return Refuse(res, *refused);
  }
  auto lock = env.store->Lock();
  State& state = env.store->state();
  AdCampaign campaign;
  campaign.id = NewId(state);
  campaign.advertiser_id = kAdvertiserId;
  campaign.name = TextAt(*body, "campaign_name");
  campaign.objective_type = TextAt(*body, "objective_type");
  campaign.budget_mode = TextAt(*body, "budget_mode");
  campaign.created_ms = env.NowMs();
  state.campaigns[campaign.id] = campaign;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendTikTokAdsData(res, {{"campaign_id", campaign.id}});
}

// The budget member: a JSON number of at least 20.00 with two decimals at most, read exactly.
absl::StatusOr<int64_t> BudgetCents(const httplib::Request& req, const nlohmann::json& body) {
  if (!body.contains("budget")) {
    return absl::InvalidArgumentError("budget: Missing data for required field.");
  }
  std::optional<std::string> raw = RawNumberMember(req.body, "budget");
  if (!raw.has_value() || !body.at("budget").is_number()) {
    return absl::InvalidArgumentError("budget must be a number such as 25.00");
  }
  absl::StatusOr<int64_t> cents = ExactCents(*raw);
  const bool negative = !raw->empty() && (*raw)[0] == '-';
  if (!cents.ok() && !negative) {
    return absl::InvalidArgumentError(absl::StrCat("budget ", cents.status().message()));
  }
  if (negative || *cents < kMinDailyBudgetCents) {
    return absl::InvalidArgumentError("budget must be at least 20.00 per day");
  }
  return *cents;
}

void AdGroupCreate(Env& env, const httplib::Request& req, httplib::Response& res) {
  std::optional<nlohmann::json> body = AdmitPost(env, req, res);
  if (!body.has_value()) return;
  const std::string campaign_id = IdAt(*body, "campaign_id");
  if (campaign_id.empty()) {
    return Refuse(res, Invalid("campaign_id: Missing data for required field."));
  }
  if (auto refused = CheckName(*body, "adgroup_name")) return Refuse(res, *refused);
  if (auto refused = Expect(*body, "placement_type", "PLACEMENT_TYPE_NORMAL")) {
    return Refuse(res, *refused);
  }
  if (!body->contains("placements")) {
    return Refuse(res, Invalid("placements: Missing data for required field."));
  }
  if ((*body)["placements"] != nlohmann::json::array({"PLACEMENT_TIKTOK"})) {
    return Refuse(res, Invalid("placements: the sandbox supports [\"PLACEMENT_TIKTOK\"] only"));
  }
  if (auto refused = Expect(*body, "budget_mode", "BUDGET_MODE_DAY")) return Refuse(res, *refused);
  absl::StatusOr<int64_t> budget = BudgetCents(req, *body);
  if (!budget.ok()) return Refuse(res, Invalid(std::string(budget.status().message())));
  const std::string schedule = TextAt(*body, "schedule_type");
  if (schedule != "SCHEDULE_FROM_NOW" && schedule != "SCHEDULE_START_END") {
    return Refuse(res, Invalid("schedule_type must be SCHEDULE_FROM_NOW or SCHEDULE_START_END"));
  }
  const std::string start = TextAt(*body, "schedule_start_time");
  absl::Time parsed_start;
  std::string error;
  if (start.size() != 19 ||
      !absl::ParseTime("%Y-%m-%d %H:%M:%S", start, absl::UTCTimeZone(), &parsed_start, &error)) {
    return Refuse(res, Invalid("schedule_start_time must be \"YYYY-MM-DD HH:MM:SS\" (UTC)"));
  }
  const std::string end = TextAt(*body, "schedule_end_time");
  absl::Time parsed_end = absl::InfiniteFuture();
  if (schedule == "SCHEDULE_START_END") {
    if (end.size() != 19 ||
        !absl::ParseTime("%Y-%m-%d %H:%M:%S", end, absl::UTCTimeZone(), &parsed_end, &error)) {
      return Refuse(res, Invalid("schedule_end_time must be \"YYYY-MM-DD HH:MM:SS\" (UTC) with "
                                 "SCHEDULE_START_END"));
    }
    if (parsed_end <= parsed_start) {
      return Refuse(res, Invalid("schedule_end_time must be later than schedule_start_time"));
    }
  } else if (body->contains("schedule_end_time")) {
    return Refuse(res, Invalid("schedule_end_time is for SCHEDULE_START_END only"));
  }
  if (auto refused = Expect(*body, "optimization_goal", "REACH")) return Refuse(res, *refused);
  if (auto refused = Expect(*body, "billing_event", "CPM")) return Refuse(res, *refused);
  if (auto refused = Expect(*body, "bid_type", "BID_TYPE_NO_BID")) return Refuse(res, *refused);

  auto lock = env.store->Lock();
  State& state = env.store->state();
  auto campaign = state.campaigns.find(campaign_id);
  if (campaign == state.campaigns.end() || campaign->second.advertiser_id != kAdvertiserId) {
    return Refuse(res, Invalid(absl::StrCat("campaign_id ", campaign_id, " does not exist")));
  }
  AdGroup group;
  group.id = NewId(state);
  group.advertiser_id = kAdvertiserId;
  group.campaign_id = campaign_id;
  group.name = TextAt(*body, "adgroup_name");
  group.budget_cents = *budget;
  group.schedule_type = schedule;
  group.schedule_start_time = start;
  if (schedule == "SCHEDULE_START_END") {
    group.schedule_end_time = end;
    group.schedule_end_ms = absl::ToUnixMillis(parsed_end);
  }
  group.request = *body;
  group.request.erase("budget");  // the exact amount is budget_cents
  group.created_ms = group.modified_ms = env.NowMs();
  state.adgroups[group.id] = group;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendTikTokAdsData(res, {{"adgroup_id", group.id}});
}

void AdCreate(Env& env, const httplib::Request& req, httplib::Response& res) {
  std::optional<nlohmann::json> body = AdmitPost(env, req, res);
  if (!body.has_value()) return;
  const std::string adgroup_id = IdAt(*body, "adgroup_id");
  if (adgroup_id.empty()) {
    return Refuse(res, Invalid("adgroup_id: Missing data for required field."));
  }
  auto creatives = body->find("creatives");
  if (creatives == body->end() || !creatives->is_array() || creatives->empty() ||
      creatives->size() > kMaxCreatives) {
    return Refuse(res,
                  Invalid(absl::StrCat("creatives must list 1 to ", kMaxCreatives, " creatives")));
  }
  for (size_t i = 0; i < creatives->size(); ++i) {
    const nlohmann::json& creative = (*creatives)[i];
    const std::string where = absl::StrCat("creatives[", i, "].");
    if (!creative.is_object()) {
      return Refuse(res, Invalid(absl::StrCat("creatives[", i, "] must be an object")));
    }
    if (auto refused = CheckName(creative, "ad_name", where)) return Refuse(res, *refused);
    if (auto refused = Expect(creative, "identity_type", "TT_USER")) {
      refused->message = where + refused->message;
      return Refuse(res, *refused);
    }
    if (TextAt(creative, "identity_id").empty()) {
      return Refuse(res, Invalid(where + "identity_id must be a nonempty string"));
    }
    if (auto refused = Expect(creative, "ad_format", "SINGLE_VIDEO")) {
      refused->message = where + refused->message;
      return Refuse(res, *refused);
    }
    if (IdAt(creative, "tiktok_item_id").empty()) {
      return Refuse(res, Invalid(where + "tiktok_item_id: Missing data for required field."));
    }
  }

  auto lock = env.store->Lock();
  State& state = env.store->state();
  auto group = state.adgroups.find(adgroup_id);
  if (group == state.adgroups.end() || group->second.advertiser_id != kAdvertiserId) {
    return Refuse(res, Invalid(absl::StrCat("adgroup_id ", adgroup_id, " does not exist")));
  }
  // Every creative is checked before any ad is made: all or nothing.
  for (size_t i = 0; i < creatives->size(); ++i) {
    const std::string item = IdAt((*creatives)[i], "tiktok_item_id");
    const Post* post = state.FindPost(kTokenAccount, item);
    if (post == nullptr || VisiblePostId(env, *post).empty()) {
      return Refuse(res, Invalid(absl::StrCat("creatives[", i, "].tiktok_item_id ", item,
                                              " is not a public TikTok post")));
    }
  }
  nlohmann::json ad_ids = nlohmann::json::array();
  for (const nlohmann::json& creative : *creatives) {
    Ad ad;
    ad.id = NewId(state);
    ad.advertiser_id = kAdvertiserId;
    ad.adgroup_id = adgroup_id;
    ad.name = TextAt(creative, "ad_name");
    ad.identity_type = TextAt(creative, "identity_type");
    ad.identity_id = TextAt(creative, "identity_id");
    ad.tiktok_item_id = IdAt(creative, "tiktok_item_id");
    ad.created_ms = env.NowMs();
    state.ads[ad.id] = ad;
    ad_ids.push_back(ad.id);
  }
  ApplyPromotions(env, state);
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendTikTokAdsData(res, {{"ad_ids", ad_ids}});
}

void AdGroupStatusUpdate(Env& env, const httplib::Request& req, httplib::Response& res) {
  std::optional<nlohmann::json> body = AdmitPost(env, req, res);
  if (!body.has_value()) return;
  auto ids = body->find("adgroup_ids");
  if (ids == body->end() || !ids->is_array() || ids->empty() || ids->size() > kMaxStatusIds) {
    return Refuse(
        res, Invalid(absl::StrCat("adgroup_ids must list 1 to ", kMaxStatusIds, " ad group ids")));
  }
  const std::string status = TextAt(*body, "operation_status");
  if (status != "DISABLE" && status != "ENABLE") {
    return Refuse(res, Invalid("operation_status must be DISABLE or ENABLE"));
  }
  auto lock = env.store->Lock();
  State& state = env.store->state();
  std::vector<std::string> wanted;
  for (const nlohmann::json& value : *ids) {
    const std::string id = IdOf(value);
    auto group = state.adgroups.find(id);
    if (id.empty() || group == state.adgroups.end() ||
        group->second.advertiser_id != kAdvertiserId) {
      return Refuse(res, Invalid(absl::StrCat("adgroup_id ", id.empty() ? value.dump() : id,
                                              " does not exist")));
    }
    wanted.push_back(id);
  }
  for (const std::string& id : wanted) {
    AdGroup& group = state.adgroups[id];
    if (group.operation_status == status) continue;
    group.operation_status = status;
    group.modified_ms = env.NowMs();
  }
  ApplyPromotions(env, state);
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendTikTokAdsData(res, {{"adgroup_ids", wanted}});
}

// A budget in cents as the JSON number the API answers with (cents / 100 is the nearest double,
// which prints with its two decimals at most).
double BudgetNumber(int64_t cents) { return static_cast<double>(cents) / 100; }

void AdGroupGet(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (!Admit(env, req, res, Param(req, "advertiser_id"))) return;
  std::set<std::string> adgroup_ids;
  std::set<std::string> campaign_ids;
  if (HasParam(req, "filtering")) {
    nlohmann::json filtering = nlohmann::json::parse(Param(req, "filtering"), nullptr, false);
    if (filtering.is_discarded() || !filtering.is_object()) {
      return Refuse(res, Invalid("filtering must be a JSON object"));
    }
    auto read_ids = [&](const std::string& name,
                        std::set<std::string>& into) -> std::optional<Refusal> {
      if (!filtering.contains(name)) return std::nullopt;
      const nlohmann::json& list = filtering[name];
      if (!list.is_array() || list.size() > kMaxFilterIds) {
        return Invalid(
            absl::StrCat("filtering.", name, " must list at most ", kMaxFilterIds, " ids"));
      }
      for (const nlohmann::json& value : list) {
        const std::string id = IdOf(value);
        if (id.empty()) return Invalid(absl::StrCat("filtering.", name, " must list ids"));
        into.insert(id);
      }
      return std::nullopt;
    };
    if (auto refused = read_ids("adgroup_ids", adgroup_ids)) return Refuse(res, *refused);
    if (auto refused = read_ids("campaign_ids", campaign_ids)) return Refuse(res, *refused);
  }
  int64_t page = 1;
  int64_t page_size = 10;
  if (HasParam(req, "page") && (!absl::SimpleAtoi(Param(req, "page"), &page) || page < 1)) {
    return Refuse(res, Invalid("page must be an integer >= 1"));
  }
  if (HasParam(req, "page_size") && (!absl::SimpleAtoi(Param(req, "page_size"), &page_size) ||
                                     page_size < 1 || page_size > kMaxPageSize)) {
    return Refuse(res, Invalid(absl::StrCat("page_size must be from 1 to ", kMaxPageSize)));
  }
  auto lock = env.store->Lock();
  const State& state = env.store->state();
  std::vector<const AdGroup*> matching;
  for (const auto& [id, group] : state.adgroups) {
    if (group.advertiser_id != kAdvertiserId) continue;
    if (!adgroup_ids.empty() && adgroup_ids.count(id) == 0) continue;
    if (!campaign_ids.empty() && campaign_ids.count(group.campaign_id) == 0) continue;
    matching.push_back(&group);
  }
  const int64_t total = static_cast<int64_t>(matching.size());
  nlohmann::json list = nlohmann::json::array();
  for (int64_t i = (page - 1) * page_size; i < std::min(total, page * page_size); ++i) {
    const AdGroup& group = *matching[i];
    list.push_back({{"advertiser_id", group.advertiser_id},
                    {"campaign_id", group.campaign_id},
                    {"adgroup_id", group.id},
                    {"adgroup_name", group.name},
                    {"budget_mode", "BUDGET_MODE_DAY"},
                    {"budget", BudgetNumber(group.budget_cents)},
                    {"schedule_type", group.schedule_type},
                    {"schedule_start_time", group.schedule_start_time},
                    {"schedule_end_time", group.schedule_end_time},
                    {"operation_status", group.operation_status},
                    {"create_time", AdsTime(group.created_ms)},
                    {"modify_time", AdsTime(group.modified_ms)}});
  }
  SendTikTokAdsData(res, {{"list", list},
                          {"page_info",
                           {{"page", page},
                            {"page_size", page_size},
                            {"total_number", total},
                            {"total_page", (total + page_size - 1) / page_size}}}});
}

// Finds the raw text of one number member of the top-level object while the body is parsed.
class RawNumberFinder {
 public:
  using json = nlohmann::json;
  explicit RawNumberFinder(std::string name) : name_(std::move(name)) {}

  bool null() { return Value(std::nullopt); }
  bool boolean(bool) { return Value(std::nullopt); }
  bool number_integer(json::number_integer_t value) { return Value(std::to_string(value)); }
  bool number_unsigned(json::number_unsigned_t value) { return Value(std::to_string(value)); }
  bool number_float(json::number_float_t, const json::string_t& text) { return Value(text); }
  bool string(json::string_t&) { return Value(std::nullopt); }
  bool binary(json::binary_t&) { return Value(std::nullopt); }
  bool start_object(std::size_t) {
    Value(std::nullopt);
    open_.push_back(true);
    return true;
  }
  bool start_array(std::size_t) {
    Value(std::nullopt);
    open_.push_back(false);
    return true;
  }
  bool end_object() {
    open_.pop_back();
    return true;
  }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool key(json::string_t& key) {
    if (open_.size() == 1) key_ = key;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

  const std::optional<std::string>& found() const { return found_; }

 private:
  // A value (or a container starting) directly in the top-level object, under key_.
  bool Value(std::optional<std::string> text) {
    if (open_.size() == 1 && open_[0] && key_ == name_) found_ = std::move(text);  // last wins
    return true;
  }

  std::string name_;
  std::vector<bool> open_;  // true: an object
  std::string key_;
  std::optional<std::string> found_;
};

}  // namespace

std::optional<std::string> RawNumberMember(const std::string& body, const std::string& name) {
  RawNumberFinder finder(name);
  if (!nlohmann::json::sax_parse(body, &finder)) return std::nullopt;
  return finder.found();
}

absl::StatusOr<int64_t> ExactCents(const std::string& number) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("'", number, "' is not a number"));
  };
  size_t i = 0;
  const size_t n = number.size();
  const bool negative = i < n && number[i] == '-';
  if (negative) ++i;
  std::string digits;  // the value is digits * 10^-scale
  int64_t scale = 0;
  while (i < n && absl::ascii_isdigit(number[i])) digits += number[i++];
  if (digits.empty()) return bad();
  if (i < n && number[i] == '.') {
    ++i;
    const size_t before = digits.size();
    while (i < n && absl::ascii_isdigit(number[i])) digits += number[i++], ++scale;
    if (digits.size() == before) return bad();
  }
  if (i < n && (number[i] == 'e' || number[i] == 'E')) {
    ++i;
    const bool minus = i < n && number[i] == '-';
    if (i < n && (number[i] == '-' || number[i] == '+')) ++i;
    std::string exponent;
    while (i < n && absl::ascii_isdigit(number[i])) exponent += number[i++];
    int64_t value = 0;
    if (exponent.empty() || exponent.size() > 6 || !absl::SimpleAtoi(exponent, &value)) {
      return bad();
    }
    scale += minus ? value : -value;
  }
  if (i != n) return bad();
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty()) return 0;  // zero, however spelled
  if (negative) return absl::InvalidArgumentError("must not be negative");
  // cents = digits * 10^(2 - scale)
  const int64_t shift = 2 - scale;
  if (shift < 0) {
    const size_t drop = static_cast<size_t>(-shift);
    if (drop >= digits.size() ||
        digits.find_first_not_of('0', digits.size() - drop) != std::string::npos) {
      return absl::InvalidArgumentError("must have two decimals at most");
    }
    digits.resize(digits.size() - drop);
  } else {
    if (shift > 15 || digits.size() + static_cast<size_t>(shift) > 15) {
      return absl::InvalidArgumentError("is too large");
    }
    digits.append(static_cast<size_t>(shift), '0');
  }
  if (digits.size() > 15) return absl::InvalidArgumentError("is too large");
  int64_t cents = 0;
  if (!absl::SimpleAtoi(digits, &cents)) return bad();
  return cents;
}

std::map<std::string, int64_t> PromotionBudgets(const State& state) {
  // Each ad group's distinct posts, in the order of their first ad (ads are in id order).
  std::map<std::string, std::vector<std::string>> posts_of;
  std::map<std::string, int64_t> budgets;
  for (const auto& [id, ad] : state.ads) {
    std::vector<std::string>& posts = posts_of[ad.adgroup_id];
    if (std::find(posts.begin(), posts.end(), ad.tiktok_item_id) == posts.end()) {
      posts.push_back(ad.tiktok_item_id);
    }
    budgets.emplace(ad.tiktok_item_id, 0);
  }
  for (const auto& [group_id, posts] : posts_of) {
    auto group = state.adgroups.find(group_id);
    if (group == state.adgroups.end() || group->second.operation_status != "ENABLE") continue;
    const int64_t count = static_cast<int64_t>(posts.size());
    const int64_t share = group->second.budget_cents / count;
    const int64_t odd_cents = group->second.budget_cents % count;
    for (int64_t i = 0; i < count; ++i) budgets[posts[i]] += share + (i < odd_cents ? 1 : 0);
  }
  return budgets;
}

std::map<std::string, int64_t> PromotionEnds(const State& state) {
  std::map<std::string, int64_t> ends;
  std::set<std::string> open_ended;
  for (const auto& [id, ad] : state.ads) {
    auto group = state.adgroups.find(ad.adgroup_id);
    if (group == state.adgroups.end() || group->second.operation_status != "ENABLE") continue;
    if (group->second.schedule_end_ms == 0) {
      open_ended.insert(ad.tiktok_item_id);
      continue;
    }
    int64_t& end = ends[ad.tiktok_item_id];
    end = std::max(end, group->second.schedule_end_ms);
  }
  for (const std::string& post : open_ended) ends[post] = 0;
  return ends;
}

void RegisterTikTokAds(httplib::Server& server, Env& env) {
  auto route = [&env](const std::string& operation,
                      void (*handler)(Env&, const httplib::Request&, httplib::Response&)) {
    return [&env, operation, handler](const httplib::Request& req, httplib::Response& res) {
      RunCall(env, Flavor::kTikTokAds, "tiktok_ads", operation, req, res,
              [&](const httplib::Request& r, httplib::Response& s) { handler(env, r, s); });
    };
  };
  const std::string prefix = kPrefix;
  server.Post(prefix + R"(/campaign/create/?)", WithFullBody(route("campaign", CampaignCreate)));
  server.Post(prefix + R"(/adgroup/create/?)", WithFullBody(route("adgroup", AdGroupCreate)));
  server.Post(prefix + R"(/ad/create/?)", WithFullBody(route("ad", AdCreate)));
  server.Post(prefix + R"(/adgroup/status/update/?)",
              WithFullBody(route("status", AdGroupStatusUpdate)));
  server.Get(prefix + R"(/adgroup/get/?)", route("get", AdGroupGet));
}

}  // namespace cf::sandbox
