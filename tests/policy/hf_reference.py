"""An independent float64 reference of Hugging Face's causal LMs for the families Forge runs
(config.json "model_type": deepseek_v2, deepseek_v3, qwen2, llama, qwen3, qwen3_moe), written in
plain PyTorch for Debian's python3-torch (no transformers there). It follows each family's released
code where it differs from Forge's: DeepSeek's RoPE pairs are de-interleaved and rotated with
rotate_half, GQA families rotate halves, group-limited routing fills dropped experts with 0.0,
DeepSeek-V2 scales routing weights only when it does not renormalise them, Qwen3-MoE renormalises
for any top-k, and experts run one at a time over their tokens.

It reads the checkpoint as stored: model.safetensors or the shards of model.safetensors.index.json,
F32/F16/BF16 tensors, and DeepSeek-V3's F8_E4M3 weights dequantized with their weight_scale_inv
blocks (decoded here from the bit fields, independently of Forge's table).

usage: hf_reference.py CHECKPOINT_DIR IDS_JSON OUT_JSON
  IDS_JSON: [[token ids of sequence 0], ...]; OUT_JSON gets {"logits": [[[...V] per position] per sequence]}
"""
import json
import math
import os
import struct
import sys

sys.path.append("/usr/lib/python3/dist-packages")
try:
    import torch  # noqa: E402
except ImportError:
    sys.exit(77)  # the test skips: no python3-torch here

DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16, "F16": torch.float16,
          "F8_E4M3": torch.uint8}
MLA_FAMILIES = ("deepseek_v2", "deepseek_v3")
lin = torch.nn.functional.linear


# ---- checkpoint files ---------------------------------------------------------------------------

def read_safetensors(path):
    """name -> (dtype name, tensor as stored: uint8 codes for F8_E4M3)."""
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
        dtype = DTYPES[e["dtype"]]
        t = torch.frombuffer(buf, dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = (e["dtype"], t.reshape(e["shape"]))
    return out


def e4m3_to_float64(codes):
    """float8 e4m3fn: sign, 4 exponent bits (bias 7), 3 mantissa bits; exponent 0 is subnormal."""
    c = codes.to(torch.int64)
    sign = torch.where((c >> 7) == 1, -1.0, 1.0).to(torch.float64)
    exponent = (c >> 3) & 0xF
    mantissa = (c & 0x7).to(torch.float64)
    normal = (1.0 + mantissa / 8.0) * torch.pow(2.0, (exponent - 7).to(torch.float64))
    subnormal = mantissa / 8.0 * 2.0 ** -6
    value = sign * torch.where(exponent == 0, subnormal, normal)
    return torch.where((exponent == 0xF) & ((c & 0x7) == 0x7), torch.tensor(float("nan"),
                                                                             dtype=torch.float64), value)


def dequantize(codes, scale_inv, block):
    rows, cols = codes.shape
    s = scale_inv.to(torch.float64).repeat_interleave(block[0], 0).repeat_interleave(block[1], 1)
    return e4m3_to_float64(codes) * s[:rows, :cols]


def load_weights(ckpt, cfg):
    """Every tensor of the checkpoint in float64, FP8 weights dequantized (scales consumed)."""
    index = os.path.join(ckpt, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    stored = {}
    for file in files:
        stored.update(read_safetensors(os.path.join(ckpt, file)))
    block = (cfg.get("quantization_config") or {}).get("weight_block_size", [128, 128])
    w = {}
    for name, (dtype, t) in stored.items():
        if name.endswith("_scale_inv"):
            continue
        if dtype == "F8_E4M3":
            w[name] = dequantize(t, stored[name + "_scale_inv"][1], block)
        else:
            w[name] = t.to(torch.float64)
    return w


# ---- shared pieces ------------------------------------------------------------------------------

def rms(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def mlp(w, p, x, bias=False):
    def proj(name, h):
        return lin(h, w[p + name + ".weight"], w[p + name + ".bias"] if bias else None)
    return proj("down_proj", torch.nn.functional.silu(proj("gate_proj", x)) * proj("up_proj", x))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def causal_softmax(scores):
    s = scores.shape[-1]
    causal = torch.ones(s, s, dtype=torch.bool).tril()
    return scores.masked_fill(~causal, float("-inf")).softmax(-1)


def yarn_mscale(scale, m):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def rope_scaling(cfg):
    rs = cfg.get("rope_scaling")
    if not rs or rs.get("rope_type", rs.get("type")) == "default":
        return None
    return rs


def inv_freq(cfg, dim):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    rs = rope_scaling(cfg)
    if rs is None:
        return inv, 1.0
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "llama3":  # transformers' _compute_llama3_parameters
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        return torch.where(medium, smoothed, scaled), 1.0
    # yarn (DeepSeek's yarn_find_correction_range / yarn_linear_ramp_mask)
    factor, orig = rs["factor"], rs["original_max_position_embeddings"]

    def corr(rot):
        return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

    low = max(math.floor(corr(rs.get("beta_fast", 32))), 0)
    high = min(math.ceil(corr(rs.get("beta_slow", 1))), dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    extra = 1.0 - ramp
    inv = (inv / factor) * (1 - extra) + inv * extra
    scale = yarn_mscale(factor, rs.get("mscale", 1)) / yarn_mscale(factor, rs.get("mscale_all_dim", 0))
    return inv, scale


def rope_tables(cfg, dim, seq_len):
    inv, scale = inv_freq(cfg, dim)
    freqs = torch.outer(torch.arange(seq_len, dtype=torch.float64), inv)
    emb = torch.cat([freqs, freqs], -1)
    return emb.cos() * scale, emb.sin() * scale


# ---- attention ----------------------------------------------------------------------------------

def mla_attention(cfg, w, p, x):
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
    cos, sin = rope_tables(cfg, dr, s)

    def rope(t):  # DeepSeek de-interleaves the pairs, then rotates halves
        bb, hh, ss, d = t.shape
        t = t.view(bb, hh, ss, d // 2, 2).transpose(4, 3).reshape(bb, hh, ss, d)
        return t * cos + rotate_half(t) * sin

    q_pe = rope(q_pe)
    k_pe = rope(k_pe).expand(b, H, s, dr)
    query = torch.cat([q_nope, q_pe], -1)
    key = torch.cat([k_nope, k_pe], -1)
    scale = (dn + dr) ** -0.5
    rs = rope_scaling(cfg)
    if rs and rs.get("mscale_all_dim", 0):
        m = yarn_mscale(rs["factor"], rs["mscale_all_dim"])
        scale = scale * m * m
    out = causal_softmax(query @ key.transpose(2, 3) * scale) @ v
    return lin(out.transpose(1, 2).reshape(b, s, H * dv), w[p + "o_proj.weight"])


def gqa_attention(cfg, w, p, x):
    family = cfg["model_type"]
    b, s, _ = x.shape
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    eps = cfg["rms_norm_eps"]
    qkv_bias = family == "qwen2" or cfg.get("attention_bias", False)
    o_bias = family != "qwen2" and cfg.get("attention_bias", False)

    def proj(name, h, bias):
        return lin(h, w[p + name + ".weight"], w[p + name + ".bias"] if bias else None)

    q = proj("q_proj", x, qkv_bias).view(b, s, H, hd)
    k = proj("k_proj", x, qkv_bias).view(b, s, KV, hd)
    v = proj("v_proj", x, qkv_bias).view(b, s, KV, hd).transpose(1, 2)
    if family in ("qwen3", "qwen3_moe"):
        q = rms(q, w[p + "q_norm.weight"], eps)
        k = rms(k, w[p + "k_norm.weight"], eps)
    q, k = q.transpose(1, 2), k.transpose(1, 2)
    cos, sin = rope_tables(cfg, hd, s)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    k = k.repeat_interleave(H // KV, dim=1)  # transformers' repeat_kv
    v = v.repeat_interleave(H // KV, dim=1)
    out = causal_softmax(q @ k.transpose(2, 3) * hd ** -0.5) @ v
    return proj("o_proj", out.transpose(1, 2).reshape(b, s, H * hd), o_bias)


# ---- feed-forward -------------------------------------------------------------------------------

def run_experts(w, p, t, idx, weight, n_experts):
    out = torch.zeros_like(t)
    for e in range(n_experts):
        tok, slot = torch.where(idx == e)
        if tok.numel():
            out.index_add_(0, tok, mlp(w, p + "experts.%d." % e, t[tok]) * weight[tok, slot].unsqueeze(-1))
    return out


def deepseek_moe(cfg, w, p, x):
    family = cfg["model_type"]
    b, s, d = x.shape
    t = x.reshape(-1, d)
    logits = lin(t, w[p + "gate.weight"])
    scores = logits.sigmoid() if cfg.get("scoring_func", "softmax") == "sigmoid" else logits.softmax(-1)
    E, K = cfg["n_routed_experts"], cfg["num_experts_per_tok"]
    G, TG = cfg.get("n_group") or 1, cfg.get("topk_group") or 1
    method = cfg.get("topk_method", "greedy")
    if method == "noaux_tc":
        choice = scores + w[p + "gate.e_score_correction_bias"]
        group_scores = choice.view(-1, G, E // G).topk(2, dim=-1)[0].sum(-1)
    else:
        choice = scores
        group_scores = choice.view(-1, G, E // G).max(-1).values
    if method != "greedy":
        group_idx = group_scores.topk(TG, dim=-1, sorted=False)[1]
        group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1)
        score_mask = group_mask.unsqueeze(-1).expand(-1, G, E // G).reshape(-1, E)
        choice = choice.masked_fill(~score_mask.bool(), 0.0)
    idx = choice.topk(K, dim=-1, sorted=False)[1]
    weight = scores.gather(1, idx)
    normalise = K > 1 and cfg.get("norm_topk_prob", False)
    if normalise:
        weight = weight / (weight.sum(-1, keepdim=True) + 1e-20)
    if family == "deepseek_v3" or not normalise:  # V2 scales only what it did not renormalise
        weight = weight * cfg.get("routed_scaling_factor", 1.0)
    out = run_experts(w, p, t, idx, weight, E)
    if cfg.get("n_shared_experts"):
        out = out + mlp(w, p + "shared_experts.", t)
    return out.view(b, s, d)


def qwen3_moe(cfg, w, p, x):
    b, s, d = x.shape
    t = x.reshape(-1, d)
    probs = lin(t, w[p + "gate.weight"]).softmax(-1)
    weight, idx = probs.topk(cfg["num_experts_per_tok"], dim=-1)
    if cfg.get("norm_topk_prob", False):
        weight = weight / weight.sum(-1, keepdim=True)
    return run_experts(w, p, t, idx, weight, cfg["num_experts"]).view(b, s, d)


def is_moe_layer(cfg, i):
    if cfg["model_type"] == "qwen3_moe":
        return (cfg.get("num_experts", 0) > 0 and i not in (cfg.get("mlp_only_layers") or [])
                and (i + 1) % cfg.get("decoder_sparse_step", 1) == 0)
    if cfg["model_type"] in MLA_FAMILIES:
        return bool(cfg.get("n_routed_experts")) and i >= cfg.get("first_k_dense_replace", 0) \
            and i % cfg.get("moe_layer_freq", 1) == 0
    return False


# ---- the model ----------------------------------------------------------------------------------

def forward(cfg, w, ids):
    cfg = dict(cfg)
    cfg.setdefault("model_type", "deepseek_v3")
    family = cfg["model_type"]
    eps = cfg["rms_norm_eps"]
    x = w["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        h = rms(x, w[p + "input_layernorm.weight"], eps)
        attention = mla_attention if family in MLA_FAMILIES else gqa_attention
        x = x + attention(cfg, w, p + "self_attn.", h)
        h = rms(x, w[p + "post_attention_layernorm.weight"], eps)
        if not is_moe_layer(cfg, i):
            x = x + mlp(w, p + "mlp.", h, bias=cfg.get("mlp_bias", False))
        elif family == "qwen3_moe":
            x = x + qwen3_moe(cfg, w, p + "mlp.", h)
        else:
            x = x + deepseek_moe(cfg, w, p + "mlp.", h)
    x = rms(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return lin(x, head)


def logits_of(ckpt, seqs):
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg = json.load(f)
    w = load_weights(ckpt, cfg)
    return [forward(cfg, w, torch.tensor([s])).squeeze(0).tolist() for s in seqs]


def main():
    ckpt, ids_path, out_path = sys.argv[1:4]
    with open(ids_path) as f:
        seqs = json.load(f)
    with open(out_path, "w") as f:
        json.dump({"logits": logits_of(ckpt, seqs)}, f)


if __name__ == "__main__":
    main()
