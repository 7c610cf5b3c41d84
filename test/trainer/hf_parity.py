#!/usr/bin/env python3
"""Loads a Fine-Tune Studio checkpoint with Hugging Face transformers and compares its logits with ours.

Usage: python3 test/trainer/hf_parity.py CHECKPOINT_DIR PREDICT_JSON [--tolerance 1e-4] [--reference transformers|torch]

PREDICT_JSON is what `finetune-studio predict --model CHECKPOINT_DIR --text "..." --json` printed (the JSON
lines, or only the `result` message, or its `value`; a list of values compares several inputs). Prints the max
absolute difference between transformers' logits and ours; exits 1 when it is above the tolerance, and 0 with
"skipped: ..." when transformers or torch is not installed.
"""
import argparse
import json
import sys


def load_values(path):
    text = open(path, encoding="utf-8").read().strip()
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    values = []
    for d in docs:
        items = d if isinstance(d, list) else [d]
        for item in items:
            if item.get("type") == "result":
                item = item["value"]
            if "inputIds" in item and "logits" in item:
                values.append(item)
    if not values:
        sys.exit(f"{path}: no predict result with inputIds and logits")
    return values


def main():
    parser = argparse.ArgumentParser(description="Compare a checkpoint's logits in PyTorch with ours.")
    parser.add_argument("folder")
    parser.add_argument("inputs")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--reference", choices=["transformers", "torch"], default="transformers")
    ns = parser.parse_args()
    tolerance, reference = ns.tolerance, ns.reference
    try:
        import torch
        if reference == "transformers":
            from transformers import BertForSequenceClassification
    except Exception as e:  # ImportError, or a broken install
        print(f"skipped: {reference} not installed ({type(e).__name__}: {e})")
        return 0
    folder, inputs = ns.folder, ns.inputs
    if reference == "transformers":
        model = BertForSequenceClassification.from_pretrained(folder).eval()
        run = lambda ids, mask, types: model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
        version = f"transformers {__import__('transformers').__version__}"
    else:
        # Plain PyTorch with HF's module names (test/trainer/torch_bert.py), where transformers is absent.
        sys.path.insert(0, __import__("os").path.dirname(__file__))
        import torch_bert
        model = torch_bert.load(folder)
        run = model
        version = "torch_bert.py (modeling_bert written out)"
    worst = 0.0
    for v in load_values(inputs):
        ids = torch.tensor([v["inputIds"]], dtype=torch.long)
        mask = torch.tensor([v["attentionMask"]], dtype=torch.long)
        types = torch.tensor([v.get("tokenTypeIds") or [0] * len(v["inputIds"])], dtype=torch.long)
        with torch.no_grad():
            theirs = run(ids, mask, types)[0].double()
        ours = torch.tensor(v["logits"], dtype=torch.float64)
        worst = max(worst, (theirs - ours).abs().max().item())
    print(f"max_abs_diff={worst:.3e} (tolerance {tolerance:g}, {version}, torch {torch.__version__})")
    return 0 if worst <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
