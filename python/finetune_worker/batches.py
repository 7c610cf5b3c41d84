"""Batches as the TypeScript engine builds them: the plan's example indices (trainer/engine/schedulePlan.ts),
collated with padding to the longest (trainer/data/collate.ts) and masked for MLM (trainer/data/mlm.ts)."""
import torch

from .random32 import derive_seed, mulberry32

IGNORE_INDEX = -100
SALT_MASK = 0x3A5C
EVAL_SALT = 0x5EEDE7A1


class Plan:
    def __init__(self, plan):
        self.total_steps = plan["totalSteps"]
        self.steps_per_epoch = plan["stepsPerEpoch"]
        self.accumulation = plan["accumulation"]
        self.epochs = plan["batches"]

    def epoch_of(self, step):
        return step // self.steps_per_epoch

    def micro_batches(self, step):
        batches = self.epochs[self.epoch_of(step)]
        pos = step % self.steps_per_epoch
        return batches[pos * self.accumulation : (pos + 1) * self.accumulation]

    def ends_epoch(self, completed):
        return completed % self.steps_per_epoch == 0


def collate(examples, pad_id, task, device):
    n = len(examples)
    length = max(len(e["ids"]) for e in examples)
    ids = torch.full((n, length), pad_id, dtype=torch.long)
    types = torch.zeros((n, length), dtype=torch.long)
    mask = torch.zeros((n, length), dtype=torch.long)
    for b, e in enumerate(examples):
        k = len(e["ids"])
        ids[b, :k] = torch.tensor(e["ids"], dtype=torch.long)
        types[b, :k] = torch.tensor(e["types"], dtype=torch.long)
        mask[b, :k] = 1
    if task == "masked-lm":
        labels = torch.full((n, length), IGNORE_INDEX, dtype=torch.long)
    else:
        labels = torch.tensor([e["label"] for e in examples], dtype=torch.long)
    return {"ids": ids.to(device), "types": types.to(device), "mask": mask.to(device), "labels": labels.to(device)}


def mask_tokens(batch, mlm, rng):
    """80% [MASK], 10% a random ordinary token, 10% unchanged, drawing three numbers per position, padding
    included, in the same order as maskTokens, so both engines mask the same positions the same way."""
    ids = batch["ids"].cpu().flatten().tolist()
    attention = batch["mask"].cpu().flatten().tolist()
    labels = [IGNORE_INDEX] * len(ids)
    special = set(mlm["specialIds"])
    ordinary = [i for i in range(mlm["vocabSize"]) if i not in special]
    for i, token in enumerate(ids):
        select, how, pick = rng(), rng(), rng()
        if attention[i] == 0 or token in special or select >= mlm["probability"]:
            continue
        labels[i] = token
        if how < 0.8:
            ids[i] = mlm["maskId"]
        elif how < 0.9:
            ids[i] = ordinary[int(pick * len(ordinary))]
    shape = batch["ids"].shape
    device = batch["ids"].device
    out = dict(batch)
    out["ids"] = torch.tensor(ids, dtype=torch.long, device=device).view(shape)
    out["labels"] = torch.tensor(labels, dtype=torch.long, device=device).view(shape)
    return out


def training_batch(examples, job, step, micro, device):
    batch = collate(examples, job["padId"], job["task"], device)
    if job["task"] == "masked-lm":
        rng = mulberry32(derive_seed(job["training"]["seed"], SALT_MASK, step, micro))
        batch = mask_tokens(batch, job["mlm"], rng)
    return batch


def shard(batch, rank, world):
    """This rank's rows of a global micro-batch (every world-th, from its rank), cut after collating and masking
    the whole micro-batch, so that each example is padded and masked as a single process would."""
    if world == 1:
        return batch
    rows = torch.arange(rank, batch["ids"].shape[0], world, device=batch["ids"].device)
    return {k: v.index_select(0, rows) for k, v in batch.items()}
