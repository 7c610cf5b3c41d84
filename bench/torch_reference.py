"""PyTorch reference for `npm run bench`: the same BERT as trainer/model (post-LayerNorm encoder, exact GELU,
additive attention mask, pooler + classifier head), fp32, AdamW, a fixed thread count.

Runs one case and prints one JSON line. Uses `transformers` when it is importable (the real
BertForSequenceClassification), else the hand-written model below, which has the same parameters and math.

  /usr/bin/python3 bench/torch_reference.py --model tiny --mode train --steps 10 --warmup 3 --threads 2
  python3 bench/torch_reference.py --model base --mode train --device cuda   # fp32 on a GPU, TF32 off (bench/gpu.sh)
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = {
    "tiny": dict(layers=2, hidden=128, heads=2, intermediate=512),
    "mini": dict(layers=4, hidden=256, heads=4, intermediate=1024),
    "base": dict(layers=12, hidden=768, heads=12, intermediate=3072),
}
VOCAB = 30522
MAX_POS = 512


class SelfAttention(nn.Module):
    def __init__(self, h, nh, p):
        super().__init__()
        self.nh, self.d = nh, h // nh
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.drop = nn.Dropout(p)

    def forward(self, x, add_mask):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.nh, self.d).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + add_mask
        probs = self.drop(scores.softmax(-1))
        return (probs @ v).transpose(1, 2).reshape(b, s, h)


class Layer(nn.Module):
    def __init__(self, h, nh, inter, p):
        super().__init__()
        self.attn = SelfAttention(h, nh, p)
        self.attn_out, self.ln1 = nn.Linear(h, h), nn.LayerNorm(h, eps=1e-12)
        self.inter, self.out, self.ln2 = nn.Linear(h, inter), nn.Linear(inter, h), nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)

    def forward(self, x, add_mask):
        x = self.ln1(x + self.drop(self.attn_out(self.attn(x, add_mask))))
        return self.ln2(x + self.drop(self.out(F.gelu(self.inter(x)))))


class Bert(nn.Module):
    """BertForSequenceClassification's math, written out (used when transformers is absent)."""

    def __init__(self, layers, hidden, heads, intermediate, num_labels=2, p=0.1):
        super().__init__()
        self.word = nn.Embedding(VOCAB, hidden, padding_idx=0)
        self.pos = nn.Embedding(MAX_POS, hidden)
        self.token_type = nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList(Layer(hidden, heads, intermediate, p) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, num_labels)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, input_ids, attention_mask, token_type_ids):
        s = input_ids.shape[1]
        pos = torch.arange(s, device=input_ids.device).unsqueeze(0)
        x = self.drop(self.ln(self.word(input_ids) + self.pos(pos) + self.token_type(token_type_ids)))
        add_mask = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, add_mask)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(self.drop(pooled))


def build(name):
    cfg = MODELS[name]
    try:
        from transformers import BertConfig, BertForSequenceClassification

        hf = BertConfig(vocab_size=VOCAB, hidden_size=cfg["hidden"], num_hidden_layers=cfg["layers"],
                        num_attention_heads=cfg["heads"], intermediate_size=cfg["intermediate"],
                        max_position_embeddings=MAX_POS, num_labels=2, hidden_act="gelu",
                        attn_implementation="eager")
        m = BertForSequenceClassification(hf)
        return (lambda ids, mask, tt: m(input_ids=ids, attention_mask=mask, token_type_ids=tt).logits), m, "transformers"
    except ImportError:
        m = Bert(**cfg)
        return m, m, "hand-written"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--mode", choices=["train", "infer"], required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda: fp32 with TF32 off, as the webgpu backend computes")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        # Plain fp32 on both sides: TF32 matmuls would compare 10-bit-mantissa math with our fp32.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    fwd, module, impl = build(a.model)
    module.to(dev)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, VOCAB, (a.batch, a.seq), generator=g).to(dev)
    mask = torch.ones(a.batch, a.seq, dtype=torch.long, device=dev)
    tt = torch.zeros(a.batch, a.seq, dtype=torch.long, device=dev)
    labels = torch.randint(0, 2, (a.batch,), generator=g).to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    if a.mode == "train":
        module.train()
        decay = [p for n, p in module.named_parameters() if not ("bias" in n or "ln" in n or "LayerNorm" in n)]
        no_decay = [p for n, p in module.named_parameters() if "bias" in n or "ln" in n or "LayerNorm" in n]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=5e-5, betas=(0.9, 0.999), eps=1e-8)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(fwd(ids, mask, tt), labels)
            loss.backward()
            opt.step()
            return loss.item()
    else:
        module.eval()

        def step():
            with torch.no_grad():
                return float(fwd(ids, mask, tt)[0, 0])

    for _ in range(a.warmup):
        step()
    times, cpu = [], []
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        sync()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    # The median, as bench/case.ts uses: robust when other processes share the cores.
    med = sorted(times)[len(times) // 2] if len(times) % 2 else sum(sorted(times)[len(times) // 2 - 1:len(times) // 2 + 1]) / 2
    print(json.dumps({
        "engine": "pytorch", "backend": f"torch {torch.__version__} {dev.type} ({impl})",
        "model": a.model, "mode": a.mode,
        "threads": torch.get_num_threads(), "step_ms": [round(t * 1e3, 1) for t in times],
        "cpu_ms": [round(t * 1e3, 1) for t in cpu], "samples_per_s": a.batch / med,
        "tokens_per_s": a.batch * a.seq / med, "steps": a.steps, "warmup": a.warmup, "batch": a.batch, "seq": a.seq,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
