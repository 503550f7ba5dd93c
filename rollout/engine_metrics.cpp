#include "rollout/engine_metrics.h"

namespace forge::rollout {

EngineMetrics::EngineMetrics(telemetry::Registry& r)
    : running(r.gauge("forge:num_requests_running",
                      "Sequences in the decode batch (one per sample; vLLM's meaning).")),
      waiting(r.gauge("forge:num_requests_waiting", "Sequences waiting for a cache slot.")),
      kv_cache_usage(r.gauge("forge:kv_cache_usage_perc",
                             "Latent KV cache usage: tokens held / token capacity (1 = full).")),
      policy_version(
          r.gauge("forge:policy_version", "Version of the weights serving new requests.")),
      prompt_tokens(r.counter("forge:prompt_tokens_total", "Prompt tokens of admitted sequences.")),
      generation_tokens(r.counter("forge:generation_tokens_total", "Tokens sampled.")),
      finished_stop(r.counter("forge:request_success_total", "Sequences finished, by reason.",
                              {{"finished_reason", "stop"}})),
      finished_length(r.counter("forge:request_success_total", "Sequences finished, by reason.",
                                {{"finished_reason", "length"}})),
      time_to_first_token(r.histogram("forge:time_to_first_token_seconds",
                                      "Submit to first sampled token, per sequence.",
                                      telemetry::latency_buckets())),
      e2e_latency(r.histogram("forge:e2e_request_latency_seconds",
                              "Submit to finished, per sequence.", telemetry::latency_buckets())) {}

}  // namespace forge::rollout
