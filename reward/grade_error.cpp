#include "reward/grade_error.h"

#include "absl/strings/cord.h"

namespace forge::reward {
namespace {

constexpr char kPayloadUrl[] = "type.forge.dev/forge.reward.ErrorCode";

}  // namespace

absl::Status with_error_code(absl::Status status, std::string_view code) {
  if (!status.ok()) status.SetPayload(kPayloadUrl, absl::Cord(std::string(code)));
  return status;
}

std::string error_code_of(const absl::Status& status) {
  if (auto tag = status.GetPayload(kPayloadUrl)) return std::string(*tag);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return kErrorInvalidItem;
    case absl::StatusCode::kDeadlineExceeded:
      return kErrorTimeout;
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return kErrorNotGraded;
    case absl::StatusCode::kUnavailable:
      return kErrorSandboxUnavailable;
    default:
      return kErrorRuleFailed;
  }
}

}  // namespace forge::reward
