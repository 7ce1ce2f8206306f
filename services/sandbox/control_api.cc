#include "services/sandbox/control_api.h"

#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/media/ffmpeg.h"
#include "services/sandbox/audience.h"
#include "services/sandbox/options.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

const std::vector<std::string>& Platforms() {
  static const auto* platforms =
      new std::vector<std::string>{"tiktok", "instagram", "facebook", "youtube"};
  return *platforms;
}

void ControlError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, {{"error", message}});
}

std::string VideoLink(const Post& post) {
  return absl::StrCat("/_sandbox/videos/", post.platform, "/", post.key, ".mp4");
}

std::string PosterLink(const Post& post) {
  return absl::StrCat("/_sandbox/posters/", post.platform, "/", post.key, ".jpg");
}

// A still of the video (made once, on first request), so the feed shows each video's picture
// rather than a black box until it is played.
void Poster(Env& env, const httplib::Request& req, httplib::Response& res) {
  const std::string platform = req.matches[1];
  const std::string key = req.matches[2];
  const std::string video = env.store->VideoPath(platform, key);
  if (FileSize(video) <= 0) return ControlError(res, 404, "no such video");
  const std::string dir = absl::StrCat(env.store->data_dir(), "/posters/", platform);
  const std::string path = absl::StrCat(dir, "/", key, ".jpg");
  if (FileSize(path) <= 0) {
    absl::Status made = MakeDirs(dir);
    if (made.ok()) {
      made = media::WriteAtomically(path, [&](const std::string& temp) {
        media::RenderOptions options;
        options.timeout = absl::Seconds(20);
        // A little way in (a first frame is often black), else the very first.
        absl::Status still;
        for (const char* at : {"0.3", "0"}) {
          still = media::RunFfmpeg(
              {"-ss", at, "-i", video, "-frames:v", "1", "-vf", "scale=360:-2", temp}, options);
          if (still.ok() && FileSize(temp) > 0) break;
        }
        return still;
      });
    }
    if (!made.ok()) return ControlError(res, 500, "the video has no picture to show");
  }
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  res.status = 200;
  res.set_header("Cache-Control", "max-age=3600");
  res.set_content(bytes, "image/jpeg");
}

// The post's state in plain words (the API's own word is in /_sandbox/posts).
std::string PlainStatus(const Env& env, const Post& post) {
  switch (ProcessingOf(env, post)) {
    case Processing::kProcessing:
      return "processing";
    case Processing::kReady:
      return post.privacy == "SELF_ONLY" || post.privacy == "private" ? "live, private" : "live";
    default:
      return absl::StrCat("failed: ", post.fail_reason);
  }
}

nlohmann::json PostJson(const Env& env, const httplib::Request& req, const Post& post) {
  return {{"platform", post.platform},
          {"key", post.key},
          {"post_id", VisiblePostId(env, post)},
          {"publish_id", post.publish_id},
          {"caption", post.caption},
          {"title", post.title},
          {"privacy", post.privacy},
          {"flags", post.flags},
          {"video_sha256", post.video_sha256},
          {"video_bytes", post.video_bytes},
          {"video_path", env.store->VideoPath(post.platform, post.key)},
          {"video_url", BaseUrl(req, env) + VideoLink(post)},
          {"duration_s", post.duration_s},
          {"created_at", FormatTime(post.created_ms, true)},
          {"status", PostStatus(env, post)},
          {"fail_reason", post.fail_reason},
          {"promotion_daily_budget", post.promotion_daily_budget},
          {"promoted", post.promoted()},
          {"promotion_started_at",
           post.promotion_daily_budget.empty() ? "" : FormatTime(post.promotion_started_ms, true)},
          {"promotion_ended_at",
           post.promotion_ended_ms == 0 ? "" : FormatTime(post.promotion_ended_ms, true)}};
}

// The feed's line about a post's promotion ("" for a post never promoted).
std::string PromotionText(const Post& post) {
  if (post.promotion_daily_budget.empty()) return "";
  if (post.promoted()) {
    return absl::StrCat(
        "<br><span class=\"promoted\">promoted: ", HtmlEscape(post.promotion_daily_budget),
        " USD a day since ", HtmlEscape(FormatTime(post.promotion_started_ms, true)), "</span>");
  }
  return absl::StrCat("<br><span class=\"promotion-ended\">promotion ended ",
                      HtmlEscape(FormatTime(post.promotion_ended_ms, true)), " (was ",
                      HtmlEscape(post.promotion_daily_budget), " USD a day)</span>");
}

void ListPosts(Env& env, const httplib::Request& req, httplib::Response& res) {
  const std::string platform = Param(req, "platform");
  nlohmann::json posts = nlohmann::json::array();
  auto lock = env.store->Lock();
  for (const Post& post : env.store->state().posts) {
    if (platform.empty() || post.platform == platform) posts.push_back(PostJson(env, req, post));
  }
  SendJson(res, 200, {{"posts", posts}});
}

void Stats(Env& env, const httplib::Request&, httplib::Response& res) {
  nlohmann::json counts = nlohmann::json::object();
  for (const std::string& platform : Platforms()) counts[platform] = 0;
  // A duplicate: a later post on the same platform with the same caption, title and video.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int> seen;
  nlohmann::json duplicate_keys = nlohmann::json::array();
  auto lock = env.store->Lock();
  for (const Post& post : env.store->state().posts) {
    counts[post.platform] = counts.value(post.platform, 0) + 1;
    if (seen[{post.platform, post.caption, post.title, post.video_sha256}]++ > 0) {
      duplicate_keys.push_back(post.platform + "/" + post.key);
    }
  }
  SendJson(res, 200,
           {{"posts", counts},
            {"duplicates", duplicate_keys.size()},
            {"duplicate_keys", duplicate_keys}});
}

void Tokens(Env& env, const httplib::Request& req, httplib::Response& res, bool revoke) {
  const std::string platform = Param(req, "platform");
  const std::string account = TokenAccountOf(platform);
  if (account.empty()) {
    return ControlError(
        res, 400,
        "platform must be tiktok, tiktok_ads, instagram, facebook, meta, youtube or "
        "google");
  }
  auto lock = env.store->Lock();
  TokenAccount& tokens = env.store->state().Tokens(account);
  nlohmann::json answer = {{"platform", platform}, {"account", account}};
  if (revoke) {
    tokens.refresh_revoked = true;
    answer["refresh_revoked"] = true;
  } else {
    answer["expired"] = tokens.valid.size();
    tokens.expired.insert(tokens.expired.end(), tokens.valid.begin(), tokens.valid.end());
    tokens.valid.clear();
  }
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return ControlError(res, 500, std::string(saved.message()));
  SendJson(res, 200, answer);
}

void AffiliateReport(Env& env, const httplib::Request& req, httplib::Response& res) {
  const std::string platform = Param(req, "platform");
  const std::string post_id = Param(req, "post_id");
  auto lock = env.store->Lock();
  const Post* post = env.store->state().FindPost(platform, post_id);
  if (post == nullptr) {
    return ControlError(res, 404, absl::StrCat("no ", platform, " post ", post_id));
  }
  const Figures figures = FiguresOf(env, *post);
  SendJson(res, 200,
           {{"platform", platform},
            {"post_id", post_id},
            {"clicks", figures.clicks},
            {"conversions", figures.conversions},
            {"spend", FormatCents(figures.spend_cents)},
            {"currency", "USD"}});
}

std::string FlagsText(const nlohmann::json& flags) {
  std::string text;
  if (!flags.is_object()) return text;
  for (const auto& [name, value] : flags.items()) {
    if ((value.is_boolean() && value.get<bool>()) ||
        (value.is_string() && !value.get<std::string>().empty())) {
      absl::StrAppend(&text, text.empty() ? "" : ", ", name,
                      value.is_string() ? "=" + value.get<std::string>() : "");
    }
  }
  return text.empty() ? "none" : text;
}

void Feed(Env& env, const httplib::Request&, httplib::Response& res) {
  std::string html = absl::StrCat(
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Sandbox feed</title>"
      "<style>body{font-family:sans-serif;margin:1em}section{margin-bottom:2em}"
      ".post{display:inline-block;vertical-align:top;width:260px;margin:0 1em 1em 0}"
      "video{width:240px;max-height:427px;background:#000}.meta{font-size:12px;color:#555}"
      ".promoted{color:#b00;font-weight:bold}.figures{font-size:13px;font-weight:bold}"
      "</style></head><body>\n<h1>Sandbox feed</h1>\n",
      absl::StrFormat("<p class=\"meta\">processing %d ms, post id delay %d ms, day %g s, "
                      "rate scale %g, cpm %s, TikTok audited: %s</p>\n",
                      env.options.processing_ms, env.options.post_id_delay_ms,
                      env.options.day_seconds, env.options.rate_scale,
                      FormatCents(env.options.cpm_cents),
                      env.options.tiktok_audited ? "yes" : "no"));
  auto lock = env.store->Lock();
  const std::vector<Post>& posts = env.store->state().posts;
  for (const std::string& platform : Platforms()) {
    absl::StrAppend(&html, "<section><h2>", platform, "</h2>\n");
    int shown = 0;
    for (auto it = posts.rbegin(); it != posts.rend(); ++it) {  // newest first
      const Post& post = *it;
      if (post.platform != platform) continue;
      ++shown;
      const Figures figures = FiguresOf(env, post);
      absl::StrAppend(
          &html, "<div class=\"post\"><video controls preload=\"none\" poster=\"",
          HtmlEscape(PosterLink(post)), "\" src=\"", HtmlEscape(VideoLink(post)), "\"></video>\n",
          post.title.empty() ? "" : "<p><b>" + HtmlEscape(post.title) + "</b></p>",
          "<p class=\"caption\">", HtmlEscape(post.caption), "</p>\n<p class=\"figures\">",
          absl::StrFormat("%d views &middot; %d likes &middot; %d clicks", figures.views,
                          figures.likes, figures.clicks),
          "</p>\n<p class=\"meta\">", HtmlEscape(PlainStatus(env, post)), " &middot; id ",
          HtmlEscape(VisiblePostId(env, post).empty() ? "(none yet)" : VisiblePostId(env, post)),
          " &middot; ", HtmlEscape(post.privacy), "<br>flags: ", HtmlEscape(FlagsText(post.flags)),
          "<br>key ", HtmlEscape(post.key), " &middot; ",
          HtmlEscape(FormatTime(post.created_ms, true)), PromotionText(post), "</p></div>\n");
    }
    if (shown == 0) absl::StrAppend(&html, "<p class=\"meta\">no posts</p>\n");
    absl::StrAppend(&html, "</section>\n");
  }
  absl::StrAppend(&html, "</body></html>\n");
  res.status = 200;
  res.set_content(html, "text/html; charset=utf-8");
}

}  // namespace

std::string TokenAccountOf(const std::string& platform) {
  if (platform == "tiktok" || platform == "tiktok_ads") return "tiktok";
  if (platform == "instagram" || platform == "facebook" || platform == "meta") return "meta";
  if (platform == "youtube" || platform == "google") return "google";
  return "";
}

std::string PostStatus(const Env& env, const Post& post) {
  const Processing processing = ProcessingOf(env, post);
  if (post.platform == "tiktok") {
    return processing == Processing::kProcessing ? "PROCESSING_DOWNLOAD"
           : processing == Processing::kReady    ? "PUBLISH_COMPLETE"
                                                 : "FAILED";
  }
  if (post.platform == "instagram") return "PUBLISHED";
  if (post.platform == "facebook") {
    return processing == Processing::kProcessing ? "processing"
           : processing == Processing::kReady    ? "ready"
                                                 : "error";
  }
  return processing == Processing::kProcessing ? "uploaded"
         : processing == Processing::kReady    ? "processed"
                                               : "failed";
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A control call that changes the sandbox must carry kControlHeader. A browser sends such a
// header across origins only after a CORS preflight, which the sandbox never grants: a page on
// another site cannot inject faults or expire tokens through someone's browser.
Handler Controlled(Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value(kControlHeader) != "1") {
      return ControlError(res, 403,
                          absl::StrCat("control calls need the header ", kControlHeader, ": 1"));
    }
    handler(req, res);
  };
}

// POST /_sandbox/truth: a post's hidden true rates (README.md, "Control API"), set once.
void SetTruth(Env& env, const httplib::Request& req, httplib::Response& res) {
  const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object()) return ControlError(res, 400, "the body is not a JSON object");
  auto number = [&](const char* name, double max, double* out) -> std::string {
    auto it = body.find(name);
    if (it == body.end() || !it->is_number()) return absl::StrCat(name, " is a required number");
    *out = it->get<double>();
    if (!(*out >= 0) || *out > max) return absl::StrCat(name, " must be from 0 to ", max);
    return "";
  };
  TrueRates rates;
  for (const auto& [name, max, field] :
       {std::tuple{"reach", 1e9, &rates.reach}, std::tuple{"like_rate", 1.0, &rates.like_rate},
        std::tuple{"comment_rate", 1.0, &rates.comment_rate},
        std::tuple{"share_rate", 1.0, &rates.share_rate},
        std::tuple{"save_rate", 1.0, &rates.save_rate},
        std::tuple{"click_rate", 1.0, &rates.click_rate},
        std::tuple{"conversion_rate", 1.0, &rates.conversion_rate}}) {
    const std::string problem = number(name, max, field);
    if (!problem.empty()) return ControlError(res, 400, problem);
  }
  const std::string platform = body.value("platform", "");
  const std::string post_id = body.value("post_id", "");
  auto lock = env.store->Lock();
  Post* post = env.store->state().FindPost(platform, post_id);
  if (post == nullptr) {
    return ControlError(res, 404, absl::StrCat("no ", platform, " post ", post_id));
  }
  if (post->truth_set_ms != 0) {
    return ControlError(res, 409, "a post's truth is set once: its figures so far follow it");
  }
  post->truth = rates;
  post->truth_set_ms = env.NowMs();
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return ControlError(res, 500, std::string(saved.message()));
  SendJson(res, 200, {{"platform", platform}, {"post_id", post_id}, {"set", true}});
}

void RegisterControl(httplib::Server& server, Env& env) {
  // The stored videos, with Range support (browsers seek with it).
  server.set_mount_point("/_sandbox/videos", env.store->data_dir() + "/videos");
  server.Get("/",
             [&env](const httplib::Request& req, httplib::Response& res) { Feed(env, req, res); });
  server.Get(
      R"(/_sandbox/posters/(tiktok|instagram|facebook|youtube)/([A-Za-z0-9_.~-]+)\.jpg)",
      [&env](const httplib::Request& req, httplib::Response& res) { Poster(env, req, res); });
  server.Get("/_sandbox/posts", [&env](const httplib::Request& req, httplib::Response& res) {
    ListPosts(env, req, res);
  });
  server.Get("/_sandbox/stats",
             [&env](const httplib::Request& req, httplib::Response& res) { Stats(env, req, res); });
  server.Get("/_sandbox/faults", [&env](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, env.faults->ToJson());
  });
  server.Post("/_sandbox/faults",
              WithFullBody(Controlled([&env](const httplib::Request& req, httplib::Response& res) {
                nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
                if (body.is_discarded()) return ControlError(res, 400, "the body is not JSON");
                absl::Status added = env.faults->Add(body);
                if (!added.ok()) return ControlError(res, 400, std::string(added.message()));
                SendJson(res, 200, env.faults->ToJson());
              })));
  server.Delete("/_sandbox/faults",
                Controlled([&env](const httplib::Request&, httplib::Response& res) {
                  env.faults->Clear();
                  SendJson(res, 200, env.faults->ToJson());
                }));
  server.Post("/_sandbox/truth",
              WithFullBody(Controlled([&env](const httplib::Request& req, httplib::Response& res) {
                SetTruth(env, req, res);
              })));
  server.Post("/_sandbox/tokens/expire",
              WithFullBody(Controlled([&env](const httplib::Request& req, httplib::Response& res) {
                Tokens(env, req, res, false);
              })));
  server.Post("/_sandbox/tokens/revoke_refresh",
              WithFullBody(Controlled([&env](const httplib::Request& req, httplib::Response& res) {
                Tokens(env, req, res, true);
              })));
  server.Get("/affiliate/v1/report", [&env](const httplib::Request& req, httplib::Response& res) {
    AffiliateReport(env, req, res);
  });
}

}  // namespace cf::sandbox
