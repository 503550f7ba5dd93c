// Between the reward stack's structs and the forge.v1 reward protos.
#pragma once

#include "absl/status/statusor.h"
#include "forge/v1/reward.pb.h"
#include "reward/grader.h"
#include "reward/reward_rule.h"

namespace forge::reward {

// InvalidArgument naming the field ("tests: not valid JSON: ...", "tests: expected an object").
// completion_tokens 0 means unknown (-1 in GradeItem).
absl::StatusOr<GradeItem> from_proto(const forge::v1::GradeItem& p);
// Strings are made valid UTF-8 (protobuf requires it); tests as JSON text ("" when none).
forge::v1::GradeItem to_proto(const GradeItem& item);

GradeOutcome from_proto(const forge::v1::GradeResult& p);
forge::v1::GradeResult to_proto(const GradeOutcome& outcome);

RuleInfo from_proto(const forge::v1::RuleInfo& p);
forge::v1::RuleInfo to_proto(const RuleInfo& info);

}  // namespace forge::reward
