#include "services/generation/generation.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/paging/page_token.h"
#include "common/status/status.h"
#include "common/validation/ids.h"

namespace cf::generation {
namespace {

// Levels 1-5 from a repeated enum field, sorted and without repeats; UNSPECIFIED and unknown
// values are violations.
template <typename Levels>
std::vector<int> LevelsFrom(const Levels& levels, bool (*is_valid)(int), const std::string& field,
                            FieldViolations* violations) {
  std::set<int> out;
  for (int i = 0; i < levels.size(); ++i) {
    int level = levels[i];
    if (level == 0 || !is_valid(level)) {
      violations->Add(absl::StrCat(field, "[", i, "]"), "must be a level from 1 to 5");
    } else {
      out.insert(level);
    }
  }
  return std::vector<int>(out.begin(), out.end());
}

void CheckPart(const std::string& text, const std::string& field, FieldViolations* violations) {
  if (text.find_first_not_of(" \t\n") == std::string::npos) {
    violations->Add(field, "is required");
  } else if (text.size() > kMaxScriptPartLength) {
    violations->Add(field, absl::StrCat("must be at most ", kMaxScriptPartLength, " bytes"));
  }
}

std::string ListFilters(const v1::ListScriptsRequest& request) {
  return absl::StrCat(request.dossier_id(), "/", static_cast<int>(request.awareness_level()));
}

}  // namespace

absl::StatusOr<v1::GenerateScriptsResponse> Generation::GenerateScripts(
    const v1::GenerateScriptsRequest& request, const CallContext& call) {
  FieldViolations violations;
  CheckUuidField(request.dossier_id(), "dossier_id", &violations);
  std::vector<int> awareness = LevelsFrom(request.awareness_levels(), v1::AwarenessLevel_IsValid,
                                          "awareness_levels", &violations);
  std::vector<int> sophistication =
      LevelsFrom(request.sophistication_levels(), v1::MarketSophistication_IsValid,
                 "sophistication_levels", &violations);
  if (!violations.empty()) return violations.Build();
  if (awareness.empty()) awareness = {1, 2, 3, 4, 5};

  absl::StatusOr<catalog::v1::Dossier> dossier =
      DossierToWorkOn(dossiers_, request.dossier_id(), call);
  if (!dossier.ok()) return dossier.status();
  ScriptInput input = ScriptInputFrom(*dossier);
  if (sophistication.empty()) {
    sophistication = {DefaultSophistication(input.category, input.niche)};
  }
  absl::Status ready = CheckScriptInput(input, awareness);
  if (!ready.ok()) return ready;

  std::vector<ScriptCell> cells;
  for (int a : awareness) {
    for (int s : sophistication) {
      absl::StatusOr<ScriptText> text = WriteScript(input, a, s, request.seed());
      if (!text.ok()) return text.status();
      cells.push_back({a, s, *text});
    }
  }
  absl::StatusOr<SaveResult> saved =
      scripts_->SaveGenerated(request.dossier_id(), cells, request.overwrite());
  if (!saved.ok()) return saved.status();
  v1::GenerateScriptsResponse response;
  for (auto& script : saved->scripts) *response.add_scripts() = std::move(script);
  response.set_created_count(saved->created);
  response.set_replaced_count(saved->replaced);
  response.set_kept_count(saved->kept);
  for (int s : sophistication) {
    response.add_sophistication_levels(static_cast<v1::MarketSophistication>(s));
  }
  return response;
}

absl::StatusOr<v1::Script> Generation::CreateScript(const v1::CreateScriptRequest& request,
                                                    const CallContext& call) {
  FieldViolations violations;
  const v1::Script& script = request.script();
  CheckUuidField(script.dossier_id(), "script.dossier_id", &violations);
  if (script.awareness_level() == v1::AWARENESS_LEVEL_UNSPECIFIED ||
      !v1::AwarenessLevel_IsValid(script.awareness_level())) {
    violations.Add("script.awareness_level", "must be a level from 1 to 5");
  }
  if (!v1::MarketSophistication_IsValid(script.market_sophistication())) {
    violations.Add("script.market_sophistication", "must be a level from 1 to 5, or unset");
  }
  CheckPart(script.hook(), "script.hook", &violations);
  CheckPart(script.body(), "script.body", &violations);
  CheckPart(script.cta(), "script.cta", &violations);
  if (script.estimated_duration() < 0 || script.estimated_duration() > kMaxEstimatedDuration) {
    violations.Add(
        "script.estimated_duration",
        absl::StrCat("must be from 1 to ", kMaxEstimatedDuration, " seconds, or 0 to estimate it"));
  }
  if (request.request_id().size() > 100) {
    violations.Add("request_id", "must be at most 100 characters");
  }
  if (!violations.empty()) return violations.Build();

  absl::StatusOr<catalog::v1::Dossier> dossier =
      DossierToWorkOn(dossiers_, script.dossier_id(), call);
  if (!dossier.ok()) return dossier.status();
  v1::Script to_store = script;
  if (to_store.estimated_duration() == 0) {
    to_store.set_estimated_duration(
        EstimateSeconds(absl::StrCat(script.hook(), " ", script.body(), " ", script.cta())));
  }
  return scripts_->Create(to_store, request.request_id());
}

absl::StatusOr<v1::Script> Generation::GetScript(const v1::GetScriptRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return scripts_->Get(request.id());
}

absl::StatusOr<v1::ListScriptsResponse> Generation::ListScripts(
    const v1::ListScriptsRequest& request) {
  FieldViolations violations;
  if (!request.dossier_id().empty()) {
    CheckUuidField(request.dossier_id(), "dossier_id", &violations);
  }
  if (!v1::AwarenessLevel_IsValid(request.awareness_level())) {
    violations.Add("awareness_level", "must be a level from 1 to 5, or unset");
  }
  if (!violations.empty()) return violations.Build();
  absl::StatusOr<int> page_size = PageSize(request.page_size(), 50, 500);
  if (!page_size.ok()) return page_size.status();

  std::optional<ScriptCursor> after;
  if (!request.page_token().empty()) {
    auto key = DecodePageToken(request.page_token(), 4, ListFilters(request));
    if (!key.ok()) return key.status();
    ScriptCursor cursor{(*key)[0], 0, 0, (*key)[3]};
    if (!IsUuid(cursor.dossier_id) || !IsUuid(cursor.id) ||
        !absl::SimpleAtoi((*key)[1], &cursor.awareness) ||
        !absl::SimpleAtoi((*key)[2], &cursor.sophistication)) {
      return InvalidField("page_token", "is not a page token from ListScripts");
    }
    after = cursor;
  }
  ScriptFilter filter{request.dossier_id(), static_cast<int>(request.awareness_level())};
  absl::StatusOr<ScriptPage> page = scripts_->List(filter, after, *page_size);
  if (!page.ok()) return page.status();
  v1::ListScriptsResponse response;
  for (auto& script : page->scripts) *response.add_scripts() = std::move(script);
  if (page->next) {
    response.set_next_page_token(
        EncodePageToken({page->next->dossier_id, absl::StrCat(page->next->awareness),
                         absl::StrCat(page->next->sophistication), page->next->id},
                        ListFilters(request)));
  }
  return response;
}

absl::Status Generation::DeleteScript(const v1::DeleteScriptRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return scripts_->Delete(request.id());
}

}  // namespace cf::generation
