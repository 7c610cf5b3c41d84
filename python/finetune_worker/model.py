"""The model a job trains: `transformers`' Auto classes when that package is importable (every architecture it
knows), else the built-in BERT (bert.py), so that machines with only `torch` run the whole loop."""
import os

import torch

from . import bert
from .protocol import WorkerError
from .tensors import read_safetensors

# Set by tests and by users who want the built-in BERT even where transformers is installed.
BUILTIN_ENV = "FINETUNE_PYTORCH_BUILTIN"


def build_model(job, channel):
    spec = job["model"]
    config = dict(spec["config"])
    # HF derives num_labels from id2label; config.json keeps only the latter.
    config.setdefault("num_labels", len(config.get("id2label") or {}) or 2)
    head = spec["head"]
    model = _from_transformers(config, head, channel) or _builtin(config, head)
    state, _ = read_safetensors(spec["weights"])
    _load(model, state, spec["weights"])
    return model


def _builtin(config, head):
    if config.get("model_type", "bert") != "bert":
        raise WorkerError(
            "engine-model-unsupported",
            f"the built-in PyTorch model is BERT; this model is `{config.get('model_type')}`",
            "Install `transformers` in the Python environment the run uses, or pick a BERT model.",
        )
    return bert.BertForMaskedLM(config) if head == "masked-lm" else bert.BertForSequenceClassification(config)


def _from_transformers(config, head, channel):
    if os.environ.get(BUILTIN_ENV):
        return None
    try:
        import transformers  # noqa: F401  (optional: the built-in model stands in without it)
    except ImportError:
        return None
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoModelForSequenceClassification

    model_type = config.pop("model_type", "bert")
    hf_config = AutoConfig.for_model(model_type, **config)
    auto = AutoModelForMaskedLM if head == "masked-lm" else AutoModelForSequenceClassification
    channel.log("info", f"PyTorch engine: transformers {transformers.__version__}, {auto.__name__} ({model_type})")
    return auto.from_config(hf_config)


def _load(model, state, file):
    own = dict(model.named_parameters())
    missing = [n for n in own if n not in state]
    if missing:
        raise WorkerError(
            "model-weights-mismatch",
            f"{file} lacks {len(missing)} parameters of the model, e.g. {missing[0]}",
            "The job's weights come from the trainer; report this as a bug with the config.",
        )
    with torch.no_grad():
        for name, p in own.items():
            t = state[name]
            if tuple(t.shape) != tuple(p.shape):
                raise WorkerError("model-weights-mismatch", f"{file}: {name} has shape {list(t.shape)}, not {list(p.shape)}")
            p.copy_(t)


def parameter_tensors(model):
    """The parameters by name, each once (tied weights under their first name, as safetensors files keep them)."""
    return dict(model.named_parameters())
