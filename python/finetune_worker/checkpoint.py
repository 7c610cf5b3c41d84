"""Checkpoints in the TypeScript engine's layout (trainer/engine/checkpoint.ts): config.json, model.safetensors,
the tokenizer's files, optimizer.safetensors (exp_avg / exp_avg_sq per parameter) and trainer_state.json, written
into `.checkpoint-<step>.tmp-<pid>` and renamed when complete; save_total_limit applied as
common/runFolder/checkpoints.ts does, each doomed folder renamed to a hidden name before it is deleted."""
import json
import os
import re
import shutil

import torch

from .tensors import read_safetensors, write_safetensors

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# Moments in their parameters' layout (Linear weights [out, in]), as trainer/engine/checkpoint.ts writes them.
# Files without it come from TypeScript trainers before that layout: their Linear moments are [in, out].
MOMENT_LAYOUT = "pt"


def checkpoint_dir(run_dir, step):
    return os.path.join(run_dir, f"checkpoint-{step}")


def save_checkpoint(run_dir, step, model_params, optimizer, job, state):
    final = checkpoint_dir(run_dir, step)
    tmp = os.path.join(run_dir, f".checkpoint-{step}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        os.makedirs(tmp)
        _write_json(os.path.join(tmp, "config.json"), job["configJson"])
        write_safetensors(os.path.join(tmp, "model.safetensors"), model_params, {"format": "pt"})
        for name in sorted(os.listdir(job["tokenizerDir"])):
            shutil.copyfile(os.path.join(job["tokenizerDir"], name), os.path.join(tmp, name))
        moments, count = optimizer_tensors(optimizer)
        write_safetensors(
            os.path.join(tmp, "optimizer.safetensors"),
            moments,
            {"step": count, "format": "finetune-studio-adamw", "layout": MOMENT_LAYOUT},
        )
        _write_json(os.path.join(tmp, "trainer_state.json"), state)
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def optimizer_tensors(optimizer):
    out = {}
    count = 0
    for g in optimizer.param_groups:
        p = g["params"][0]
        s = optimizer.state.get(p)
        if not s:
            continue
        out[f"{g['name']}.exp_avg"] = s["exp_avg"]
        out[f"{g['name']}.exp_avg_sq"] = s["exp_avg_sq"]
        count = int(s["step"])
    return out, count


def restore_optimizer(optimizer, folder, linear_weights):
    tensors, meta = read_safetensors(os.path.join(folder, "optimizer.safetensors"))
    step = int(meta.get("step", "0"))
    transposed = meta.get("layout") != MOMENT_LAYOUT
    for g in optimizer.param_groups:
        p = g["params"][0]
        m = tensors.get(f"{g['name']}.exp_avg")
        v = tensors.get(f"{g['name']}.exp_avg_sq")
        if m is None or v is None:
            continue
        if transposed and g["name"] in linear_weights:
            m, v = m.reshape(p.shape[1], p.shape[0]).t(), v.reshape(p.shape[1], p.shape[0]).t()
        optimizer.state[p] = {
            "step": torch.tensor(float(step)),
            "exp_avg": m.to(p.device).reshape(p.shape),
            "exp_avg_sq": v.to(p.device).reshape(p.shape),
        }


def list_checkpoints(run_dir):
    """(step, folder) of the complete checkpoints, oldest first."""
    out = []
    for name in os.listdir(run_dir):
        m = CHECKPOINT.match(name)
        if m and os.path.isdir(os.path.join(run_dir, name)):
            out.append((int(m.group(1)), os.path.join(run_dir, name)))
    return sorted(out)


def prune(run_dir, limit, keep):
    """Deletes the oldest checkpoints beyond `limit`, never one in `keep` nor the newest; returns their paths."""
    if not limit or limit < 1:
        return []
    all_ = list_checkpoints(run_dir)
    kept = {os.path.realpath(k) for k in keep if k}
    if all_:
        kept.add(os.path.realpath(all_[-1][1]))
    excess = len(all_) - limit
    deleted = []
    for step, folder in all_:
        if excess <= 0:
            break
        if os.path.realpath(folder) in kept:
            continue
        doomed = os.path.join(run_dir, f".checkpoint-{step}.deleting-{os.getpid()}")
        os.replace(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
        deleted.append(folder)
        excess -= 1
    return deleted


def _write_json(path, value):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
