"""Reference GRPO formulas, written the way verl and TRL write them, for cross-checking Forge's C++.

Reads one JSON document on stdin: {"cases": [{"name", "config", "inputs"}]}, each input tensor a
nested list. Writes {"results": [{"name", "verl": {...}, "trl": {...} | null}]} on stdout, with the
loss, its gradient w.r.t. log_probs_new (and entropy), and the metrics. Run by Debian's python3-torch.
"""
import json
import sys

sys.path.append("/usr/lib/python3/dist-packages")
import torch  # noqa: E402


def t(x, grad=False):
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


def masked_mean(v, mask):
    return (v * mask).sum() / mask.sum()


# ---- verl: verl/trainer/ppo/core_algos.py (agg_loss, kl_penalty, compute_policy_loss) ----------

def verl_agg_loss(loss_mat, loss_mask, mode, norm_length):
    if mode == "token-mean":
        return masked_mean(loss_mat, loss_mask)
    if mode == "seq-mean-token-sum":
        return torch.sum(loss_mat * loss_mask, dim=-1).mean()
    if mode == "seq-mean-token-mean":
        return (torch.sum(loss_mat * loss_mask, dim=-1) / torch.sum(loss_mask, dim=-1)).mean()
    if mode == "seq-mean-token-sum-norm":
        # Dr. GRPO: a constant divisor; mean over sequences (TRL's dr_grpo normalisation).
        seq = torch.sum(loss_mat * loss_mask, dim=-1)
        return seq.sum() / (loss_mask.shape[0] * norm_length)
    raise ValueError(mode)


def verl_kl(logprob, ref_logprob, kind):
    if kind == "k1":
        return logprob - ref_logprob
    if kind == "k2":
        return 0.5 * (logprob - ref_logprob).square()
    if kind == "k3":
        kl = torch.clamp(ref_logprob - logprob, min=-20, max=20)
        return torch.clamp(torch.exp(kl) - kl - 1, min=-10, max=10)
    raise ValueError(kind)


def verl_loss(inp, cfg):
    lp = t(inp["log_probs_new"], grad=True)
    old = t(inp["log_probs_old"])
    adv = t(inp["advantages"])
    mask = t(inp["mask"])
    norm_length = cfg["norm_length"] or mask.shape[-1]
    mode = cfg["agg"]

    negative_approx_kl = torch.clamp(lp - old, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    pg_losses1 = -adv * ratio
    pg_losses2 = -adv * torch.clamp(ratio, 1 - cfg["clip_ratio_low"], 1 + cfg["clip_ratio_high"])
    clip_pg_losses1 = torch.maximum(pg_losses1, pg_losses2)
    clipfrac = masked_mean(torch.gt(pg_losses2, pg_losses1).double(), mask)
    pg_losses = clip_pg_losses1
    clipfrac_lower = torch.tensor(0.0)
    if cfg["clip_ratio_c"] > 0:
        pg_losses3 = -adv * cfg["clip_ratio_c"]
        clip_pg_losses2 = torch.min(pg_losses3, clip_pg_losses1)
        clipfrac_lower = masked_mean(
            (torch.gt(clip_pg_losses1, pg_losses3) * (adv < 0)).double(), mask)
        pg_losses = torch.where(adv < 0, clip_pg_losses2, clip_pg_losses1)
    if cfg["tis_cap"] > 0:
        rollout = t(inp["log_probs_rollout"])
        pg_losses = pg_losses * torch.exp(old - rollout).clamp(max=cfg["tis_cap"])
    loss = verl_agg_loss(pg_losses, mask, mode, norm_length)
    pg = loss.item()
    kl_value = 0.0
    if cfg["kl_coef"] > 0:
        ref = t(inp["log_probs_ref"])
        kl = verl_agg_loss(verl_kl(lp, ref, cfg["kl_estimator"]), mask, mode, norm_length)
        kl_value = kl.item()
        loss = loss + cfg["kl_coef"] * kl
    ent_grad = None
    ent_value = 0.0
    if "entropy" in inp:
        ent = t(inp["entropy"], grad=True)
        e = verl_agg_loss(ent, mask, mode, norm_length)
        ent_value = e.item()
        loss = loss - cfg["entropy_coef"] * e
    loss.backward()
    out = {
        "loss": loss.item(), "pg_loss": pg, "kl": kl_value, "entropy": ent_value,
        "clip_fraction": clipfrac.item(), "clip_fraction_lower": float(clipfrac_lower),
        "grad": lp.grad.tolist(),
    }
    if "entropy" in inp:
        out["entropy_grad"] = ent.grad.tolist()
    return out


# ---- TRL: trl/trainer/grpo_trainer.py (_compute_loss), loss types bnpo / grpo / dr_grpo ---------

TRL_LOSS_TYPES = {"token-mean": "bnpo", "seq-mean-token-mean": "grpo",
                  "seq-mean-token-sum-norm": "dr_grpo"}


def trl_loss(inp, cfg):
    loss_type = TRL_LOSS_TYPES.get(cfg["agg"])
    # TRL has no dual clip, no TIS, no entropy bonus, and only the k3 estimator.
    if (loss_type is None or cfg["clip_ratio_c"] > 0 or cfg["tis_cap"] > 0
            or cfg["entropy_coef"] != 0
            or (cfg["kl_coef"] > 0 and cfg["kl_estimator"] != "k3")):
        return None
    per_token_logps = t(inp["log_probs_new"], grad=True)
    old = t(inp["log_probs_old"])
    adv = t(inp["advantages"])
    completion_mask = t(inp["mask"])
    coef_1 = torch.exp(per_token_logps - old)
    coef_2 = torch.clamp(coef_1, 1 - cfg["clip_ratio_low"], 1 + cfg["clip_ratio_high"])
    per_token_loss1 = coef_1 * adv
    per_token_loss2 = coef_2 * adv
    per_token_loss = -torch.min(per_token_loss1, per_token_loss2)
    if cfg["kl_coef"] > 0:
        ref = t(inp["log_probs_ref"])
        per_token_kl = torch.exp(ref - per_token_logps) - (ref - per_token_logps) - 1
        per_token_loss = per_token_loss + cfg["kl_coef"] * per_token_kl
    max_len = cfg["norm_length"] or completion_mask.shape[-1]
    if loss_type == "grpo":
        loss = ((per_token_loss * completion_mask).sum(-1)
                / completion_mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token_loss * completion_mask).sum() / completion_mask.sum().clamp(min=1.0)
    else:
        loss = (per_token_loss * completion_mask).sum() / (per_token_loss.size(0) * max_len)
    loss.backward()
    return {"loss": loss.item(), "grad": per_token_logps.grad.tolist()}


# ---- advantages: verl compute_grpo_outcome_advantage / rloo / reinforce++ -------------------------

def advantages(inp, estimator, eps):
    scores = t(inp["scores"])
    ids = inp["group_ids"]
    mask = t(inp["mask"])
    groups = {}
    for i, g in enumerate(ids):
        groups.setdefault(g, []).append(i)
    out = scores.clone()
    if estimator == "reinforce_plus_plus":
        adv = scores.unsqueeze(-1) * mask
    else:
        for members in groups.values():
            s = scores[members]
            n = len(members)
            if n == 1:
                out[members] = 0.0
            elif estimator == "grpo":
                out[members] = (s - s.mean()) / (s.std() + eps)
            elif estimator == "rloo":
                out[members] = s * n / (n - 1) - s.mean() * n / (n - 1)
            else:  # dr_grpo, reinforce_plus_plus_baseline
                out[members] = s - s.mean()
        adv = out.unsqueeze(-1) * mask
    if estimator.startswith("reinforce_plus_plus"):
        mean = masked_mean(adv, mask)
        var = masked_mean((adv - mean) ** 2, mask)
        var = var * mask.sum() / (mask.sum() - 1)
        adv = (adv - mean) * torch.rsqrt(var + 1e-8) * mask
    return adv.tolist()


def main():
    doc = json.load(sys.stdin)
    results = []
    for case in doc["cases"]:
        if case.get("kind") == "advantages":
            results.append({"name": case["name"],
                            "advantages": advantages(case["inputs"], case["estimator"],
                                                     case["eps"])})
            continue
        results.append({"name": case["name"], "verl": verl_loss(case["inputs"], case["config"]),
                        "trl": trl_loss(case["inputs"], case["config"])})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
