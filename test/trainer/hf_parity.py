#!/usr/bin/env python3
"""Loads a Fine-Tune Studio checkpoint in PyTorch and compares its logits with ours.

Usage: python3 test/trainer/hf_parity.py CHECKPOINT_DIR CASES_JSON [--tolerance 1e-4]
                                         [--reference transformers|torch]

CASES_JSON holds what our engine computed. Either what `finetune-studio predict --model CHECKPOINT_DIR --text "..."
--json` printed (the JSON lines, or only the `result` message, or its `value`; a list of values compares several
inputs), or a list of batch cases written by test/trainer/hfParity.test.ts:

  {"name": "...", "inputIds": [[...], ...], "attentionMask": [[...]], "tokenTypeIds": [[...]],
   "logits": [[...], ...], "positions": [[b, s], ...]}

where `logits` has one row per example (sequence classification) or one row per scored position (masked LM,
`positions` naming each row's example and position, as our head returns only those).

--reference torch uses test/trainer/torch_bert.py (modeling_bert written out) for BERT and torch_families.py
(modeling_roberta / _distilbert / _electra written out) for the other families; transformers uses HF itself.
Prints one line per case and then the max absolute difference over all of them; exits 1 when it is above the
tolerance, 2 when the reference cannot be imported (the caller decides whether that is a skip or a failure).
"""
import argparse
import json
import os
import sys

MAX_CASES_BYTES = 256 << 20


def as_batch(rows):
    """A predict result holds one example as flat lists; a batch case holds lists of rows."""
    return rows if rows and isinstance(rows[0], list) else [rows]


def normalise(item, where):
    missing = [k for k in ("inputIds", "attentionMask", "logits") if k not in item]
    if missing:
        sys.exit(f"{where}: missing {', '.join(missing)}")
    ids = as_batch(item["inputIds"])
    types = item.get("tokenTypeIds") or [[0] * len(r) for r in ids]
    return {
        "name": item.get("name", where),
        "inputIds": ids,
        "attentionMask": as_batch(item["attentionMask"]),
        "tokenTypeIds": as_batch(types),
        "logits": as_batch(item["logits"]),
        "positions": item.get("positions"),
    }


def load_cases(path):
    if os.path.getsize(path) > MAX_CASES_BYTES:
        sys.exit(f"{path}: larger than {MAX_CASES_BYTES} bytes")
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    cases = []
    for d in docs:
        for item in d if isinstance(d, list) else [d]:
            if isinstance(item, dict) and item.get("type") == "result":
                item = item["value"]
            if isinstance(item, dict) and "inputIds" in item and "logits" in item:
                cases.append(normalise(item, f"{path} case {len(cases) + 1}"))
    if not cases:
        sys.exit(f"{path}: no case with inputIds and logits")
    return cases


def reference_model(reference, folder):
    """(run(ids, mask, types) -> logits, a description of the reference)."""
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    if reference == "transformers":
        import transformers

        arch = config["architectures"][0]
        model = getattr(transformers, arch).from_pretrained(folder).eval()
        if config.get("model_type") == "distilbert":  # DistilBERT's forward takes no token_type_ids
            return lambda ids, mask, types: model(input_ids=ids, attention_mask=mask).logits, arch
        run = lambda ids, mask, types: model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
        return run, f"transformers {transformers.__version__} {arch}"
    # Plain PyTorch with HF's module names (torch_bert.py, torch_families.py), where transformers is absent.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if config.get("model_type", "bert") == "bert":
        import torch_bert

        model = torch_bert.load(folder)
        return model, f"torch_bert.py {type(model).__name__} (modeling_bert written out)"
    import torch_families

    model = torch_families.load(folder)
    return model, f"torch_families.py {type(model).__name__} (modeling_{config['model_type']} written out)"


def their_logits(run, case, torch):
    ids = torch.tensor(case["inputIds"], dtype=torch.long)
    mask = torch.tensor(case["attentionMask"], dtype=torch.long)
    types = torch.tensor(case["tokenTypeIds"], dtype=torch.long)
    with torch.no_grad():
        out = run(ids, mask, types).double()
    if out.dim() == 3:  # masked LM: [batch, seq, vocab], of which our head returns the scored positions
        if not case["positions"]:
            sys.exit(f"{case['name']}: masked-LM logits need `positions`")
        out = torch.stack([out[b, s] for b, s in case["positions"]])
    return out


def main():
    parser = argparse.ArgumentParser(description="Compare a checkpoint's logits in PyTorch with ours.")
    parser.add_argument("folder")
    parser.add_argument("inputs")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--reference", choices=["transformers", "torch"], default="transformers")
    ns = parser.parse_args()
    try:
        import torch

        run, version = reference_model(ns.reference, ns.folder)
    except ImportError as e:
        print(f"unavailable: {ns.reference} cannot be imported by {sys.executable} ({type(e).__name__}: {e})")
        return 2
    worst = 0.0
    for case in load_cases(ns.inputs):
        theirs = their_logits(run, case, torch)
        ours = torch.tensor(case["logits"], dtype=torch.float64)
        if theirs.shape != ours.shape:
            print(f"case {case['name']}: shape {list(theirs.shape)} in PyTorch, {list(ours.shape)} ours")
            return 1
        diff = (theirs - ours).abs().max().item()
        worst = max(worst, diff)
        scale = theirs.abs().max().item()
        print(f"case {case['name']}: shape {list(ours.shape)}, max |logit| {scale:.3g}, max_abs_diff={diff:.3e}")
    print(f"max_abs_diff={worst:.3e} (tolerance {ns.tolerance:g}, {version}, torch {torch.__version__})")
    return 0 if worst <= ns.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
