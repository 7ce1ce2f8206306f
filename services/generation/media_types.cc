#include "services/generation/media_types.h"

#include <map>

namespace cf::generation {
namespace {

template <typename Enum>
std::string Find(const std::map<Enum, std::string>& names, Enum value) {
  auto it = names.find(value);
  return it == names.end() ? "" : it->second;
}

template <typename Enum>
Enum Reverse(const std::map<Enum, std::string>& names, const std::string& text) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  return static_cast<Enum>(0);
}

const std::map<v1::ImageType, std::string>& ImageTypes() {
  static const std::map<v1::ImageType, std::string> names = {
      {v1::IMAGE_TYPE_BEFORE, "before"},
      {v1::IMAGE_TYPE_AFTER, "after"},
      {v1::IMAGE_TYPE_PRODUCT, "product"},
      {v1::IMAGE_TYPE_LIFESTYLE, "lifestyle"}};
  return names;
}

const std::map<v1::VideoType, std::string>& VideoTypes() {
  static const std::map<v1::VideoType, std::string> names = {
      {v1::VIDEO_TYPE_REVEAL, "reveal"},
      {v1::VIDEO_TYPE_DEMO, "demo"},
      {v1::VIDEO_TYPE_TRANSITION, "transition"},
      {v1::VIDEO_TYPE_TESTIMONIAL, "testimonial"}};
  return names;
}

const std::map<v1::AspectRatio, std::string>& AspectRatios() {
  static const std::map<v1::AspectRatio, std::string> names = {{v1::ASPECT_RATIO_9_16, "9:16"},
                                                               {v1::ASPECT_RATIO_16_9, "16:9"},
                                                               {v1::ASPECT_RATIO_1_1, "1:1"},
                                                               {v1::ASPECT_RATIO_4_5, "4:5"}};
  return names;
}

const std::map<v1::JobState, std::string>& JobStates() {
  static const std::map<v1::JobState, std::string> names = {
      {v1::JOB_STATE_PENDING, "pending"},
      {v1::JOB_STATE_GENERATING, "generating"},
      {v1::JOB_STATE_COMPLETED, "completed"},
      {v1::JOB_STATE_FAILED, "failed"},
      {v1::JOB_STATE_CANCELLED, "cancelled"}};
  return names;
}

}  // namespace

std::string ImageTypeToDb(v1::ImageType type) { return Find(ImageTypes(), type); }
std::string VideoTypeToDb(v1::VideoType type) { return Find(VideoTypes(), type); }
std::string AspectRatioToDb(v1::AspectRatio ratio) { return Find(AspectRatios(), ratio); }
std::string JobStateToDb(v1::JobState state) { return Find(JobStates(), state); }
v1::ImageType ImageTypeFromDb(const std::string& type) { return Reverse(ImageTypes(), type); }
v1::VideoType VideoTypeFromDb(const std::string& type) { return Reverse(VideoTypes(), type); }
v1::AspectRatio AspectRatioFromDb(const std::string& ratio) {
  return Reverse(AspectRatios(), ratio);
}
v1::JobState JobStateFromDb(const std::string& state) { return Reverse(JobStates(), state); }

Size RenderSize(const std::string& aspect_ratio) {
  if (aspect_ratio == "16:9") return {1920, 1080};
  if (aspect_ratio == "1:1") return {1080, 1080};
  if (aspect_ratio == "4:5") return {1080, 1350};
  return {1080, 1920};
}

}  // namespace cf::generation
