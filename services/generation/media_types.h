// The API's media enums and their database spellings, and the local render sizes.
#ifndef CF_SERVICES_GENERATION_MEDIA_TYPES_H_
#define CF_SERVICES_GENERATION_MEDIA_TYPES_H_

#include <string>

#include "cf/generation/v1/generation.pb.h"

namespace cf::generation {

// "" for UNSPECIFIED or unknown values.
std::string ImageTypeToDb(v1::ImageType type);
std::string VideoTypeToDb(v1::VideoType type);
std::string AspectRatioToDb(v1::AspectRatio ratio);
std::string JobStateToDb(v1::JobState state);

v1::ImageType ImageTypeFromDb(const std::string& type);
v1::VideoType VideoTypeFromDb(const std::string& type);
v1::AspectRatio AspectRatioFromDb(const std::string& ratio);
v1::JobState JobStateFromDb(const std::string& state);

struct Size {
  int width = 0;
  int height = 0;
};

// 9:16 1080x1920, 16:9 1920x1080, 1:1 1080x1080, 4:5 1080x1350 (database spelling in).
Size RenderSize(const std::string& aspect_ratio);

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_MEDIA_TYPES_H_
