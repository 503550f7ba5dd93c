"""Writes a random checkpoint of one family in its Hugging Face layout, as the released models ship
it, and (optionally) the float64 reference logits of some token ids (hf_reference.py).

The tensor list below is this script's own statement of each family's layout (names and shapes of
transformers' DeepseekV3ForCausalLM, Qwen2ForCausalLM, LlamaForCausalLM, Qwen3ForCausalLM,
Qwen3MoeForCausalLM and DeepSeek's DeepseekV2ForCausalLM), independent of Forge's modules.

usage: hf_write_checkpoint.py --config PUBLISHED_CONFIG_JSON --overrides JSON --out DIR
         [--seed N] [--storage f32|bf16|f16|fp8] [--shards N] [--ids IDS_JSON --logits OUT_JSON]
       hf_write_checkpoint.py --specs SPECS_JSON
  SPECS_JSON: a list of objects with those option names as keys, all written by one process.
  --storage fp8: DeepSeek-V3's release layout: every projection inside the decoder layers in
  F8_E4M3 with a float32 weight_scale_inv per 128x128 block, everything else in BF16 (routing
  biases in F32). deepseek_v3 configs with num_nextn_predict_layers also get that many
  multi-token-prediction layers after the last decoder layer.
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.append("/usr/lib/python3/dist-packages")
try:
    import torch  # noqa: E402
except ImportError:
    sys.exit(77)  # the test skips: no python3-torch here
import hf_reference  # noqa: E402

# ---- the layouts --------------------------------------------------------------------------------


def attention_tensors(cfg, p):
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    family = cfg["model_type"]
    if family in hf_reference.MLA_FAMILIES:
        dq = cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]
        r, dr, dv = cfg["kv_lora_rank"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
        out = []
        if cfg.get("q_lora_rank"):
            q = cfg["q_lora_rank"]
            out += [(p + "q_a_proj.weight", [q, D]), (p + "q_a_layernorm.weight", [q]),
                    (p + "q_b_proj.weight", [H * dq, q])]
        else:
            out += [(p + "q_proj.weight", [H * dq, D])]
        return out + [(p + "kv_a_proj_with_mqa.weight", [r + dr, D]), (p + "kv_a_layernorm.weight", [r]),
                      (p + "kv_b_proj.weight", [H * (cfg["qk_nope_head_dim"] + dv), r]),
                      (p + "o_proj.weight", [D, H * dv])]
    KV = cfg.get("num_key_value_heads") or H
    hd = cfg.get("head_dim") or D // H
    qkv_bias = family == "qwen2" or cfg.get("attention_bias", False)
    o_bias = family != "qwen2" and cfg.get("attention_bias", False)
    out = [(p + "q_proj.weight", [H * hd, D]), (p + "k_proj.weight", [KV * hd, D]),
           (p + "v_proj.weight", [KV * hd, D]), (p + "o_proj.weight", [D, H * hd])]
    if qkv_bias:
        out += [(p + "q_proj.bias", [H * hd]), (p + "k_proj.bias", [KV * hd]), (p + "v_proj.bias", [KV * hd])]
    if o_bias:
        out += [(p + "o_proj.bias", [D])]
    if family in ("qwen3", "qwen3_moe"):
        out += [(p + "q_norm.weight", [hd]), (p + "k_norm.weight", [hd])]
    return out


def mlp_tensors(p, d, inter, bias=False):
    out = [(p + "gate_proj.weight", [inter, d]), (p + "up_proj.weight", [inter, d]),
           (p + "down_proj.weight", [d, inter])]
    if bias:
        out += [(p + "gate_proj.bias", [inter]), (p + "up_proj.bias", [inter]), (p + "down_proj.bias", [d])]
    return out


def layer_tensors(cfg, i, moe):
    D = cfg["hidden_size"]
    p = "model.layers.%d." % i
    out = [(p + "input_layernorm.weight", [D]), (p + "post_attention_layernorm.weight", [D])]
    out += attention_tensors(cfg, p + "self_attn.")
    m = p + "mlp."
    if not moe:
        return out + mlp_tensors(m, D, cfg["intermediate_size"], cfg.get("mlp_bias", False))
    if cfg["model_type"] == "qwen3_moe":
        E = cfg["num_experts"]
        out += [(m + "gate.weight", [E, D])]
    else:
        E = cfg["n_routed_experts"]
        out += [(m + "gate.weight", [E, D])]
        if cfg.get("topk_method") == "noaux_tc":
            out += [(m + "gate.e_score_correction_bias", [E])]
        if cfg.get("n_shared_experts"):
            out += mlp_tensors(m + "shared_experts.", D, cfg["moe_intermediate_size"] * cfg["n_shared_experts"])
    for e in range(E):
        out += mlp_tensors(m + "experts.%d." % e, D, cfg["moe_intermediate_size"])
    return out


def mtp_tensors(cfg, i):
    """DeepSeek-V3's multi-token-prediction layer i (>= num_hidden_layers): a decoder layer plus
    enorm, hnorm, eh_proj, its shared head and embedding."""
    D, V = cfg["hidden_size"], cfg["vocab_size"]
    p = "model.layers.%d." % i
    return layer_tensors(cfg, i, True) + [
        (p + "enorm.weight", [D]), (p + "hnorm.weight", [D]), (p + "eh_proj.weight", [D, 2 * D]),
        (p + "shared_head.norm.weight", [D]), (p + "shared_head.head.weight", [V, D]),
        (p + "embed_tokens.weight", [V, D])]


def model_tensors(cfg):
    D, V = cfg["hidden_size"], cfg["vocab_size"]
    out = [("model.embed_tokens.weight", [V, D])]
    for i in range(cfg["num_hidden_layers"]):
        out += layer_tensors(cfg, i, hf_reference.is_moe_layer(cfg, i))
    out += [("model.norm.weight", [D])]
    if not cfg.get("tie_word_embeddings"):
        out += [("lm_head.weight", [V, D])]
    if cfg["model_type"] == "deepseek_v3":
        for k in range(cfg.get("num_nextn_predict_layers", 0)):
            out += mtp_tensors(cfg, cfg["num_hidden_layers"] + k)
    return out


# ---- values and storage -------------------------------------------------------------------------

def random_value(name, shape, gen):
    if name.endswith("norm.weight"):
        return 1.0 + 0.2 * torch.randn(shape, generator=gen, dtype=torch.float64)
    if name.endswith(".bias") or name.endswith("e_score_correction_bias"):
        return 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
    if name.endswith("embed_tokens.weight"):
        return torch.randn(shape, generator=gen, dtype=torch.float64)
    # Matrices ~ N(0, 1/fan_in), routers sharper so that routing is decisive.
    scale = 3.0 if name.endswith("gate.weight") else 1.0
    return scale * torch.randn(shape, generator=gen, dtype=torch.float64) / shape[-1] ** 0.5


E4M3_POSITIVE = hf_reference.e4m3_to_float64(torch.arange(127, dtype=torch.uint8))  # 0 .. 448, sorted


def quantize_e4m3(values, gen, block):
    """values [R, C] -> (codes uint8, scale_inv float32 [ceil(R/br), ceil(C/bc)]): per block a random
    scale, each value divided by it and rounded to the nearest e4m3 number."""
    rows, cols = values.shape
    br, bc = block
    scale = (0.5 + torch.rand(((rows + br - 1) // br, (cols + bc - 1) // bc), generator=gen,
                              dtype=torch.float64)) * values.abs().max() / 224.0
    scale = scale.to(torch.float32).to(torch.float64)
    full = scale.repeat_interleave(br, 0).repeat_interleave(bc, 1)[:rows, :cols]
    x = values / full
    midpoints = (E4M3_POSITIVE[1:] + E4M3_POSITIVE[:-1]) / 2
    magnitude = torch.bucketize(x.abs(), midpoints).clamp(max=126)
    codes = magnitude + torch.where(x < 0, 128, 0)
    return codes.to(torch.uint8), scale.to(torch.float32)


def fp8_stored(name, cfg):
    """DeepSeek-V3's FP8 release: the projections inside decoder layers (not the router)."""
    return (name.startswith("model.layers.") and name.endswith("proj.weight")
            and ".mlp.gate." not in name and "shared_head" not in name)


def stored_dtype(name, storage):
    if storage == "f32":
        return "F32"
    if storage == "f16":
        return "F16"
    if name.endswith("e_score_correction_bias"):
        return "F32"
    return "BF16"


def to_bytes(t, dtype):
    if dtype == "F32":
        return t.to(torch.float32).numpy().tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().tobytes()
    if dtype == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
    if dtype == "F8_E4M3":
        return t.numpy().tobytes()
    raise ValueError(dtype)


def write_safetensors(path, entries):
    """entries: [(name, dtype, shape, bytes)]"""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for _, _, _, data in entries:
            f.write(data)


def write_checkpoint(cfg, out, seed, storage, shards):
    gen = torch.Generator().manual_seed(seed)
    block = (cfg.get("quantization_config") or {}).get("weight_block_size", [128, 128])
    entries = []
    for name, shape in model_tensors(cfg):
        value = random_value(name, shape, gen)
        if storage == "fp8" and fp8_stored(name, cfg):
            codes, scale = quantize_e4m3(value, gen, block)
            entries.append((name, "F8_E4M3", shape, to_bytes(codes, "F8_E4M3")))
            entries.append((name + "_scale_inv", "F32", list(scale.shape), to_bytes(scale, "F32")))
        else:
            dtype = stored_dtype(name, storage)
            entries.append((name, dtype, shape, to_bytes(value, dtype)))
    os.makedirs(out, exist_ok=True)
    if shards <= 1:
        write_safetensors(os.path.join(out, "model.safetensors"), entries)
    else:
        total = sum(len(e[3]) for e in entries)
        groups, size = [[]], 0
        for e in entries:
            if groups[-1] and size + len(e[3]) > total / shards and len(groups) < shards:
                groups.append([])
                size = 0
            groups[-1].append(e)
            size += len(e[3])
        weight_map = {}
        for k, group in enumerate(groups):
            file = "model-%05d-of-%05d.safetensors" % (k + 1, len(groups))
            write_safetensors(os.path.join(out, file), group)
            weight_map.update({e[0]: file for e in group})
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def make(spec):
    with open(spec["config"]) as f:
        cfg = json.load(f)
    cfg.update(spec.get("overrides", {}))
    storage = spec.get("storage", "f32")
    if storage == "fp8":
        cfg.setdefault("quantization_config", {"activation_scheme": "dynamic", "fmt": "e4m3",
                                               "quant_method": "fp8", "weight_block_size": [128, 128]})
    else:
        cfg.pop("quantization_config", None)
    cfg["torch_dtype"] = {"f32": "float32", "bf16": "bfloat16", "f16": "float16", "fp8": "bfloat16"}[storage]
    write_checkpoint(cfg, spec["out"], spec.get("seed", 0), storage, spec.get("shards", 1))
    if spec.get("ids"):
        with open(spec["ids"]) as f:
            seqs = json.load(f)
        with open(spec["logits"], "w") as f:
            json.dump({"logits": hf_reference.logits_of(spec["out"], seqs)}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--specs")
    ap.add_argument("--config")
    ap.add_argument("--overrides", default="{}")
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--storage", choices=["f32", "bf16", "f16", "fp8"], default="f32")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--ids")
    ap.add_argument("--logits")
    a = ap.parse_args()
    if a.specs:
        with open(a.specs) as f:
            specs = json.load(f)
    else:
        specs = [{"config": a.config, "overrides": json.loads(a.overrides), "out": a.out, "seed": a.seed,
                  "storage": a.storage, "shards": a.shards, "ids": a.ids, "logits": a.logits}]
    for spec in specs:
        make(spec)


if __name__ == "__main__":
    main()
