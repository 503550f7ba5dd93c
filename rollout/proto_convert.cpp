#include "rollout/proto_convert.h"

#include "absl/strings/str_cat.h"

namespace forge::rollout {

absl::StatusOr<GenerationRequest> request_from_proto(const forge::v1::GenerateRequest& proto,
                                                     const policy::Tokenizer& tokenizer) {
  GenerationRequest out;
  out.prompts.reserve(proto.prompts_size());
  for (int p = 0; p < proto.prompts_size(); ++p) {
    const forge::v1::Prompt& prompt = proto.prompts(p);
    if (!prompt.text().empty() && prompt.token_ids_size() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("prompts[", p, "]: give text or token_ids, not both"));
    }
    if (!prompt.text().empty()) {
      out.prompts.push_back(tokenizer.encode(prompt.text()));
    } else {
      out.prompts.emplace_back(prompt.token_ids().begin(), prompt.token_ids().end());
    }
  }
  const forge::v1::SamplingParams& s = proto.sampling();
  out.sampling.temperature = s.has_temperature() ? s.temperature() : 1.0;
  out.sampling.top_p = s.has_top_p() ? s.top_p() : 1.0;
  out.sampling.top_k = s.top_k();
  out.sampling.n = s.n() == 0 ? 1 : s.n();
  out.sampling.max_new_tokens = s.max_new_tokens();
  out.sampling.stop.assign(s.stop().begin(), s.stop().end());
  out.sampling.seed = s.seed();
  out.first_prompt_index = proto.first_prompt_index();
  switch (proto.partial_rollout()) {
    case forge::v1::PARTIAL_ROLLOUT_OFF: out.partial = PartialRollout::kOff; break;
    case forge::v1::PARTIAL_ROLLOUT_RECOMPUTE: out.partial = PartialRollout::kRecompute; break;
    case forge::v1::PARTIAL_ROLLOUT_KEEP: out.partial = PartialRollout::kKeep; break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("partial_rollout: unknown value ", proto.partial_rollout()));
  }
  out.return_routing = proto.return_routing();
  return out;
}

void request_to_proto(const GenerationRequest& request, forge::v1::GenerateRequest* proto) {
  proto->Clear();
  for (const auto& ids : request.prompts) {
    proto->add_prompts()->mutable_token_ids()->Add(ids.begin(), ids.end());
  }
  forge::v1::SamplingParams* s = proto->mutable_sampling();
  s->set_temperature(static_cast<float>(request.sampling.temperature));
  s->set_top_p(static_cast<float>(request.sampling.top_p));
  s->set_top_k(request.sampling.top_k);
  s->set_n(request.sampling.n);
  s->set_max_new_tokens(request.sampling.max_new_tokens);
  for (const std::string& stop : request.sampling.stop) s->add_stop(stop);
  s->set_seed(request.sampling.seed);
  proto->set_first_prompt_index(static_cast<int32_t>(request.first_prompt_index));
  switch (request.partial) {
    case PartialRollout::kOff: proto->set_partial_rollout(forge::v1::PARTIAL_ROLLOUT_OFF); break;
    case PartialRollout::kRecompute:
      proto->set_partial_rollout(forge::v1::PARTIAL_ROLLOUT_RECOMPUTE);
      break;
    case PartialRollout::kKeep: proto->set_partial_rollout(forge::v1::PARTIAL_ROLLOUT_KEEP); break;
  }
  proto->set_return_routing(request.return_routing);
}

void completion_to_proto(const Completion& c, forge::v1::Completion* proto) {
  proto->set_prompt_index(c.prompt_index);
  proto->set_sample_index(c.sample_index);
  proto->mutable_prompt_token_ids()->Add(c.prompt_token_ids.begin(), c.prompt_token_ids.end());
  proto->mutable_token_ids()->Add(c.token_ids.begin(), c.token_ids.end());
  proto->mutable_logprobs()->Add(c.logprobs.begin(), c.logprobs.end());
  proto->set_text(c.text);
  proto->set_finish_reason(c.finish_reason);
  proto->set_policy_version(c.policy_version);
  proto->mutable_token_versions()->Add(c.token_versions.begin(), c.token_versions.end());
  proto->mutable_routed_experts()->Add(c.routed_experts.begin(), c.routed_experts.end());
  proto->set_routing_layers(c.routing_layers);
  proto->set_routing_top_k(c.routing_top_k);
}

Completion completion_from_proto(const forge::v1::Completion& proto) {
  Completion c;
  c.prompt_index = proto.prompt_index();
  c.sample_index = proto.sample_index();
  c.prompt_token_ids.assign(proto.prompt_token_ids().begin(), proto.prompt_token_ids().end());
  c.token_ids.assign(proto.token_ids().begin(), proto.token_ids().end());
  c.logprobs.assign(proto.logprobs().begin(), proto.logprobs().end());
  c.text = proto.text();
  c.finish_reason = proto.finish_reason();
  c.policy_version = proto.policy_version();
  c.token_versions.assign(proto.token_versions().begin(), proto.token_versions().end());
  c.routed_experts.assign(proto.routed_experts().begin(), proto.routed_experts().end());
  c.routing_layers = proto.routing_layers();
  c.routing_top_k = proto.routing_top_k();
  return c;
}

void worker_info_to_proto(const WorkerInfo& info, forge::v1::WorkerInfo* proto) {
  proto->set_model_config_json(info.model_config_json);
  proto->set_policy_version(info.policy_version);
  proto->set_active_sequences(info.active_sequences);
  proto->set_queued_sequences(info.queued_sequences);
  proto->set_cache_bytes_used(info.cache_bytes_used);
  proto->set_cache_bytes_capacity(info.cache_bytes_capacity);
  proto->set_device(info.device);
  proto->set_tokens_generated(info.tokens_generated);
  proto->set_max_batch_size(info.max_batch_size);
  proto->set_max_seq_len(info.max_seq_len);
  proto->set_cache_slots(info.cache_slots);
  proto->set_max_n(info.max_n);
  proto->set_requests_completed(info.requests_completed);
}

WorkerInfo worker_info_from_proto(const forge::v1::WorkerInfo& proto) {
  WorkerInfo info;
  info.model_config_json = proto.model_config_json();
  info.policy_version = proto.policy_version();
  info.active_sequences = proto.active_sequences();
  info.queued_sequences = proto.queued_sequences();
  info.cache_bytes_used = proto.cache_bytes_used();
  info.cache_bytes_capacity = proto.cache_bytes_capacity();
  info.device = proto.device();
  info.tokens_generated = proto.tokens_generated();
  info.max_batch_size = proto.max_batch_size();
  info.max_seq_len = proto.max_seq_len();
  info.cache_slots = proto.cache_slots();
  info.max_n = proto.max_n();
  info.requests_completed = proto.requests_completed();
  return info;
}

at::ScalarType dtype_from_wire(forge::v1::DType dtype) {
  switch (dtype) {
    case forge::v1::FLOAT32: return at::kFloat;
    case forge::v1::BFLOAT16: return at::kBFloat16;
    case forge::v1::FLOAT16: return at::kHalf;
    case forge::v1::INT64: return at::kLong;
    case forge::v1::INT32: return at::kInt;
    default: return at::ScalarType::Undefined;
  }
}

std::optional<forge::v1::DType> dtype_to_wire(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return forge::v1::FLOAT32;
    case at::kBFloat16: return forge::v1::BFLOAT16;
    case at::kHalf: return forge::v1::FLOAT16;
    case at::kLong: return forge::v1::INT64;
    case at::kInt: return forge::v1::INT32;
    default: return std::nullopt;
  }
}

}  // namespace forge::rollout
