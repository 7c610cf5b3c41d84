"""BertForSequenceClassification and BertForMaskedLM written out in plain PyTorch with Hugging Face's module names,
following transformers' modeling_bert.py (post-LayerNorm encoder, ACT2FN's gelu / gelu_new / relu, additive attention mask with the
dtype's minimum, tanh pooler on [CLS], the MLM prediction head with its decoder tied to the word embeddings), and a
safetensors reader in plain Python.

It is the parity reference where `transformers` itself is not installed (Debian ships python3-torch but not
transformers): `load_state_dict(strict=True)` proves that our names and shapes are exactly HF's, and the logits
prove the layout ([out, in] Linear weights) and the maths. It shares no code with the engine under test.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
}
# A checkpoint of the tiny models the tests write is a few MB; a header is a few KB. Anything far past that is
# not one of ours, and reading it whole would only hide the mistake.
MAX_FILE_BYTES = 2 << 30
MAX_HEADER_BYTES = 100 << 20


def read_safetensors(path):
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: {size} bytes, more than the {MAX_FILE_BYTES} this reader accepts")
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} does not fit the file ({len(data)} bytes)")
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if not 0 <= start <= end <= len(data) - base:
            raise ValueError(f"{path}: {name} has data offsets {start}..{end} outside the file")
        buf = bytearray(data[base + start : base + end])
        dtype = DTYPES[info["dtype"]]
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h, padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(c.get("type_vocab_size", 2), h)
        self.LayerNorm = nn.LayerNorm(h, eps=c.get("layer_norm_eps", 1e-12))

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        summed = self.word_embeddings(ids) + self.token_type_embeddings(types) + self.position_embeddings(pos)
        return self.LayerNorm(summed)


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.n = c["num_attention_heads"]
        self.d = h // self.n
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(self, x, mask):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.n, self.d).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + mask
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, h)


class Dense(nn.Module):
    """`attention.output` / `output`: dense, then LayerNorm of the residual sum."""

    def __init__(self, c, inp):
        super().__init__()
        self.dense = nn.Linear(inp, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c.get("layer_norm_eps", 1e-12))

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = Dense(c, c["hidden_size"])

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


def gelu_new(x):
    """transformers' NewGELUActivation (the tanh approximation)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# transformers' ACT2FN for the activations we run: "gelu" is the exact (erf) GELU.
ACT2FN = {"gelu": F.gelu, "gelu_new": gelu_new, "relu": F.relu}


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = ACT2FN[c.get("hidden_act", "gelu")]

    def forward(self, x):
        return self.act(self.dense(x))


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = Dense(c, c["intermediate_size"])

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])


class BertModel(nn.Module):
    """HF's BertModel; BertForMaskedLM builds it with add_pooling_layer=False, so it has no pooler weights."""

    def __init__(self, c, pooler=True):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        if pooler:
            self.pooler = BertPooler(c)

    def forward(self, ids, mask, types):
        # HF: (1 - mask) * torch.finfo(dtype).min, broadcast over heads and query positions.
        add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(ids, types), add)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.classifier = nn.Linear(c["hidden_size"], c.get("num_labels", len(c.get("id2label", {})) or 2))

    def forward(self, ids, mask, types):
        """Logits [batch, num_labels]."""
        x = self.bert(ids, mask, types)
        pooled = torch.tanh(self.bert.pooler.dense(x[:, 0]))
        return self.classifier(pooled)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c.get("layer_norm_eps", 1e-12))
        self.act = c.get("hidden_act", "gelu")

    def forward(self, x):
        return self.LayerNorm(ACT2FN[self.act](self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c, word_embeddings):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c)
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.decoder.weight = word_embeddings.weight  # HF's tie_weights(): the same Parameter object
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))

    def forward(self, x):
        return self.decoder(self.transform(x)) + self.bias


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c, word_embeddings):
        super().__init__()
        self.predictions = BertLMPredictionHead(c, word_embeddings)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c, pooler=False)
        self.cls = BertOnlyMLMHead(c, self.bert.embeddings.word_embeddings)

    def forward(self, ids, mask, types):
        """Logits [batch, seq, vocab] at every position."""
        return self.cls.predictions(self.bert(ids, mask, types))


HEADS = {"BertForSequenceClassification": BertForSequenceClassification, "BertForMaskedLM": BertForMaskedLM}


def tied_state_dict(sd, model):
    """What HF's from_pretrained does for a tied decoder: a checkpoint saved without it gets the embeddings."""
    key = "cls.predictions.decoder.weight"
    if isinstance(model, BertForMaskedLM) and key not in sd:
        sd[key] = sd["bert.embeddings.word_embeddings.weight"]
    return sd


def load(folder):
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    assert c.get("model_type") == "bert", c.get("model_type")
    assert c.get("hidden_act", "gelu") in ACT2FN, c.get("hidden_act")
    architectures = c.get("architectures") or ["BertForSequenceClassification"]
    if architectures[0] not in HEADS:
        raise ValueError(f"{folder}/config.json: architecture {architectures[0]} is not one of {sorted(HEADS)}")
    m = HEADS[architectures[0]](c)
    sd = read_safetensors(os.path.join(folder, "model.safetensors"))
    # position_ids is a buffer some exports carry; it is not a parameter.
    sd.pop("bert.embeddings.position_ids", None)
    m.load_state_dict(tied_state_dict({k: v.float() for k, v in sd.items()}, m), strict=True)
    if isinstance(m, BertForMaskedLM):
        assert m.cls.predictions.decoder.weight is m.bert.embeddings.word_embeddings.weight, "decoder not tied"
    return m.eval()
