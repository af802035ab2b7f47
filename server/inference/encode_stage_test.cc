#include "server/inference/encode_stage.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/inference/test_requests.h"
#include "server/runtime_api/fake_policy_runtime.h"

namespace mivla::server {
namespace {

mivla::v1::ObserveRequest TwoImages(const std::string& first, mivla::v1::ImageEncoding first_encoding) {
  mivla::v1::ObserveRequest req;
  mivla::v1::Image* a = req.add_images();
  a->set_camera("head_camera");
  a->set_encoding(first_encoding);
  a->set_data(first);
  mivla::v1::Image* b = req.add_images();  // raw 4 x 2, all (10, 20, 30)
  b->set_camera("right_camera");
  b->set_encoding(mivla::v1::RAW_RGB8);
  b->set_width(4);
  b->set_height(2);
  std::string raw;
  for (int i = 0; i < 8; ++i) raw += std::string{10, 20, 30};
  b->set_data(raw);
  return req;
}

TEST(DecodeForModelTest, DecodesAndResizesEveryImageForAServerSideRuntime) {
  const mivla::v1::ObserveRequest req = TwoImages(testing::SolidJpeg(120, 90, 200, 40, 40), mivla::v1::JPEG);
  std::vector<RuntimeImage> out;
  ASSERT_TRUE(DecodeForModel(req, 56, /*pass_jpeg=*/false, InputLimits{}, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  for (const RuntimeImage& im : out) {
    EXPECT_EQ(im.width, 56);
    EXPECT_EQ(im.height, 56);
    EXPECT_EQ(im.rgb.size(), 56u * 56u * 3u);
    EXPECT_TRUE(im.jpeg.empty());
  }
  EXPECT_NEAR(out[0].rgb[0], 200, 3);  // solid red survives decoding and the area filter
  EXPECT_EQ(out[1].rgb[3 * 100 + 1], 20);
}

TEST(DecodeForModelTest, PassesJpegThroughWithItsHeaderSizeWhenTheRuntimeDecodes) {
  const std::string jpeg = testing::SolidJpeg(120, 90, 200, 40, 40);
  const mivla::v1::ObserveRequest req = TwoImages(jpeg, mivla::v1::JPEG);
  std::vector<RuntimeImage> out;
  ASSERT_TRUE(DecodeForModel(req, 56, /*pass_jpeg=*/true, InputLimits{}, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].jpeg, jpeg);  // bytes untouched
  EXPECT_EQ(out[0].width, 120);
  EXPECT_EQ(out[0].height, 90);
  EXPECT_TRUE(out[0].rgb.empty());
  // A raw image is still resized by the server: only JPEG goes to the device.
  EXPECT_TRUE(out[1].jpeg.empty());
  EXPECT_EQ(out[1].width, 56);
  EXPECT_EQ(out[1].rgb.size(), 56u * 56u * 3u);
}

TEST(DecodeForModelTest, PngIsDecodedOnTheServerEvenWhenTheRuntimeTakesJpeg) {
  cv::Mat bgr(30, 40, CV_8UC3, cv::Scalar(5, 6, 7));
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", bgr, png));
  const mivla::v1::ObserveRequest req = TwoImages(std::string(png.begin(), png.end()), mivla::v1::PNG);
  std::vector<RuntimeImage> out;
  ASSERT_TRUE(DecodeForModel(req, 56, /*pass_jpeg=*/true, InputLimits{}, &out).ok());
  EXPECT_TRUE(out[0].jpeg.empty());
  EXPECT_EQ(out[0].width, 56);
  EXPECT_EQ(out[0].rgb[0], 7);  // R of a BGR (5, 6, 7) image
}

TEST(DecodeForModelTest, AJpegWhoseHeaderDoesNotParseIsRefusedNamingTheImage) {
  const mivla::v1::ObserveRequest req = TwoImages("not a jpeg", mivla::v1::JPEG);
  std::vector<RuntimeImage> out;
  const absl::Status s = DecodeForModel(req, 56, /*pass_jpeg=*/true, InputLimits{}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("images[0].data"), std::string::npos) << s;
}

TEST(DecodeForModelTest, OneViewDecodesAloneIntoItsSlotAndItsErrorNamesIt) {
  mivla::v1::ObserveRequest req = TwoImages(testing::SolidJpeg(120, 90, 200, 40, 40), mivla::v1::JPEG);
  RuntimeImage second;
  second.jpeg = "left over";  // replaced, not appended to
  ASSERT_TRUE(DecodeViewForModel(req, 1, 56, /*pass_jpeg=*/true, InputLimits{}, &second).ok());
  EXPECT_TRUE(second.jpeg.empty());  // the raw second image, resized
  EXPECT_EQ(second.width, 56);
  EXPECT_EQ(second.rgb[3 * 100 + 1], 20);
  req.mutable_images(1)->set_encoding(mivla::v1::JPEG);
  req.mutable_images(1)->set_data("not a jpeg");
  RuntimeImage first;
  EXPECT_TRUE(DecodeViewForModel(req, 0, 56, /*pass_jpeg=*/false, InputLimits{}, &first).ok());
  EXPECT_NEAR(first.rgb[0], 200, 3);
  for (bool pass_jpeg : {false, true}) {
    const absl::Status s = DecodeViewForModel(req, 1, 56, pass_jpeg, InputLimits{}, &second);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("images[1]"), std::string::npos) << s;
  }
}

// What DecodeImagesThen handed on: the task to `next`, or the status to the task's `done`.
struct Outcome {
  absl::Notification finished;
  std::unique_ptr<EncodeTask> next;
  absl::Status done_status;
  bool done_called = false;
};

// Runs DecodeImagesThen on a fresh two-thread pool for `req` and waits for its outcome.
void DecodeThen(const mivla::v1::ObserveRequest& req, absl::Time deadline, Outcome* out) {
  auto task = std::make_unique<EncodeTask>();
  task->runtime = std::make_shared<FakePolicyRuntime>(FakeRuntimeOptions{});  // 56 px, decodes on the server
  task->request = &req;
  task->deadline_ = deadline;
  task->done = [out](absl::Status s) {
    out->done_called = true;
    out->done_status = std::move(s);
    out->finished.Notify();
  };
  absl::StatusOr<std::unique_ptr<ImageDecodePool>> pool = ImageDecodePool::Create({});
  ASSERT_TRUE(pool.ok()) << pool.status();
  DecodeImagesThen(std::move(task), pool->get(), InputLimits{}, [out](std::unique_ptr<EncodeTask> t) {
    out->next = std::move(t);
    out->finished.Notify();
  });
  ASSERT_TRUE(out->finished.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST(DecodeImagesThenTest, HandsTheTaskOnWithEveryViewDecodedInItsSlot) {
  const mivla::v1::ObserveRequest req = TwoImages(testing::SolidJpeg(120, 90, 200, 40, 40), mivla::v1::JPEG);
  Outcome out;
  DecodeThen(req, absl::InfiniteFuture(), &out);
  ASSERT_FALSE(out.done_called) << out.done_status;
  ASSERT_NE(out.next, nullptr);
  ASSERT_EQ(out.next->images.size(), 2u);
  EXPECT_NEAR(out.next->images[0].rgb[0], 200, 3);  // the JPEG, in view 0's slot
  EXPECT_EQ(out.next->images[1].rgb[1], 20);        // the raw image, in view 1's slot
  EXPECT_EQ(out.next->images[1].width, 56);
  EXPECT_GT(out.next->image_decode_us, 0) << "decoding a 120x90 JPEG took no time";
}

TEST(DecodeImagesThenTest, TheFirstFailedViewInCameraOrderGoesToDone) {
  mivla::v1::ObserveRequest req = TwoImages(testing::SolidJpeg(120, 90, 200, 40, 40), mivla::v1::JPEG);
  req.mutable_images(1)->set_encoding(mivla::v1::JPEG);
  req.mutable_images(1)->set_data("not a jpeg");
  Outcome second_bad;
  DecodeThen(req, absl::InfiniteFuture(), &second_bad);
  EXPECT_EQ(second_bad.next, nullptr);
  EXPECT_EQ(second_bad.done_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(second_bad.done_status.message().find("images[1]"), std::string::npos) << second_bad.done_status;
  req.mutable_images(0)->set_data("not a jpeg either");
  Outcome both_bad;
  DecodeThen(req, absl::InfiniteFuture(), &both_bad);
  EXPECT_NE(both_bad.done_status.message().find("images[0]"), std::string::npos) << both_bad.done_status;
}

TEST(DecodeImagesThenTest, APassedDeadlineFailsBeforeDecoding) {
  const mivla::v1::ObserveRequest req = TwoImages(testing::SolidJpeg(120, 90, 200, 40, 40), mivla::v1::JPEG);
  Outcome out;
  DecodeThen(req, absl::Now() - absl::Seconds(1), &out);
  EXPECT_EQ(out.next, nullptr);
  EXPECT_EQ(out.done_status.code(), absl::StatusCode::kDeadlineExceeded) << out.done_status;
}

}  // namespace
}  // namespace mivla::server
