"""Loads checkpoints that Forge saved into Hugging Face transformers and compares their logits with
Forge's own, on a host that has transformers (and optionally a GPU).

The checkpoints and Forge's logits come from hf_families_test.cc with FORGE_PARITY_DIR set:
    FORGE_PARITY_DIR=/tmp/parity build/tests/policy/policy_tests \\
        --gtest_filter='HfFamilies.*'
    python3 tests/policy/hf_transformers_parity.py /tmp/parity [--device cuda] [--tolerance 1e-4]
Each case folder holds config.json, model.safetensors (Forge's save, the family's own layout and
names) and forge_logits.json ({"ids": [[...]], "logits": [[[...V] per position] per sequence]}).
transformers runs each in float32 with eager attention; the script prints one line per case with
max |transformers - forge| / max |forge| and exits 1 when a case exceeds the tolerance or fails to
load (or when the folder holds no case). Known difference: transformers' own DeepseekV2 port leaves out the YaRN mscale^2 of the
attention scale that DeepSeek's released V2 code (and Forge) apply, so deepseek_v2* cases with
rope_scaling differ (reported, not failed, with --allow-v2-yarn).
"""
import argparse
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--allow-v2-yarn", action="store_true")
    a = ap.parse_args()
    import torch
    import transformers

    print("transformers", transformers.__version__, "torch", torch.__version__, "device", a.device)
    # transformers 5 renamed from_pretrained's torch_dtype to dtype (and defaults to "auto").
    dtype_key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    failed, compared = [], 0
    for case in sorted(os.listdir(a.root)):
        folder = os.path.join(a.root, case)
        if not os.path.exists(os.path.join(folder, "forge_logits.json")):
            continue
        with open(os.path.join(folder, "forge_logits.json")) as f:
            forge = json.load(f)
        with open(os.path.join(folder, "config.json")) as f:
            family = json.load(f).get("model_type")
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(
                folder, attn_implementation="eager", **{dtype_key: torch.float32}).to(a.device).eval()
        except Exception as e:  # a load failure is a parity failure: report and go on
            print("%-18s %-12s FAILED to load: %s" % (case, family, e))
            failed.append(case)
            continue
        compared += 1
        worst, scale = 0.0, 0.0
        with torch.no_grad():
            for ids, want in zip(forge["ids"], forge["logits"]):
                got = model(torch.tensor([ids], device=a.device)).logits[0].double().cpu()
                want = torch.tensor(want, dtype=torch.float64)
                worst = max(worst, (got - want).abs().max().item())
                scale = max(scale, want.abs().max().item())
        rel = worst / scale
        known = family == "deepseek_v2" and a.allow_v2_yarn
        ok = rel <= a.tolerance or known
        print("%-18s %-12s max |transformers - forge| / max |forge| = %.3g%s" %
              (case, family, rel, "" if ok else "  FAIL") + ("  (known: V2 YaRN scale)" if known and rel > a.tolerance else ""))
        if not ok:
            failed.append(case)
    if compared == 0:
        print("no case folders with forge_logits.json under", a.root)
        sys.exit(1)
    if failed:
        print("failed:", ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
