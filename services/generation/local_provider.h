// The offline providers: real PNG images and H.264 MP4 videos rendered with ffmpeg.
//
// Images are type-specific compositions at the aspect ratio's size (1080x1920, 1920x1080,
// 1080x1080, 1080x1350): "before" dull, grainy and blemished; "after" bright, clean and
// glowing; "product" a studio shot of a labelled package with its price; "lifestyle" the
// product on a table in warm light. Each carries the product name and an excerpt of the prompt.
//
// Videos are made from the source image: "demo" a slow push-in, "transition" a pan across,
// "testimonial" a pull-out with stars and a quoted benefit, "reveal" a whip-pan from the
// dossier's newest before image to its newest after image (or, without both, from the source
// image to a brightened copy).
#ifndef CF_SERVICES_GENERATION_LOCAL_PROVIDER_H_
#define CF_SERVICES_GENERATION_LOCAL_PROVIDER_H_

#include "common/media/media_store.h"
#include "services/generation/provider.h"

namespace cf::generation {

inline constexpr int kLocalMaxVideoSeconds = 30;

class LocalImageProvider final : public ImageProvider {
 public:
  LocalImageProvider(const media::MediaStore* media, absl::Duration timeout)
      : media_(media), timeout_(timeout) {}
  std::string model() const override { return "local-ffmpeg-image"; }
  absl::Status Supports(const std::string& aspect_ratio) const override;
  absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const ProviderCall& call) override;

 private:
  const media::MediaStore* media_;
  absl::Duration timeout_;
};

class LocalVideoProvider final : public VideoProvider {
 public:
  LocalVideoProvider(const media::MediaStore* media, absl::Duration timeout)
      : media_(media), timeout_(timeout) {}
  std::string model() const override { return "local-ffmpeg-video"; }
  absl::Status Supports(const std::string& aspect_ratio, int duration_seconds) const override;
  absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const RevealImages& reveal,
                                     const ProviderCall& call) override;

 private:
  const media::MediaStore* media_;
  absl::Duration timeout_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_LOCAL_PROVIDER_H_
