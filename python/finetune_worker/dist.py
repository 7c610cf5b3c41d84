"""Distributed training under torchrun: the process group (NCCL on GPUs, Gloo on CPU), this process's device, and
small collective helpers that are no-ops in a single process."""
import os

import torch
import torch.distributed as td


class World:
    def __init__(self):
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            self.device = torch.device("cuda", local)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        self.distributed = self.size > 1
        if self.distributed:
            td.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def leader(self):
        return self.rank == 0

    def sum(self, values):
        """Element-wise sum of a list of floats over every rank."""
        if not self.distributed:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        td.all_reduce(t)
        return t.tolist()

    def gather(self, value):
        if not self.distributed:
            return [value]
        out = [None] * self.size
        td.all_gather_object(out, value)
        return out

    def share(self, value):
        """Rank 0's value, on every rank (the host's stop / cancel, the bridge's metrics)."""
        if not self.distributed:
            return value
        box = [value]
        td.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self):
        if self.distributed:
            td.barrier()

    def close(self):
        if self.distributed and td.is_initialized():
            td.destroy_process_group()
