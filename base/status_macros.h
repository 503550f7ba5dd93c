// Propagating absl::Status / absl::StatusOr without boilerplate (LevelDB / Abseil style).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FORGE_CONCAT_INNER_(a, b) a##b
#define FORGE_CONCAT_(a, b) FORGE_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status forge_status_ = (expr);         \
    if (!forge_status_.ok()) return forge_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, f());` declares x from an OK StatusOr, or returns its status.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  FORGE_ASSIGN_OR_RETURN_IMPL_(FORGE_CONCAT_(forge_statusor_, __LINE__), lhs, rexpr)

#define FORGE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return statusor.status();            \
  lhs = std::move(statusor).value()
