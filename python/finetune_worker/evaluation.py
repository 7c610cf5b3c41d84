"""Evaluation: this worker computes the logits (and, for masked-LM, the loss and hits, as a vocabulary of logits
per token is too much to send); the bridge turns them into metrics with the TypeScript engine's own code
(common/metrics.ts), so one definition of every metric serves both engines, and answers with `eval_metrics`."""
import torch
import torch.nn.functional as F

from .batches import EVAL_SALT, IGNORE_INDEX, collate, mask_tokens
from .random32 import derive_seed, mulberry32

# Rows of logits per `eval_outputs` line: a line stays well under the protocol's 16 MiB.
ROWS_PER_LINE = 4096


def evaluate(model, examples, job, split, step, epoch, world, channel):
    """Rank 0 scores the whole split (the others wait at the barrier); returns the bridge's metrics message."""
    reply = None
    if world.leader:
        model.eval()
        with torch.no_grad():
            if job["task"] == "masked-lm":
                _send_mlm(model, examples, job, split, step, epoch, world, channel)
            else:
                _send_classification(model, examples, job, split, step, epoch, world, channel)
        model.train()
        reply = channel.await_reply()
    world.barrier()
    return reply


def _batches(examples, size):
    for start in range(0, len(examples), size):
        yield examples[start : start + size]


def _send_classification(model, examples, job, split, step, epoch, world, channel):
    size = job["training"]["per_device_eval_batch_size"]
    rows, labels = [], []
    for part in _batches(examples, size):
        batch = collate(part, job["padId"], "text-classification", world.device)
        logits = model(batch["ids"], batch["types"], batch["mask"])
        logits = logits.logits if hasattr(logits, "logits") else logits
        rows.extend(logits.float().cpu().tolist())
        labels.extend(batch["labels"].cpu().tolist())
    for start in range(0, max(len(rows), 1), ROWS_PER_LINE):
        last = start + ROWS_PER_LINE >= len(rows)
        channel.emit(
            {
                "type": "eval_outputs",
                "split": split,
                "step": step,
                "epoch": epoch,
                "logits": rows[start : start + ROWS_PER_LINE],
                "labels": labels[start : start + ROWS_PER_LINE],
                "final": last,
            }
        )


def _send_mlm(model, examples, job, split, step, epoch, world, channel):
    size = job["training"]["per_device_eval_batch_size"]
    loss_sum, hits, scored = 0.0, 0, 0
    for b, part in enumerate(_batches(examples, size)):
        plain = collate(part, job["padId"], "masked-lm", world.device)
        batch = mask_tokens(plain, job["mlm"], mulberry32(derive_seed(job["training"]["seed"], EVAL_SALT, b)))
        targets = batch["labels"] != IGNORE_INDEX
        if not bool(targets.any()):
            continue
        logits = model(batch["ids"], batch["types"], batch["mask"])
        logits = (logits.logits if hasattr(logits, "logits") else logits)[targets].float()
        y = batch["labels"][targets]
        loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
        hits += int((logits.argmax(-1) == y).sum())
        scored += int(y.numel())
    channel.emit(
        {
            "type": "eval_outputs",
            "split": split,
            "step": step,
            "epoch": epoch,
            "maskedLm": {"lossSum": loss_sum, "hits": hits, "scored": scored, "examples": len(examples)},
            "final": True,
        }
    )
