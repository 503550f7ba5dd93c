"""An independent float64 reference of Hugging Face's DeepseekV3ForCausalLM forward pass, written in
plain PyTorch for Debian's python3-torch (no transformers there). It follows HF's conventions where
they differ from Forge's: RoPE pairs are de-interleaved and rotated with rotate_half, group-limited
routing fills dropped experts with 0.0, and experts run one at a time over their tokens.

usage: hf_reference.py CHECKPOINT_DIR IDS_JSON OUT_JSON
  IDS_JSON: [[token ids of sequence 0], ...]; OUT_JSON gets {"logits": [[[...V] per position] per sequence]}
"""
import json
import math
import struct
import sys

sys.path.append("/usr/lib/python3/dist-packages")
try:
    import torch  # noqa: E402
except ImportError:
    sys.exit(77)  # the test skips: no python3-torch here

DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16, "F16": torch.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        buf = bytearray(data[base + begin:base + end])
        t = torch.frombuffer(buf, dtype=DTYPES[e["dtype"]]) if end > begin else torch.empty(0)
        out[name] = t.reshape(e["shape"]).to(torch.float64)
    return out


def yarn_mscale(scale, m):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def rope_tables(cfg, seq_len):
    dim, base = cfg["qk_rope_head_dim"], cfg["rope_theta"]
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    scale = 1.0
    rs = cfg.get("rope_scaling")
    if rs:
        factor = rs["factor"]
        orig = rs["original_max_position_embeddings"]

        def corr(rot):
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low = max(math.floor(corr(rs["beta_fast"])), 0)
        high = min(math.ceil(corr(rs["beta_slow"])), dim - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        extra_mask = 1.0 - ramp
        inv = (inv / factor) * (1 - extra_mask) + inv * extra_mask
        scale = yarn_mscale(factor, rs.get("mscale", 1)) / yarn_mscale(factor, rs.get("mscale_all_dim", 0))
    freqs = torch.outer(torch.arange(seq_len, dtype=torch.float64), inv)
    emb = torch.cat([freqs, freqs], -1)
    return emb.cos() * scale, emb.sin() * scale


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def apply_rope_hf(x, cos, sin):  # x [b, h, s, d]; HF de-interleaves pairs first
    b, h, s, d = x.shape
    x = x.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    return x * cos + rotate_half(x) * sin


def rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def mlp(w, p, x):
    return torch.nn.functional.linear(
        torch.nn.functional.silu(torch.nn.functional.linear(x, w[p + "gate_proj.weight"]))
        * torch.nn.functional.linear(x, w[p + "up_proj.weight"]),
        w[p + "down_proj.weight"])


def attention(cfg, w, p, x, cos, sin):
    lin = torch.nn.functional.linear
    b, s, _ = x.shape
    H, dn, dr, dv, r = (cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"],
                        cfg["v_head_dim"], cfg["kv_lora_rank"])
    eps = cfg["rms_norm_eps"]
    if cfg.get("q_lora_rank"):
        q = lin(rms(lin(x, w[p + "q_a_proj.weight"]), w[p + "q_a_layernorm.weight"], eps), w[p + "q_b_proj.weight"])
    else:
        q = lin(x, w[p + "q_proj.weight"])
    q = q.view(b, s, H, dn + dr).transpose(1, 2)
    q_nope, q_pe = q[..., :dn], q[..., dn:]
    ckv = lin(x, w[p + "kv_a_proj_with_mqa.weight"])
    c, k_pe = ckv[..., :r], ckv[..., r:]
    k_pe = k_pe.view(b, s, 1, dr).transpose(1, 2)
    kv = lin(rms(c, w[p + "kv_a_layernorm.weight"], eps), w[p + "kv_b_proj.weight"])
    kv = kv.view(b, s, H, dn + dv).transpose(1, 2)
    k_nope, v = kv[..., :dn], kv[..., dn:]
    q_pe = apply_rope_hf(q_pe, cos, sin)
    k_pe = apply_rope_hf(k_pe, cos, sin).expand(b, H, s, dr)
    query = torch.cat([q_nope, q_pe], -1)
    key = torch.cat([k_nope, k_pe], -1)
    scale = (dn + dr) ** -0.5
    rs = cfg.get("rope_scaling")
    if rs and rs.get("mscale_all_dim", 0):
        m = yarn_mscale(rs["factor"], rs["mscale_all_dim"])
        scale = scale * m * m
    scores = query @ key.transpose(2, 3) * scale
    causal = torch.ones(s, s, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    out = scores.softmax(-1) @ v
    return lin(out.transpose(1, 2).reshape(b, s, H * dv), w[p + "o_proj.weight"])


def moe(cfg, w, p, x):
    b, s, d = x.shape
    t = x.reshape(-1, d)
    logits = torch.nn.functional.linear(t, w[p + "gate.weight"])
    scores = logits.sigmoid() if cfg["scoring_func"] == "sigmoid" else logits.softmax(-1)
    E, K = cfg["n_routed_experts"], cfg["num_experts_per_tok"]
    G, TG = cfg["n_group"], cfg["topk_group"]
    if cfg["topk_method"] == "noaux_tc":
        choice = scores + w[p + "gate.e_score_correction_bias"]
        group_scores = choice.view(-1, G, E // G).topk(2, dim=-1)[0].sum(-1)
    else:
        choice = scores
        group_scores = choice.view(-1, G, E // G).max(-1).values
    if cfg["topk_method"] != "greedy":
        group_idx = group_scores.topk(TG, dim=-1, sorted=False)[1]
        group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1)
        score_mask = group_mask.unsqueeze(-1).expand(-1, G, E // G).reshape(-1, E)
        choice = choice.masked_fill(~score_mask.bool(), 0.0)
    idx = choice.topk(K, dim=-1, sorted=False)[1]
    weight = scores.gather(1, idx)
    if K > 1 and cfg["norm_topk_prob"]:
        weight = weight / (weight.sum(-1, keepdim=True) + 1e-20)
    weight = weight * cfg["routed_scaling_factor"]
    out = torch.zeros_like(t)
    for e in range(E):
        tok, slot = torch.where(idx == e)
        if tok.numel():
            out.index_add_(0, tok, mlp(w, p + "experts.%d." % e, t[tok]) * weight[tok, slot].unsqueeze(-1))
    if cfg.get("n_shared_experts"):
        out = out + mlp(w, p + "shared_experts.", t)
    return out.view(b, s, d)


def forward(cfg, w, ids):
    eps = cfg["rms_norm_eps"]
    x = w["model.embed_tokens.weight"][ids]
    cos, sin = rope_tables(cfg, ids.shape[1])
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        x = x + attention(cfg, w, p + "self_attn.", rms(x, w[p + "input_layernorm.weight"], eps), cos, sin)
        h = rms(x, w[p + "post_attention_layernorm.weight"], eps)
        is_moe = (cfg["n_routed_experts"] and i >= cfg["first_k_dense_replace"]
                  and i % cfg.get("moe_layer_freq", 1) == 0)
        x = x + (moe(cfg, w, p + "mlp.", h) if is_moe else mlp(w, p + "mlp.", h))
    x = rms(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return torch.nn.functional.linear(x, head)


def main():
    ckpt, ids_path, out_path = sys.argv[1:4]
    with open(ckpt + "/config.json") as f:
        cfg = json.load(f)
    w = load_safetensors(ckpt + "/model.safetensors")
    with open(ids_path) as f:
        seqs = json.load(f)
    logits = [forward(cfg, w, torch.tensor([s])).squeeze(0).tolist() for s in seqs]
    with open(out_path, "w") as f:
        json.dump({"logits": logits}, f)


if __name__ == "__main__":
    main()
