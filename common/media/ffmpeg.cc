#include "common/media/ffmpeg.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/media/process.h"

namespace cf::media {
namespace {

constexpr char kFfmpeg[] = "/usr/bin/ffmpeg";
constexpr char kFfprobe[] = "/usr/bin/ffprobe";

std::string LastLines(const std::string& text, int lines) {
  std::vector<std::string> all = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  if (static_cast<int>(all.size()) > lines) all.erase(all.begin(), all.end() - lines);
  std::string out;
  for (const auto& line : all) absl::StrAppend(&out, out.empty() ? "" : " | ", line);
  return out;
}

double ParseRate(const std::string& rate) {  // "30/1"
  std::vector<std::string> parts = absl::StrSplit(rate, '/');
  double num = 0, den = 1;
  if (parts.empty() || !absl::SimpleAtod(parts[0], &num)) return 0;
  if (parts.size() > 1 && (!absl::SimpleAtod(parts[1], &den) || den == 0)) return 0;
  return num / den;
}

}  // namespace

absl::Status CheckRenderTools(const std::vector<std::string>& fonts) {
  std::vector<std::string> missing;
  for (const char* tool : {kFfmpeg, kFfprobe}) {
    if (access(tool, X_OK) != 0) missing.push_back(absl::StrCat(tool, " (package ffmpeg)"));
  }
  for (const std::string& font : fonts) {
    if (access(font.c_str(), R_OK) != 0) {
      missing.push_back(absl::StrCat(font, " (package fonts-dejavu-core)"));
    }
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("renders need what this machine lacks: ", absl::StrJoin(missing, ", "),
                   "; install it (apt-get install ffmpeg fonts-dejavu-core)"));
}

absl::Status RunFfmpeg(const std::vector<std::string>& args, const RenderOptions& options) {
  std::vector<std::string> argv = {kFfmpeg,     "-nostdin",        "-hide_banner",
                                   "-loglevel", options.log_level, "-y",
                                   "-progress", "pipe:1",          "-nostats"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions process;
  process.timeout = options.timeout;
  process.cancel = options.cancel;
  process.on_stdout_line = [&](const std::string& line) {
    // "out_time_us=1234567" (ffmpeg 5 also prints the older, misnamed out_time_ms in µs).
    absl::string_view value = line;
    if (options.on_progress && absl::ConsumePrefix(&value, "out_time_us=")) {
      int64_t micros = 0;
      if (absl::SimpleAtoi(value, &micros) && micros >= 0) options.on_progress(micros / 1e6);
    }
  };
  std::string failing_line;
  if (!options.failing_log_lines.empty()) {
    process.on_stderr_line = [&](const std::string& line) {
      for (const std::string& failing : options.failing_log_lines) {
        if (failing_line.empty() && absl::StrContains(line, failing)) failing_line = line;
      }
    };
  }
  absl::StatusOr<ProcessOutcome> outcome = RunProcess(argv, process);
  if (!outcome.ok()) return outcome.status();
  if (outcome->cancelled) return absl::CancelledError("render cancelled");
  if (outcome->timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("ffmpeg took longer than ", absl::FormatDuration(options.timeout)));
  }
  if (outcome->exit_code != 0) {
    return absl::InternalError(absl::StrCat("ffmpeg failed (exit ", outcome->exit_code,
                                            "): ", LastLines(outcome->stderr_tail, 3)));
  }
  if (!failing_line.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("ffmpeg reported: ", failing_line));
  }
  return absl::OkStatus();
}

absl::Status WriteAtomically(const std::string& final_path,
                             const std::function<absl::Status(const std::string& temp)>& render) {
  size_t dot = final_path.rfind('.');
  size_t slash = final_path.rfind('/');
  std::string extension = dot != std::string::npos && (slash == std::string::npos || dot > slash)
                              ? final_path.substr(dot)
                              : "";
  thread_local std::mt19937_64 random(std::random_device{}());
  std::string temp =
      absl::StrCat(final_path, ".partial-", getpid(), "-", random() % 1000000, extension);
  absl::Status status = render(temp);
  if (status.ok() && std::rename(temp.c_str(), final_path.c_str()) != 0) {
    status = absl::InternalError(absl::StrCat("cannot move the rendered file to ", final_path));
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

absl::StatusOr<MediaInfo> Probe(const std::string& path) {
  ProcessOptions process;
  process.timeout = absl::Seconds(30);
  std::map<std::string, std::string> values;
  process.on_stdout_line = [&](const std::string& line) {
    size_t eq = line.find('=');
    // The first value of a key wins (the first video stream).
    if (eq != std::string::npos) values.emplace(line.substr(0, eq), line.substr(eq + 1));
  };
  absl::StatusOr<ProcessOutcome> outcome = RunProcess(
      {kFfprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
       "stream=width,height,codec_name,avg_frame_rate,bit_rate,pix_fmt:format=duration,size,"
       "format_name,bit_rate",
       "-of", "default=noprint_wrappers=1", path},
      process);
  if (!outcome.ok()) return outcome.status();
  if (outcome->exit_code != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ffprobe cannot read ", path, ": ", LastLines(outcome->stderr_tail, 2)));
  }
  MediaInfo info;
  absl::SimpleAtoi(values["width"], &info.width);
  absl::SimpleAtoi(values["height"], &info.height);
  info.codec = values["codec_name"];
  info.format = values["format_name"];
  info.pixel_format = values["pix_fmt"];
  absl::SimpleAtod(values["duration"], &info.duration);
  info.fps = ParseRate(values["avg_frame_rate"]);
  absl::SimpleAtoi(values["bit_rate"], &info.bit_rate);
  absl::SimpleAtoi(values["size"], &info.file_size);
  return info;
}

absl::StatusOr<double> Psnr(const std::string& a, const std::string& b) {
  ProcessOptions process;
  process.timeout = absl::Seconds(60);
  absl::StatusOr<ProcessOutcome> outcome = RunProcess(
      {kFfmpeg, "-nostdin", "-hide_banner", "-i", a, "-i", b, "-lavfi", "psnr", "-f", "null", "-"},
      process);
  if (!outcome.ok()) return outcome.status();
  // "... PSNR y:12.3 u:... average:14.56 min:... max:..."
  size_t at = outcome->stderr_tail.rfind("average:");
  if (outcome->exit_code != 0 || at == std::string::npos) {
    return absl::InternalError(absl::StrCat("psnr failed: ", LastLines(outcome->stderr_tail, 2)));
  }
  std::string rest = outcome->stderr_tail.substr(at + 8);
  rest = rest.substr(0, rest.find(' '));
  if (rest == "inf") return 1000.0;
  double value = 0;
  if (!absl::SimpleAtod(rest, &value)) return absl::InternalError("unreadable psnr");
  return value;
}

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string WrapText(const std::string& text, size_t width, size_t max_lines) {
  std::vector<std::string> words =
      absl::StrSplit(text, absl::ByAnyChar(" \n\t"), absl::SkipEmpty());
  std::vector<std::string> lines;
  std::string line;
  bool cut = false;
  for (std::string word : words) {
    if (word.size() > width) word = word.substr(0, width);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
      if (lines.size() == max_lines) {
        cut = true;
        break;
      }
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!cut && !line.empty()) lines.push_back(line);
  if (cut && !lines.empty()) {
    std::string& last = lines.back();
    if (last.size() + 3 > width) last.resize(width > 3 ? width - 3 : 0);
    last += "...";
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) absl::StrAppend(&out, i ? "\n" : "", lines[i]);
  return out;
}

}  // namespace cf::media
