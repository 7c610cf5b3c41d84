"""AdamW with one parameter group per trainable parameter, as the job's table says (the TypeScript side computes
it with trainer/optim/paramGroups.ts: no-decay patterns, layer-wise decay, per-pattern rates), and the schedule as
the job's per-step factors (trainer/optim/schedule.ts), so both engines take the very same rates."""
import torch

from .protocol import WorkerError


def build_optimizer(model, job):
    t = job["training"]
    named = dict(model.named_parameters())
    table = {p["name"]: p for p in job["params"]}
    unknown = sorted(set(table) - set(named))
    if unknown:
        raise WorkerError("engine-job-invalid", f"the job names parameters the model lacks, e.g. {unknown[0]}")
    groups = []
    for name, param in named.items():
        setting = table.get(name)
        trainable = bool(setting and setting["trainable"])
        param.requires_grad_(trainable)
        if trainable:
            groups.append({"params": [param], "lr": setting["lr"], "peak": setting["lr"], "weight_decay": setting["weightDecay"], "name": name})
    if not groups:
        raise WorkerError("nothing-trainable", "every parameter is frozen", "Unfreeze at least the classifier.")
    betas = (t["adam_beta1"], t["adam_beta2"])
    return torch.optim.AdamW(groups, betas=betas, eps=t["adam_epsilon"])


def set_rates(optimizer, factor):
    for g in optimizer.param_groups:
        g["lr"] = g["peak"] * factor


def trainable_parameters(optimizer):
    return [g["params"][0] for g in optimizer.param_groups]
