// The full prompts stored with jobs when the caller gives none: built from the dossier snapshot
// and the job's type, in the style image and video models respond to.
#ifndef CF_SERVICES_GENERATION_PROMPTS_H_
#define CF_SERVICES_GENERATION_PROMPTS_H_

#include <string>

#include "services/generation/script_engine.h"

namespace cf::generation {

std::string ImagePrompt(const std::string& type, const ScriptInput& dossier,
                        const std::string& aspect_ratio);
std::string VideoPrompt(const std::string& type, const ScriptInput& dossier,
                        const std::string& aspect_ratio, int duration_seconds);

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_PROMPTS_H_
