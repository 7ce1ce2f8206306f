// What assembly supplies to common/jobs: render one claimed assembly from its snapshot. Workers
// call no other service: everything is in the row.
#ifndef CF_SERVICES_ASSEMBLY_RENDER_HANDLER_H_
#define CF_SERVICES_ASSEMBLY_RENDER_HANDLER_H_

#include <string>

#include "absl/time/time.h"
#include "common/jobs/runner.h"
#include "common/media/media_store.h"
#include "services/assembly/voice.h"

namespace cf::assembly {

class RenderJobHandler final : public jobs::JobHandler {
 public:
  RenderJobHandler(const media::MediaStore* media, VoiceProvider* voice,
                   absl::Duration render_timeout)
      : media_(media), voice_(voice), render_timeout_(render_timeout) {}

  absl::StatusOr<jobs::Completion> Run(jobs::JobContext& context) override;

 private:
  const media::MediaStore* media_;
  VoiceProvider* voice_;
  absl::Duration render_timeout_;
};

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_RENDER_HANDLER_H_
