"""RoBERTa (and XLM-RoBERTa), DistilBERT and ELECTRA written out in plain PyTorch with Hugging Face's module names,
following transformers' modeling_roberta.py, modeling_xlm_roberta.py, modeling_distilbert.py and modeling_electra.py:

- RoBERTa: BERT's post-LayerNorm encoder under `roberta.`; position ids from create_position_ids_from_input_ids
  (padding_idx + cumsum of the non-padding mask, padding_idx at padding); RobertaClassificationHead (dropout, dense,
  tanh, dropout, out_proj on <s>); RobertaLMHead (dense, exact gelu, layer_norm, decoder tied + lm_head.bias).
- DistilBERT: word + position embeddings (no token types), MultiHeadSelfAttention (q scaled before q·kᵀ, masked_fill
  with the dtype's minimum), sa_layer_norm / FFN (lin1, activation, lin2) / output_layer_norm, every LayerNorm eps
  1e-12; DistilBertForSequenceClassification (pre_classifier, ReLU, classifier on the first token);
  DistilBertForMaskedLM (vocab_transform, activation, vocab_layer_norm, vocab_projector tied).
- ELECTRA: embeddings of embedding_size, `embeddings_project` when it differs from hidden_size;
  ElectraClassificationHead (dropout, dense, exact gelu, dropout, out_proj); ElectraForMaskedLM (generator_predictions:
  dense to embedding_size, gelu, LayerNorm with the config's eps; generator_lm_head tied).

`hidden_act` is transformers' ACT2FN: gelu (erf), gelu_new (tanh approximation), relu. It shares no code with the
engine under test; the BERT encoder layer and the safetensors reader are torch_bert.py's.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

# RoBERTa's and ELECTRA's layers are modeling_bert's (their files say "Copied from ...BertLayer"): torch_bert's.
from torch_bert import ACT2FN, BertEncoder as Encoder, read_safetensors


def extended_mask(mask):
    """BERT-style additive mask: (1 - mask) * finfo.min, broadcast over heads and query positions."""
    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


class Embeddings(nn.Module):
    """BertEmbeddings' parameters at width `e` (ELECTRA's embedding_size), positions given by the caller."""

    def __init__(self, c, e, position_padding_idx=None):
        super().__init__()
        pad = c["pad_token_id"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], e, padding_idx=pad)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], e, padding_idx=position_padding_idx)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], e)
        self.LayerNorm = nn.LayerNorm(e, eps=c["layer_norm_eps"])

    def forward(self, ids, types, positions):
        summed = self.word_embeddings(ids) + self.token_type_embeddings(types) + self.position_embeddings(positions)
        return self.LayerNorm(summed)


# --- RoBERTa / XLM-RoBERTa ---


def create_position_ids_from_input_ids(ids, padding_idx):
    mask = ids.ne(padding_idx).int()
    incremental = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental.long() + padding_idx


class RobertaModel(nn.Module):
    """add_pooling_layer=False, as both heads build it."""

    def __init__(self, c):
        super().__init__()
        self.pad = c["pad_token_id"]
        self.embeddings = Embeddings(c, c["hidden_size"], position_padding_idx=self.pad)
        self.encoder = Encoder(c)

    def forward(self, ids, mask, types):
        x = self.embeddings(ids, types, create_position_ids_from_input_ids(ids, self.pad))
        return self.encoder(x, extended_mask(mask))


class ClassificationHead(nn.Module):
    """RobertaClassificationHead (tanh) and ElectraClassificationHead (exact gelu): dense, act, out_proj on <s>."""

    def __init__(self, c, act):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.out_proj = nn.Linear(c["hidden_size"], num_labels(c))
        self.act = act

    def forward(self, features):
        return self.out_proj(self.act(self.dense(features[:, 0, :])))


class RobertaForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.roberta = RobertaModel(c)
        self.classifier = ClassificationHead(c, torch.tanh)

    def forward(self, ids, mask, types):
        return self.classifier(self.roberta(ids, mask, types))


class RobertaLMHead(nn.Module):
    def __init__(self, c, word_embeddings):
        super().__init__()
        h = c["hidden_size"]
        self.dense = nn.Linear(h, h)
        self.layer_norm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.decoder = nn.Linear(h, c["vocab_size"])
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.decoder.bias = self.bias  # RobertaLMHead: the same Parameter under two names
        self.decoder.weight = word_embeddings.weight  # tie_weights()

    def forward(self, x):
        return self.decoder(self.layer_norm(F.gelu(self.dense(x))))


class RobertaForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.roberta = RobertaModel(c)
        self.lm_head = RobertaLMHead(c, self.roberta.embeddings.word_embeddings)

    def forward(self, ids, mask, types):
        return self.lm_head(self.roberta(ids, mask, types))


# --- DistilBERT ---


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n = c["n_heads"]
        self.dim = c["dim"]
        self.q_lin, self.k_lin = nn.Linear(self.dim, self.dim), nn.Linear(self.dim, self.dim)
        self.v_lin, self.out_lin = nn.Linear(self.dim, self.dim), nn.Linear(self.dim, self.dim)

    def forward(self, x, mask):
        bs, s, _ = x.shape
        d = self.dim // self.n
        shape = lambda t: t.view(bs, -1, self.n, d).transpose(1, 2)
        q = shape(self.q_lin(x)) / math.sqrt(d)
        k, v = shape(self.k_lin(x)), shape(self.v_lin(x))
        scores = torch.matmul(q, k.transpose(2, 3))
        hidden = (mask == 0).view(bs, 1, 1, s).expand_as(scores)
        scores = scores.masked_fill(hidden, torch.tensor(torch.finfo(scores.dtype).min))
        context = torch.matmul(scores.softmax(-1), v).transpose(1, 2).contiguous().view(bs, -1, self.dim)
        return self.out_lin(context)


class FFN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.lin1 = nn.Linear(c["dim"], c["hidden_dim"])
        self.lin2 = nn.Linear(c["hidden_dim"], c["dim"])
        self.act = ACT2FN[c.get("activation", "gelu")]

    def forward(self, x):
        return self.lin2(self.act(self.lin1(x)))


class TransformerBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = MultiHeadSelfAttention(c)
        self.sa_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.ffn = FFN(c)
        self.output_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)

    def forward(self, x, mask):
        sa = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(sa) + sa)


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([TransformerBlock(c) for _ in range(c["n_layers"])])


class DistilEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["dim"], padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["dim"])
        self.LayerNorm = nn.LayerNorm(c["dim"], eps=1e-12)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(positions))


class DistilBertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        assert not c.get("sinusoidal_pos_embds", False), "sinusoidal positions are not what our checkpoints hold"
        self.embeddings = DistilEmbeddings(c)
        self.transformer = Transformer(c)

    def forward(self, ids, mask, _types):
        x = self.embeddings(ids)  # DistilBERT takes no token_type_ids
        for layer in self.transformer.layer:
            x = layer(x, mask)
        return x


class DistilBertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.distilbert = DistilBertModel(c)
        self.pre_classifier = nn.Linear(c["dim"], c["dim"])
        self.classifier = nn.Linear(c["dim"], num_labels(c))

    def forward(self, ids, mask, types):
        pooled = self.distilbert(ids, mask, types)[:, 0]
        return self.classifier(F.relu(self.pre_classifier(pooled)))


class DistilBertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.act = ACT2FN[c.get("activation", "gelu")]
        self.distilbert = DistilBertModel(c)
        self.vocab_transform = nn.Linear(c["dim"], c["dim"])
        self.vocab_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.vocab_projector = nn.Linear(c["dim"], c["vocab_size"])
        self.vocab_projector.weight = self.distilbert.embeddings.word_embeddings.weight  # tie_weights()

    def forward(self, ids, mask, types):
        x = self.act(self.vocab_transform(self.distilbert(ids, mask, types)))
        return self.vocab_projector(self.vocab_layer_norm(x))


# --- ELECTRA ---


class ElectraModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        e = c["embedding_size"]
        self.embeddings = Embeddings(c, e)
        if e != c["hidden_size"]:
            self.embeddings_project = nn.Linear(e, c["hidden_size"])
        self.encoder = Encoder(c)

    def forward(self, ids, mask, types):
        x = self.embeddings(ids, types, torch.arange(ids.shape[1]).unsqueeze(0))
        if hasattr(self, "embeddings_project"):
            x = self.embeddings_project(x)
        return self.encoder(x, extended_mask(mask))


class ElectraForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.electra = ElectraModel(c)
        self.classifier = ClassificationHead(c, F.gelu)  # gelu, not tanh, as ELECTRA's authors did

    def forward(self, ids, mask, types):
        return self.classifier(self.electra(ids, mask, types))


class ElectraGeneratorPredictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(c["embedding_size"], eps=c["layer_norm_eps"])
        self.dense = nn.Linear(c["hidden_size"], c["embedding_size"])

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x)))


class ElectraForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.electra = ElectraModel(c)
        self.generator_predictions = ElectraGeneratorPredictions(c)
        self.generator_lm_head = nn.Linear(c["embedding_size"], c["vocab_size"])
        self.generator_lm_head.weight = self.electra.embeddings.word_embeddings.weight  # tie_weights()

    def forward(self, ids, mask, types):
        return self.generator_lm_head(self.generator_predictions(self.electra(ids, mask, types)))


def num_labels(c):
    return c.get("num_labels", len(c.get("id2label", {})) or 2)


HEADS = {
    cls.__name__: cls
    for cls in [
        RobertaForSequenceClassification,
        RobertaForMaskedLM,
        DistilBertForSequenceClassification,
        DistilBertForMaskedLM,
        ElectraForSequenceClassification,
        ElectraForMaskedLM,
    ]
}
# XLM-RoBERTa's classes are RoBERTa's with another config class (modeling_xlm_roberta.py).
HEADS["XLMRobertaForSequenceClassification"] = RobertaForSequenceClassification
HEADS["XLMRobertaForMaskedLM"] = RobertaForMaskedLM

# Each config class's defaults for the keys our tiny checkpoints might omit (RobertaConfig, ElectraConfig).
DEFAULTS = {
    "roberta": {"pad_token_id": 1, "layer_norm_eps": 1e-12, "type_vocab_size": 2},
    "xlm-roberta": {"pad_token_id": 1, "layer_norm_eps": 1e-12, "type_vocab_size": 2},
    "electra": {"embedding_size": 128, "pad_token_id": 0, "layer_norm_eps": 1e-12, "type_vocab_size": 2},
    "distilbert": {},
}
# The tied keys that save_pretrained leaves out and from_pretrained fills from the embeddings.
TIED = {
    "RobertaForMaskedLM": [("lm_head.decoder.weight", "roberta.embeddings.word_embeddings.weight")],
    "DistilBertForMaskedLM": [("vocab_projector.weight", "distilbert.embeddings.word_embeddings.weight")],
    "ElectraForMaskedLM": [("generator_lm_head.weight", "electra.embeddings.word_embeddings.weight")],
}


def load(folder):
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    model_type = c.get("model_type")
    if model_type not in DEFAULTS:
        raise ValueError(f"{folder}/config.json: model_type {model_type!r} is not one of {sorted(DEFAULTS)}")
    c = {**DEFAULTS[model_type], **c}
    arch = (c.get("architectures") or [""])[0]
    if arch not in HEADS:
        raise ValueError(f"{folder}/config.json: architecture {arch!r} is not one of {sorted(HEADS)}")
    m = HEADS[arch](c)
    sd = {k: v.float() for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    key = arch.replace("XLMRoberta", "Roberta")
    for tied, source in TIED.get(key, []):
        sd.setdefault(tied, sd[source])
    if key == "RobertaForMaskedLM":
        sd.setdefault("lm_head.decoder.bias", sd["lm_head.bias"])
    m.load_state_dict(sd, strict=True)
    return m.eval()
