#include "services/generation/local_provider.h"

#include <chrono>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/media/ffmpeg.h"
#include "common/status/status.h"
#include "services/generation/media_types.h"

namespace cf::generation {
namespace {

constexpr int kFps = 30;

uint64_t Hash(const std::string& text) {  // FNV-1a: stable across runs and builds
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// drawtext reading `file` (never the text itself), centred horizontally at `y`.
std::string Text(const std::string& file, int size, const std::string& y,
                 const std::string& color = "white", const std::string& box = "black@0.45") {
  return absl::StrCat(
      "drawtext=fontfile=", media::kBoldFont, ":textfile=", file, ":expansion=none:fontsize=", size,
      ":fontcolor=", color, ":line_spacing=", size / 4, ":x=(w-text_w)/2:y=", y,
      box.empty() ? "" : absl::StrCat(":box=1:boxcolor=", box, ":boxborderw=", size / 2));
}

std::string Box(int x, int y, int w, int h, const std::string& color) {
  return absl::StrCat("drawbox=x=", x, ":y=", y, ":w=", w, ":h=", h, ":color=", color, ":t=fill");
}

std::string Gradient(Size size, const std::string& c0, const std::string& c1) {
  return absl::StrCat("gradients=s=", size.width, "x", size.height, ":c0=", c0, ":c1=", c1,
                      ":x0=0:y0=0:x1=", size.width, ":y1=", size.height,
                      ":n=2:seed=1:speed=0.00001");
}

// The filters after the background: the type's composition, then name and prompt excerpt.
struct Composition {
  std::string background;
  std::vector<std::string> filters;
};

Composition Compose(const ClaimedJob& job, Size size, const std::string& scratch) {
  const int w = size.width, h = size.height;
  const int unit = std::min(w, h);
  uint64_t seed = Hash(job.id);
  auto next = [&seed](int range) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((seed >> 33) % static_cast<uint64_t>(range));
  };
  Composition c;
  const std::string label = scratch + "/label.txt";
  const std::string name = scratch + "/name.txt";
  const std::string detail = scratch + "/detail.txt";
  if (job.type == "before") {
    c.background = Gradient(size, "0x5b524a", "0x2a2521");
    c.filters = {"noise=alls=38:allf=u", "eq=saturation=0.35:brightness=-0.05"};
    for (int i = 0; i < 14; ++i) {  // blemishes and clutter
      int r = unit / 40 + next(unit / 25);
      c.filters.push_back(Box(next(w - r), h / 5 + next(h * 3 / 5), r, r, "0x8c3b2e@0.6"));
    }
    c.filters.push_back("vignette=PI/3.5");
  } else if (job.type == "after") {
    c.background = Gradient(size, "0xffd9a0", "0x7fd3ff");
    c.filters = {"eq=saturation=1.3:brightness=0.05",
                 Box(w / 10, h * 3 / 10, w * 8 / 10, h * 4 / 10, "white@0.22")};
    for (int i = 0; i < 10; ++i) {  // sparkles
      int r = unit / 90 + next(unit / 60);
      c.filters.push_back(Box(next(w - r), next(h - r), r, r, "white@0.85"));
    }
  } else if (job.type == "product") {
    c.background = Gradient(size, "0xf6f6f6", "0xc9c9d3");
    int bw = w * 2 / 5, bh = h * 2 / 5, bx = (w - bw) / 2, by = (h - bh) / 2;
    const char* colors[] = {"0x2f6fdb", "0xd9485f", "0x1f9d74", "0x7d4cdb", "0xe08a1e"};
    c.filters = {Box(bx + unit / 30, by + unit / 30, bw, bh, "black@0.25"),  // shadow
                 Box(bx, by, bw, bh, colors[Hash(job.dossier.name) % 5]),
                 Box(bx + bw / 10, by + bh * 3 / 10, bw * 8 / 10, bh * 4 / 10, "white@0.9")};
  } else {  // lifestyle
    c.background = Gradient(size, "0xffb37a", "0x6a4c93");
    int frame = unit / 90;
    c.filters = {Box(w / 8, h / 10, w * 3 / 8, h / 4, "0xfff1d6@0.35"),  // window light
                 absl::StrCat("drawbox=x=", w / 8, ":y=", h / 10, ":w=", w * 3 / 8, ":h=", h / 4,
                              ":color=white@0.6:t=", frame),
                 Box(0, h * 2 / 3, w, h / 3, "0x3b2a20@0.9"),  // table
                 Box(w * 3 / 5, h * 2 / 3 - h / 6, w / 5, h / 6, "0xf2f2f2"), "vignette=PI/5"};
  }
  int title = unit / 12;
  c.filters.push_back(Text(label, title, absl::StrCat(h / 14)));
  c.filters.push_back(Text(name, unit / 16, absl::StrCat("h-text_h-", h / 6)));
  c.filters.push_back(Text(detail, unit / 36, absl::StrCat("h-text_h-", h / 20)));
  return c;
}

std::string Label(const ClaimedJob& job) {
  if (job.type == "before") return "BEFORE";
  if (job.type == "after") return "AFTER";
  if (job.type == "product") {
    return job.dossier.price.empty() ? "NEW" : absl::StrCat("$", job.dossier.price);
  }
  return job.dossier.target_audience.empty() ? "EVERYDAY" : "MADE FOR YOU";
}

absl::Status WriteTexts(const std::string& scratch, const std::vector<std::string>& names,
                        const std::vector<std::string>& texts) {
  for (size_t i = 0; i < names.size(); ++i) {
    absl::Status status = media::WriteTextFile(scratch + "/" + names[i], texts[i]);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// Runs one render into `path` with scratch files, progress and cleanup.
absl::StatusOr<media::MediaInfo> Render(
    const media::MediaStore& media, const std::string& path,
    const std::function<std::vector<std::string>(const std::string& scratch,
                                                 const std::string& out)>& make_args,
    const std::function<absl::Status(const std::string&)>& prepare,
    const media::RenderOptions& options) {
  absl::StatusOr<std::string> scratch = media.MakeScratchDir();
  if (!scratch.ok()) return scratch.status();
  absl::Status status = prepare(*scratch);
  if (status.ok()) {
    status = media::WriteAtomically(path, [&](const std::string& temp) {
      return media::RunFfmpeg(make_args(*scratch, temp), options);
    });
  }
  media::RemoveScratchDir(*scratch);
  if (!status.ok()) return status;
  return media::Probe(path);
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::Status LocalImageProvider::Supports(const std::string& /*aspect_ratio*/) const {
  return absl::OkStatus();  // every ratio the API has
}

absl::StatusOr<JobResult> LocalImageProvider::Generate(const ClaimedJob& job,
                                                       const ProviderCall& call) {
  auto start = std::chrono::steady_clock::now();
  Size size = RenderSize(job.aspect_ratio);
  const int unit = std::min(size.width, size.height);
  std::string path = media_->PathFor("images", job.output_stem + ".png");
  media::RenderOptions options;
  options.timeout = timeout_;
  options.cancel = call.cancel;
  call.progress(10);
  absl::StatusOr<media::MediaInfo> info = Render(
      *media_, path,
      [&](const std::string& scratch, const std::string& out) {
        Composition c = Compose(job, size, scratch);
        return std::vector<std::string>{
            "-f",        "lavfi", "-i",      c.background, "-vf", absl::StrJoin(c.filters, ","),
            "-frames:v", "1",     "-update", "1",          "-f",  "image2",
            out};
      },
      [&](const std::string& scratch) {
        int name_width = std::max(8, size.width / (unit / 16) * 10 / 6);
        int detail_width = std::max(16, size.width / (unit / 36) * 10 / 6);
        return WriteTexts(scratch, {"label.txt", "name.txt", "detail.txt"},
                          {Label(job), media::WrapText(job.dossier.name, name_width, 2),
                           media::WrapText(job.prompt, detail_width, 3)});
      },
      options);
  if (!info.ok()) return info.status();
  call.progress(100);
  return MediaResult(*info, *media_, path, model(), Seconds(start), false);
}

absl::Status LocalVideoProvider::Supports(const std::string& /*aspect_ratio*/,
                                          int duration_seconds) const {
  if (duration_seconds < 1 || duration_seconds > kLocalMaxVideoSeconds) {
    return InvalidField("duration_seconds", absl::StrCat("the local video provider makes 1 to ",
                                                         kLocalMaxVideoSeconds, " seconds"));
  }
  return absl::OkStatus();
}

absl::StatusOr<JobResult> LocalVideoProvider::Generate(const ClaimedJob& job,
                                                       const RevealImages& reveal,
                                                       const ProviderCall& call) {
  auto start = std::chrono::steady_clock::now();
  Size size = RenderSize(job.aspect_ratio);
  const int w = size.width, h = size.height, unit = std::min(w, h);
  const int duration = std::max(1, job.duration_seconds);
  const int frames = duration * kFps;
  absl::StatusOr<std::string> source = media_->LocalPathOf(job.source_image_url);
  if (!source.ok()) {
    return absl::FailedPreconditionError("the source image is not in the media folder");
  }
  // Fill the frame (crop to the ratio), at 1.5x so zooming stays sharp.
  std::string fill = absl::StrCat("scale=", w * 3 / 2, ":", h * 3 / 2,
                                  ":force_original_aspect_ratio=increase,crop=", w * 3 / 2, ":",
                                  h * 3 / 2, ",setsar=1");
  auto zoom = [&](const std::string& z, const std::string& x, const std::string& y, int d) {
    return absl::StrCat("zoompan=z='", z, "':x='", x, "':y='", y, "':d=", d, ":s=", w, "x", h,
                        ":fps=", kFps);
  };
  const std::string centre_x = "iw/2-(iw/zoom/2)", centre_y = "ih/2-(ih/zoom/2)";
  std::vector<std::string> inputs = {"-i", *source};
  std::string graph;
  std::vector<std::string> texts;  // quote.txt, stars.txt for testimonials
  if (job.type == "reveal") {
    absl::StatusOr<std::string> before = media_->LocalPathOf(reveal.before_url);
    absl::StatusOr<std::string> after = media_->LocalPathOf(reveal.after_url);
    bool pair =
        !reveal.before_url.empty() && !reveal.after_url.empty() && before.ok() && after.ok();
    inputs = {"-i", pair ? *before : *source, "-i", pair ? *after : *source};
    // Each half holds a little longer than half, and the two cross in a 0.25 s slide.
    int half = frames / 2 + kFps / 8;
    double offset = duration / 2.0 - 0.125;
    graph = absl::StrCat(
        "[0:v]", fill, ",",
        zoom("min(1+0.1*on/" + std::to_string(half) + ",1.1)", centre_x, centre_y, half),
        "[a];[1:v]", fill, pair ? "" : ",eq=brightness=0.12:saturation=1.4", ",",
        zoom("1.1", centre_x, centre_y, half),
        "[b];[a][b]xfade=transition=slideleft:duration=0.25:offset=", offset, ",format=yuv420p[v]");
  } else if (job.type == "transition") {
    graph =
        absl::StrCat("[0:v]", fill, ",",
                     zoom("1.25", "(iw-iw/zoom)*on/" + std::to_string(frames), centre_y, frames),
                     ",format=yuv420p[v]");
  } else if (job.type == "testimonial") {
    std::string quote =
        job.dossier.benefits.empty() ? job.dossier.name : job.dossier.benefits.front();
    texts = {
        "\u2605\u2605\u2605\u2605\u2605",
        media::WrapText("\u201c" + quote + "\u201d", std::max(12, w * 10 / 6 / (unit / 18)), 3)};
    graph = absl::StrCat(
        "[0:v]", fill, ",",
        zoom("max(1.3-0.3*on/" + std::to_string(frames) + ",1)", centre_x, centre_y, frames),
        ",vignette=PI/4,",
        Text("SCRATCH/stars.txt", unit / 12, absl::StrCat(h / 8), "0xffd24a", ""), ",",
        Text("SCRATCH/quote.txt", unit / 18, absl::StrCat(h * 5 / 8)), ",format=yuv420p[v]");
  } else {  // demo
    graph = absl::StrCat(
        "[0:v]", fill, ",",
        zoom("min(1+0.3*on/" + std::to_string(frames) + ",1.3)", centre_x, centre_y, frames),
        ",format=yuv420p[v]");
  }
  std::string path = media_->PathFor("videos", job.output_stem + ".mp4");
  media::RenderOptions options;
  options.timeout = timeout_;
  options.cancel = call.cancel;
  options.on_progress = [&](double seconds) {
    call.progress(static_cast<int>(std::min(99.0, 100.0 * seconds / duration)));
  };
  absl::StatusOr<media::MediaInfo> info = Render(
      *media_, path,
      [&](const std::string& scratch, const std::string& out) {
        std::string filled = graph;
        for (size_t at; (at = filled.find("SCRATCH")) != std::string::npos;) {
          filled.replace(at, 7, scratch);
        }
        std::vector<std::string> args = inputs;
        for (const std::string& arg : {std::string("-filter_complex"),
                                       filled,
                                       std::string("-map"),
                                       std::string("[v]"),
                                       std::string("-frames:v"),
                                       std::to_string(frames),
                                       std::string("-r"),
                                       std::to_string(kFps),
                                       std::string("-c:v"),
                                       std::string("libx264"),
                                       std::string("-preset"),
                                       std::string("veryfast"),
                                       std::string("-crf"),
                                       std::string("23"),
                                       std::string("-pix_fmt"),
                                       std::string("yuv420p"),
                                       std::string("-movflags"),
                                       std::string("+faststart"),
                                       std::string("-an"),
                                       std::string("-f"),
                                       std::string("mp4"),
                                       out}) {
          args.push_back(arg);
        }
        return args;
      },
      [&](const std::string& scratch) {
        if (texts.empty()) return absl::OkStatus();
        return WriteTexts(scratch, {"stars.txt", "quote.txt"}, texts);
      },
      options);
  if (!info.ok()) return info.status();
  call.progress(100);
  return MediaResult(*info, *media_, path, model(), Seconds(start), true);
}

}  // namespace cf::generation
