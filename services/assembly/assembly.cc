#include "services/assembly/assembly.h"

#include <google/protobuf/util/field_mask_util.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status/status.h"
#include "common/validation/ids.h"
#include "services/assembly/captions.h"
#include "services/assembly/renderer.h"

namespace cf::assembly {
namespace {

const std::vector<v1::NamedOption>& Templates() {
  static const std::vector<v1::NamedOption>* templates = [] {
    auto* all = new std::vector<v1::NamedOption>(1);
    (*all)[0].set_name("standard");
    (*all)[0].set_description(
        "The clips in order, then the images as slowly zooming slides, joined by 0.3 s fades");
    return all;
  }();
  return *templates;
}

const std::vector<v1::NamedOption>& Fonts() {
  static const std::vector<v1::NamedOption>* fonts = [] {
    auto* all = new std::vector<v1::NamedOption>(2);
    (*all)[0].set_name("DejaVu Sans");
    (*all)[0].set_description(
        "Sans-serif, bold (other scripts and emoji fall back to Noto CJK "
        "and Symbola)");
    (*all)[1].set_name("DejaVu Serif");
    (*all)[1].set_description("Serif, bold");
    return all;
  }();
  return *fonts;
}

template <typename Items, typename NameOf>
std::vector<std::string> Names(const Items& items, NameOf name_of) {
  std::vector<std::string> names;
  for (const auto& item : items) names.push_back(name_of(item));
  return names;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Checks `value` (defaulting to `fallback`) against `valid`.
void CheckName(std::string* value, const std::string& fallback,
               const std::vector<std::string>& valid, const std::string& field,
               FieldViolations* violations) {
  if (value->empty()) *value = fallback;
  if (!Contains(valid, *value)) {
    violations->Add(field,
                    absl::StrCat("\"", *value, "\" is not one of: ", absl::StrJoin(valid, ", ")));
  }
}

int WordCount(const std::string& text) { return static_cast<int>(ScreenWords(text).size()); }

nlohmann::json AssetJson(const std::string& id, const std::string& url,
                         const generation::v1::MediaMetadata& metadata) {
  return {{"id", id},
          {"url", url},
          {"width", metadata.width()},
          {"height", metadata.height()},
          {"duration", metadata.duration()}};
}

}  // namespace

absl::StatusOr<v1::AssemblyOptions> Assemblies::CheckOptions(
    const v1::AssemblyOptions& requested, const platforms::PlatformSpec& platform) const {
  v1::AssemblyOptions options = requested;
  FieldViolations violations;
  if (options.aspect_ratio().empty()) {
    options.set_aspect_ratio(platform.resolutions.front().aspect);
  } else if (platforms::FindResolution(platform, options.aspect_ratio()) == nullptr) {
    violations.Add("options.aspect_ratio",
                   absl::StrCat("\"", options.aspect_ratio(), "\" is not one ", platform.name,
                                " takes: ", platforms::AspectNames(platform)));
  }
  CheckName(options.mutable_template_(), "standard",
            Names(Templates(), [](const auto& t) { return t.name(); }), "options.template",
            &violations);
  CheckName(options.mutable_caption_style(), CaptionStyles().front().name,
            Names(CaptionStyles(), [](const auto& s) { return s.name; }), "options.caption_style",
            &violations);
  CheckName(options.mutable_font(), Fonts().front().name(),
            Names(Fonts(), [](const auto& f) { return f.name(); }), "options.font", &violations);
  std::vector<std::string> tracks = Names(MusicTracks(), [](const auto& t) { return t.name; });
  tracks.push_back("none");
  CheckName(options.mutable_music_track(), tracks.front(), tracks, "options.music_track",
            &violations);
  const std::vector<std::string> voices = voice_->Voices();
  CheckName(options.mutable_voice(), voices.front(), voices, "options.voice", &violations);
  if (!options.has_voiceover()) options.set_voiceover(true);
  if (!violations.empty()) return violations.Build();
  return options;
}

absl::StatusOr<nlohmann::json> Assemblies::SnapshotAssets(const v1::CreateAssemblyRequest& request,
                                                          const CallContext& call) {
  const std::string& dossier = request.dossier_id();
  auto belongs = [&](const std::string& what, const std::string& id,
                     const std::string& owner) -> absl::Status {
    if (owner == dossier) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", id, " belongs to dossier ", owner, ", not ", dossier));
  };
  // A referenced resource that is not there is a precondition of the call, not a missing
  // assembly: FAILED_PRECONDITION naming it.
  auto missing = [](absl::Status status) {
    if (status.code() != absl::StatusCode::kNotFound) return status;
    return absl::FailedPreconditionError(status.message());
  };
  nlohmann::json snapshot = {{"clips", nlohmann::json::array()},
                             {"images", nlohmann::json::array()}};
  absl::StatusOr<generation::v1::Script> script = content_->GetScript(request.script_id(), call);
  if (!script.ok()) return missing(script.status());
  if (absl::Status mine = belongs("script", script->id(), script->dossier_id()); !mine.ok()) {
    return mine;
  }
  snapshot["script"] = {{"hook", script->hook()}, {"body", script->body()}, {"cta", script->cta()}};
  for (const std::string& id : request.video_ids()) {
    absl::StatusOr<generation::v1::Video> video = content_->GetVideo(id, call);
    if (!video.ok()) return missing(video.status());
    if (absl::Status mine = belongs("video", id, video->dossier_id()); !mine.ok()) return mine;
    if (video->state() != generation::v1::JOB_STATE_COMPLETED) {
      return absl::FailedPreconditionError(
          absl::StrCat("video ", id, " is ", generation::v1::JobState_Name(video->state()),
                       "; only completed videos can be assembled"));
    }
    snapshot["clips"].push_back(AssetJson(id, video->video_url(), video->metadata()));
  }
  for (const std::string& id : request.image_ids()) {
    absl::StatusOr<generation::v1::Image> image = content_->GetImage(id, call);
    if (!image.ok()) return missing(image.status());
    if (absl::Status mine = belongs("image", id, image->dossier_id()); !mine.ok()) return mine;
    if (image->state() != generation::v1::JOB_STATE_COMPLETED) {
      return absl::FailedPreconditionError(
          absl::StrCat("image ", id, " is ", generation::v1::JobState_Name(image->state()),
                       "; only completed images can be assembled"));
    }
    snapshot["images"].push_back(AssetJson(id, image->image_url(), image->metadata()));
  }
  return snapshot;
}

absl::StatusOr<v1::Assembly> Assemblies::CreateAssembly(const v1::CreateAssemblyRequest& request,
                                                        const CallContext& call) {
  FieldViolations violations;
  CheckUuidField(request.dossier_id(), "dossier_id", &violations);
  CheckUuidField(request.script_id(), "script_id", &violations);
  for (int i = 0; i < request.video_ids_size(); ++i) {
    CheckUuidField(request.video_ids(i), absl::StrCat("video_ids[", i, "]"), &violations);
  }
  for (int i = 0; i < request.image_ids_size(); ++i) {
    CheckUuidField(request.image_ids(i), absl::StrCat("image_ids[", i, "]"), &violations);
  }
  const int assets = request.video_ids_size() + request.image_ids_size();
  if (assets == 0) violations.Add("video_ids", "an assembly needs at least one clip or image");
  if (assets > kMaxAssets) {
    violations.Add("video_ids", absl::StrCat("at most ", kMaxAssets, " clips and images in all"));
  }
  const platforms::PlatformSpec* platform =
      platforms::FindPlatform(PlatformName(request.platform()));
  if (platform == nullptr) {
    violations.Add("platform", absl::StrCat("is required: one of ", platforms::PlatformNames()));
  }
  if (!violations.empty()) return violations.Build();
  // A retry of a create that went through answers with its first result, whatever changed in
  // the other services since.
  if (std::optional<v1::Assembly> earlier = store_->FindByRequestId(request.request_id())) {
    return *earlier;
  }
  absl::StatusOr<v1::AssemblyOptions> options = CheckOptions(request.options(), *platform);
  if (!options.ok()) return options.status();

  absl::StatusOr<catalog::v1::Dossier> dossier = dossiers_->GetDossier(request.dossier_id(), call);
  if (!dossier.ok()) {
    if (dossier.status().code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(dossier.status().message());
    }
    return dossier.status();
  }
  absl::StatusOr<nlohmann::json> snapshot = SnapshotAssets(request, call);
  if (!snapshot.ok()) return snapshot.status();

  ScriptText script{(*snapshot)["script"].value("hook", ""),
                    (*snapshot)["script"].value("body", ""),
                    (*snapshot)["script"].value("cta", "")};
  const double estimate =
      (WordCount(script.hook) + WordCount(script.body) + WordCount(script.cta)) / kWordsPerSecond +
      kEstimateMarginSeconds;
  const double limit = absl::ToDoubleSeconds(platform->max_duration);
  if (estimate > limit) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the script reads in about %.0f s (with a %.0f s margin), over %s's %.0f s by %.0f s; "
        "use a shorter script",
        estimate, kEstimateMarginSeconds, platform->name, limit, std::ceil(estimate - limit)));
  }
  ProductFacts product;
  product.name = dossier->name();
  product.category = dossier->category();
  product.niche = dossier->niche();
  product.benefits.assign(dossier->benefits().begin(), dossier->benefits().end());
  product.affiliate_link = dossier->affiliate_link();
  product.tiktok_shop_url = dossier->tiktok_shop_url();
  (*snapshot)["dossier"] = {{"name", product.name},
                            {"category", product.category},
                            {"niche", product.niche},
                            {"benefits", product.benefits},
                            {"affiliateLink", product.affiliate_link},
                            {"tiktokShopUrl", product.tiktok_shop_url}};

  Draft draft;
  draft.dossier_id = request.dossier_id();
  draft.script_id = request.script_id();
  draft.video_ids.assign(request.video_ids().begin(), request.video_ids().end());
  draft.image_ids.assign(request.image_ids().begin(), request.image_ids().end());
  draft.platform = platform->name;
  draft.post = ComposePost(product, script, *platform);
  draft.options = *options;
  draft.snapshot = std::move(*snapshot);
  return store_->Create(draft, request.request_id());
}

absl::StatusOr<v1::Assembly> Assemblies::GetAssembly(const v1::GetAssemblyRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Get(request.id());
}

absl::StatusOr<v1::Assembly> Assemblies::RenderAssembly(const v1::RenderAssemblyRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Render(request.id(), request.force());
}

absl::StatusOr<v1::AssemblyOptionsCatalog> Assemblies::ListAssemblyOptions(
    const v1::ListAssemblyOptionsRequest& /*request*/) {
  v1::AssemblyOptionsCatalog catalog;
  for (const auto& item : Templates()) *catalog.add_templates() = item;
  for (const auto& item : Fonts()) *catalog.add_fonts() = item;
  for (const CaptionStyle& style : CaptionStyles()) {
    v1::NamedOption* option = catalog.add_caption_styles();
    option->set_name(style.name);
    option->set_description(style.description);
  }
  for (const std::string& name : voice_->Voices()) catalog.add_voices()->set_name(name);
  for (const MusicTrack& track : MusicTracks()) {
    v1::NamedOption* option = catalog.add_music_tracks();
    option->set_name(track.name);
    option->set_description(track.description);
  }
  for (v1::Platform platform :
       {v1::PLATFORM_TIKTOK, v1::PLATFORM_INSTAGRAM, v1::PLATFORM_FACEBOOK, v1::PLATFORM_YOUTUBE}) {
    const platforms::PlatformSpec& spec = *platforms::FindPlatform(PlatformName(platform));
    v1::PlatformOptions* options = catalog.add_platforms();
    options->set_platform(platform);
    for (const auto& resolution : spec.resolutions) options->add_aspect_ratios(resolution.aspect);
    options->set_max_duration_seconds(absl::ToDoubleSeconds(spec.max_duration));
    options->set_caption_limit(spec.caption_limit);
    options->set_hashtag_limit(spec.hashtag_limit);
  }
  return catalog;
}

namespace {

std::string StatusName(v1::AssemblyState state) {
  switch (state) {
    case v1::ASSEMBLY_STATE_DRAFT:
      return "draft";
    case v1::ASSEMBLY_STATE_RENDERING:
      return "rendering";
    case v1::ASSEMBLY_STATE_READY:
      return "ready";
    case v1::ASSEMBLY_STATE_PUBLISHED:
      return "published";
    case v1::ASSEMBLY_STATE_FAILED:
      return "failed";
    default:
      return "";
  }
}

// One list call: the filters checked, the page decoded, the rows read, the next token made.
template <typename Response>
absl::StatusOr<Response> ListPage(AssemblyStore* store, const AssemblyFilter& filter,
                                  int requested_size, const std::string& token,
                                  const std::string& list, bool oldest_first,
                                  Response (*fill)(AssemblyPage&)) {
  absl::StatusOr<int> page_size = PageSize(requested_size, kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::string filters =
      absl::StrCat(list, "|", filter.dossier_id, "|", filter.platform, "|", filter.status);
  absl::StatusOr<std::optional<CreatedCursor>> after = DecodeCreatedCursor(token, filters, list);
  if (!after.ok()) return after.status();
  absl::StatusOr<AssemblyPage> page = store->List(filter, *after, *page_size, oldest_first);
  if (!page.ok()) return page.status();
  Response response = fill(*page);
  if (page->next) response.set_next_page_token(EncodeCreatedCursor(*page->next, filters));
  return response;
}

template <typename Response>
Response Fill(AssemblyPage& page) {
  Response response;
  for (auto& assembly : page.assemblies) *response.add_assemblies() = std::move(assembly);
  return response;
}

}  // namespace

absl::StatusOr<v1::ListAssembliesResponse> Assemblies::ListAssemblies(
    const v1::ListAssembliesRequest& request) {
  if (!request.dossier_id().empty()) {
    absl::Status valid = RequireUuid(request.dossier_id(), "dossier_id");
    if (!valid.ok()) return valid;
  }
  if (!v1::Platform_IsValid(request.platform())) {
    return InvalidField("platform", "is not a platform");
  }
  if (!v1::AssemblyState_IsValid(request.state())) {
    return InvalidField("state", "is not an assembly state");
  }
  AssemblyFilter filter{request.dossier_id(), PlatformName(request.platform()),
                        StatusName(request.state())};
  return ListPage<v1::ListAssembliesResponse>(store_, filter, request.page_size(),
                                              request.page_token(), "ListAssemblies",
                                              /*oldest_first=*/false, &Fill);
}

absl::StatusOr<v1::ListReadyToPublishResponse> Assemblies::ListReadyToPublish(
    const v1::ListReadyToPublishRequest& request) {
  if (!v1::Platform_IsValid(request.platform())) {
    return InvalidField("platform", "is not a platform");
  }
  AssemblyFilter filter{"", PlatformName(request.platform()), "ready"};
  return ListPage<v1::ListReadyToPublishResponse>(store_, filter, request.page_size(),
                                                  request.page_token(), "ListReadyToPublish",
                                                  /*oldest_first=*/true, &Fill);
}

absl::StatusOr<v1::Assembly> Assemblies::MarkPublished(const v1::MarkPublishedRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->MarkPublished(request.id());
}

absl::StatusOr<v1::Assembly> Assemblies::UpdateAssembly(const v1::UpdateAssemblyRequest& request) {
  const v1::Assembly& edit = request.assembly();
  absl::Status valid = RequireUuid(edit.id(), "assembly.id");
  if (!valid.ok()) return valid;
  FieldViolations violations;
  if (request.update_mask().paths_size() == 0) {
    violations.Add("update_mask", "name the fields to change: caption, hashtags, options");
  }
  for (const std::string& path : request.update_mask().paths()) {
    if (path != "caption" && path != "hashtags" && path != "options" &&
        !absl::StartsWith(path, "options.")) {
      violations.Add("update_mask", absl::StrCat("\"", path,
                                                 "\" cannot be edited; caption, hashtags and "
                                                 "options can"));
    }
  }
  if (!violations.empty()) return violations.Build();
  return store_->UpdateDraft(edit.id(), [&](v1::Assembly* draft) -> absl::Status {
    const platforms::PlatformSpec& platform =
        *platforms::FindPlatform(PlatformName(draft->platform()));
    FieldViolations problems;
    v1::AssemblyOptions options = draft->options();
    for (const std::string& path : request.update_mask().paths()) {
      if (path == "caption") {
        draft->set_caption(edit.caption());
        draft->set_title(TitleFor(draft->caption(), platform));
      } else if (path == "hashtags") {
        std::vector<std::string> tags;
        for (const std::string& tag : edit.hashtags()) {
          std::string clean = HashtagOf(tag);
          if (!clean.empty() && std::find(tags.begin(), tags.end(), clean) == tags.end()) {
            tags.push_back(clean);
          }
        }
        if (static_cast<int>(tags.size()) > platform.hashtag_limit) {
          problems.Add("assembly.hashtags",
                       absl::StrCat("at most ", platform.hashtag_limit, " on ", platform.name));
        }
        draft->clear_hashtags();
        for (const std::string& tag : tags) draft->add_hashtags(tag);
      } else if (path == "options") {
        options = edit.options();
      } else {
        // options.<field>: that one field.
        const std::string field = path.substr(strlen("options."));
        if (!google::protobuf::util::FieldMaskUtil::IsValidPath<v1::AssemblyOptions>(field)) {
          problems.Add("update_mask", absl::StrCat("options has no field \"", field, "\""));
          continue;
        }
        google::protobuf::FieldMask one;
        one.add_paths(field);
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            edit.options(), one, google::protobuf::util::FieldMaskUtil::MergeOptions(), &options);
      }
    }
    if (draft->caption().empty()) problems.Add("assembly.caption", "is required");
    // The FTC disclosure stays first, whatever the edit.
    if (!draft->compliance_disclosure().empty() &&
        !absl::StartsWith(draft->caption(), draft->compliance_disclosure())) {
      problems.Add("assembly.caption", absl::StrCat("must start with the disclosure \"",
                                                    draft->compliance_disclosure(), "\""));
    }
    std::vector<std::string> tags(draft->hashtags().begin(), draft->hashtags().end());
    const int length = platforms::CaptionLength(platforms::PostedCaption(draft->caption(), tags));
    if (length > platform.caption_limit) {
      problems.Add("assembly.caption",
                   absl::StrCat("with its hashtags it is ", length, " characters; ", platform.name,
                                " takes ", platform.caption_limit));
    }
    if (!problems.empty()) return problems.Build();
    absl::StatusOr<v1::AssemblyOptions> checked = CheckOptions(options, platform);
    if (!checked.ok()) return checked.status();
    *draft->mutable_options() = *checked;
    return absl::OkStatus();
  });
}

}  // namespace cf::assembly
