#include "server/inference/encode_stage.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/data/image_resize.h"
#include "core/util/atomic_extremes.h"
#include "core/util/status_prefix.h"
#include "server/inference/image_header.h"
#include "server/inference/observation_input.h"

namespace mivla::server {

cv::Mat ResizeForModel(const cv::Mat& rgb, int side) {
  if (rgb.cols == side && rgb.rows == side) return rgb;
  cv::Mat resized(side, side, CV_8UC3);
  if (rgb.type() != CV_8UC3) {  // DecodeImage gives RGB8 only; anything else keeps OpenCV's own resize
    const bool shrink = rgb.cols > side || rgb.rows > side;
    cv::resize(rgb, resized, cv::Size(side, side), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
    return resized;
  }
  const cv::Mat src = rgb.isContinuous() ? rgb : rgb.clone();
  data::ResizeSquareRgb8(src.data, src.cols, src.rows, side, resized.data);
  return resized;
}

absl::Status DecodeViewForModel(const mivla::v1::ObserveRequest& request, int view, int side, bool pass_jpeg,
                                const InputLimits& limits, RuntimeImage* out) {
  const mivla::v1::Image& image = request.images(view);
  *out = RuntimeImage();
  if (pass_jpeg && image.encoding() == mivla::v1::JPEG) {
    // ValidateObservation read this header (and checked its size against the limits) already.
    absl::StatusOr<ImageDims> dims = ReadJpegHeader(image.data());
    if (!dims.ok()) return WithPrefix(dims.status(), absl::StrCat("images[", view, "].data: "));
    out->width = static_cast<int>(dims->width);
    out->height = static_cast<int>(dims->height);
    out->jpeg = image.data();
    return absl::OkStatus();
  }
  absl::StatusOr<cv::Mat> rgb = DecodeImage(image, absl::StrCat("images[", view, "]"), limits);
  if (!rgb.ok()) return rgb.status();
  cv::Mat resized = ResizeForModel(*rgb, side);
  if (!resized.isContinuous()) resized = resized.clone();
  out->width = resized.cols;
  out->height = resized.rows;
  out->rgb.resize(static_cast<size_t>(out->width) * out->height * 3);
  std::memcpy(out->rgb.data(), resized.data, out->rgb.size());
  return absl::OkStatus();
}

absl::Status DecodeForModel(const mivla::v1::ObserveRequest& request, int side, bool pass_jpeg,
                            const InputLimits& limits, std::vector<RuntimeImage>* out) {
  out->assign(static_cast<size_t>(request.images_size()), RuntimeImage());
  for (int v = 0; v < request.images_size(); ++v) {
    if (absl::Status s = DecodeViewForModel(request, v, side, pass_jpeg, limits, &(*out)[v]); !s.ok()) {
      out->clear();
      return s;
    }
  }
  return absl::OkStatus();
}

void DecodeImagesThen(std::unique_ptr<EncodeTask> task, ImageDecodePool* pool, const InputLimits& limits,
                      std::function<void(std::unique_ptr<EncodeTask>)> next) {
  // Owns the task until the last view is done.
  struct ImageJob {
    ImageJob(std::unique_ptr<EncodeTask> t, int views) : task(std::move(t)), images(views), status(views) {}
    std::unique_ptr<EncodeTask> task;
    std::vector<RuntimeImage> images;  // part v writes images[v] and status[v] only
    std::vector<absl::Status> status;
    std::atomic<int> first_failed{INT_MAX};  // the lowest view that failed: later views skip their work
    std::atomic<int64_t> longest_us{0};      // the longest part's own decoding time
  };
  const int views = std::max(1, task->request->images_size());
  auto job = std::make_shared<ImageJob>(std::move(task), views);
  auto part = [job, limits](int v) {
    const absl::Time t0 = absl::Now();
    const EncodeTask& t = *job->task;
    if (job->first_failed.load() < v || v >= t.request->images_size()) return;
    if (t0 > t.deadline_) {
      job->status[v] = absl::DeadlineExceededError("deadline passed before decoding");
    } else {
      const RuntimeInfo& info = t.runtime->info();
      job->status[v] = DecodeViewForModel(*t.request, v, info.image_size, info.decodes_jpeg, limits, &job->images[v]);
    }
    if (!job->status[v].ok()) AtomicMin(&job->first_failed, v);
    AtomicMax(&job->longest_us, absl::ToInt64Microseconds(absl::Now() - t0));
  };
  auto all_done = [job, next = std::move(next)] {
    std::unique_ptr<EncodeTask> t = std::move(job->task);
    for (const absl::Status& s : job->status) {
      if (!s.ok()) return t->done(s);  // the first failed view in camera order (views after it may have skipped)
    }
    if (t->request->images_size() > 0) t->images = std::move(job->images);
    t->enqueued = absl::Now();
    t->image_decode_us = job->longest_us.load();
    next(std::move(t));
  };
  if (absl::Status s = pool->SubmitParts(views, std::move(part), std::move(all_done)); !s.ok()) job->task->done(s);
}

std::shared_ptr<RuntimeObservation> BuildObservation(EncodeTask* task) {
  auto obs = std::make_shared<RuntimeObservation>();
  obs->embodiment = task->session->spec().embodiment;
  obs->images = std::move(task->images);
  obs->instruction = task->instruction;
  RawState raw = StateFromProprioception(task->request->proprioception(), obs->embodiment);
  obs->state = raw.values;
  obs->state_mask = raw.mask;
  return obs;
}

}  // namespace mivla::server
