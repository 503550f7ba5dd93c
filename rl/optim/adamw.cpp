#include "rl/optim/adamw.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace forge::rl {

AdamW::AdamW(std::vector<std::pair<std::string, at::Tensor>> params, Options options)
    : options_(options) {
  for (auto& [name, p] : params) {
    Slot slot{name, p, {}, {}, {}};
    if (p.scalar_type() != at::kFloat && p.scalar_type() != at::kDouble) {
      slot.master = p.detach().to(at::kFloat);
    }
    slots_.push_back(std::move(slot));
  }
}

void AdamW::zero_grad() {
  for (Slot& s : slots_) {
    if (s.param.grad().defined()) s.param.mutable_grad().zero_();
  }
}

double AdamW::clip_grad_norm(double max_norm) {
  at::NoGradGuard no_grad;
  double total_sq = 0.0;
  for (const Slot& s : slots_) {
    if (s.param.grad().defined()) total_sq += s.param.grad().to(at::kDouble).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(total_sq);
  if (max_norm > 0 && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);  // torch.nn.utils.clip_grad_norm_
    for (Slot& s : slots_) {
      if (s.param.grad().defined()) s.param.mutable_grad().mul_(scale);
    }
  }
  return norm;
}

void AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  ++step_;
  const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!owns(i)) continue;
    Slot& s = slots_[i];
    at::Tensor grad = s.param.grad();
    if (!grad.defined()) {
      // No state: this parameter never had a gradient, skip it. With state: it had one before,
      // and in a straight run its grad stays defined (zero_grad zeroes it) so momentum keeps
      // moving it; only a process restored from a checkpoint has no grad yet. Zero matches both.
      if (!s.exp_avg.defined()) continue;
      grad = at::zeros_like(s.param);
    }
    at::Tensor& w = s.master.defined() ? s.master : s.param;  // what the update runs on
    if (s.master.defined()) grad = grad.to(at::kFloat);
    if (!s.exp_avg.defined()) {
      s.exp_avg = at::zeros_like(w);
      s.exp_avg_sq = at::zeros_like(w);
    }
    if (options_.weight_decay > 0 && w.dim() >= 2) {
      w.mul_(1.0 - lr * options_.weight_decay);
    }
    s.exp_avg.mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
    s.exp_avg_sq.mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    const at::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bias2)).add_(options_.eps);
    w.addcdiv_(s.exp_avg, denom, -lr / bias1);
    if (s.master.defined()) s.param.copy_(s.master);
  }
}

void AdamW::set_owned(std::vector<bool> owned) {
  owned_ = std::move(owned);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!owns(i)) slots_[i].exp_avg = slots_[i].exp_avg_sq = at::Tensor();
  }
}

std::vector<std::pair<std::string, at::Tensor>> AdamW::state_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.emplace_back("__step__", at::tensor({step_}, at::kLong));
  for (const Slot& s : slots_) {
    if (s.master.defined()) out.emplace_back(s.name + ".master", s.master);
    if (!s.exp_avg.defined()) continue;
    out.emplace_back(s.name + ".exp_avg", s.exp_avg);
    out.emplace_back(s.name + ".exp_avg_sq", s.exp_avg_sq);
  }
  return out;
}

absl::Status AdamW::load_state(const std::map<std::string, at::Tensor>& state) {
  auto step = state.find("__step__");
  if (step == state.end()) return absl::DataLossError("optimizer state: missing '__step__'");
  std::vector<std::pair<at::Tensor, at::Tensor>> loaded(slots_.size());
  std::vector<at::Tensor> masters(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!owns(i)) continue;
    const Slot& s = slots_[i];
    if (s.master.defined()) {
      auto master = state.find(s.name + ".master");
      if (master != state.end() && master->second.sizes() != s.param.sizes()) {
        return absl::DataLossError(absl::StrCat("optimizer state: '", master->first,
                                                "' has shape ", c10::str(master->second.sizes()),
                                                ", parameter has ", c10::str(s.param.sizes())));
      }
      masters[i] = master != state.end() ? master->second.to(at::kFloat).clone()
                                         : s.param.detach().to(at::kFloat);
    }
    auto avg = state.find(s.name + ".exp_avg");
    auto sq = state.find(s.name + ".exp_avg_sq");
    if (avg == state.end() && sq == state.end()) continue;  // never updated
    for (auto it : {avg, sq}) {
      if (it == state.end()) {
        return absl::DataLossError(absl::StrCat("optimizer state: incomplete for '", s.name, "'"));
      }
      if (it->second.sizes() != s.param.sizes()) {
        return absl::DataLossError(absl::StrCat("optimizer state: '", it->first, "' has shape ",
                                                c10::str(it->second.sizes()), ", parameter has ",
                                                c10::str(s.param.sizes())));
      }
    }
    const at::TensorOptions options = s.master.defined() ? s.master.options() : s.param.options();
    loaded[i] = {avg->second.to(options).clone(), sq->second.to(options).clone()};
  }
  step_ = step->second.item<int64_t>();
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].exp_avg = loaded[i].first;
    slots_[i].exp_avg_sq = loaded[i].second;
    if (masters[i].defined()) slots_[i].master = masters[i];
  }
  return absl::OkStatus();
}

}  // namespace forge::rl
