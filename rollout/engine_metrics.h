// A rollout engine's Prometheus series, with vLLM's meanings under forge: names (vLLM V1 counts a
// request of n samples as n requests; so do these: one "request" here is one sequence):
//   forge:num_requests_running        gauge      sequences in the decode batch
//   forge:num_requests_waiting        gauge      sequences queued for a cache slot
//   forge:kv_cache_usage_perc         gauge      tokens held / token capacity of the cache (0..1)
//   forge:prompt_tokens_total         counter    prompt tokens of the sequences admitted
//   forge:generation_tokens_total     counter    tokens sampled
//   forge:request_success_total       counter    sequences finished, by finished_reason
//   forge:time_to_first_token_seconds histogram  submit -> first sampled token, per sequence
//   forge:e2e_request_latency_seconds histogram  submit -> finished, per sequence
//   forge:policy_version              gauge      version of the current weights
// Thread-safety: the references are thread-safe metrics (telemetry/registry.h).
#pragma once

#include "telemetry/registry.h"

namespace forge::rollout {

struct EngineMetrics {
  explicit EngineMetrics(telemetry::Registry& registry);

  telemetry::Gauge& running;
  telemetry::Gauge& waiting;
  telemetry::Gauge& kv_cache_usage;
  telemetry::Gauge& policy_version;
  telemetry::Counter& prompt_tokens;
  telemetry::Counter& generation_tokens;
  telemetry::Counter& finished_stop;
  telemetry::Counter& finished_length;
  telemetry::Histogram& time_to_first_token;
  telemetry::Histogram& e2e_latency;
};

}  // namespace forge::rollout
