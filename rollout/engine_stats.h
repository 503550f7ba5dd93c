// What an engine reports about itself (Engine::stats()), and what a worker answers to GetInfo
// (WorkerInfo in rollout.proto: these fields plus the worker's model config and limits).
// proto_convert.h maps both to the wire. Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>

namespace forge::rollout {

struct EngineStats {
  int64_t policy_version = 0;
  int active_sequences = 0;
  int queued_sequences = 0;
  int64_t cache_bytes_used = 0;      // tokens held in the cache x bytes per token
  int64_t cache_bytes_capacity = 0;  // slots x max_seq_len x bytes per token
  int cache_slots = 0;
  int max_seq_len = 0;
  int max_batch_size = 0;
  int64_t tokens_generated = 0;
  int64_t requests_completed = 0;
  std::string device;
};

// GetInfo's answer: the engine's stats, the model's config.json and the largest n it accepts.
struct WorkerInfo : EngineStats {
  std::string model_config_json;
  int max_n = 0;
};

}  // namespace forge::rollout
