"""fp32, or mixed precision with HF's switches: `bf16` (autocast, no scaler) and `fp16` (autocast with a
GradScaler). Refused, with the reason, where the device cannot do them."""
import contextlib

import torch

from .protocol import WorkerError


class Precision:
    def __init__(self, training, device):
        self.dtype = None
        self.scaler = None
        self.device = device
        if training.get("fp16") and training.get("bf16"):
            raise WorkerError("precision-conflict", "fp16 and bf16 are both on", "Turn one of them off.")
        if training.get("fp16"):
            if device.type != "cuda":
                raise WorkerError(
                    "precision-unsupported",
                    "fp16 needs a CUDA GPU; this run is on the CPU",
                    "Use bf16: true on a CPU, or remove fp16.",
                )
            self.dtype = torch.float16
            self.scaler = torch.cuda.amp.GradScaler()
        elif training.get("bf16"):
            if device.type == "cuda" and not torch.cuda.is_bf16_supported():
                raise WorkerError(
                    "precision-unsupported",
                    f"bf16 is not supported by {torch.cuda.get_device_name(device)}",
                    "Use fp16: true on this GPU (Ampere or newer has bf16).",
                )
            self.dtype = torch.bfloat16

    @property
    def name(self):
        return {None: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def backward(self, loss):
        (self.scaler.scale(loss) if self.scaler else loss).backward()

    def unscale(self, optimizer):
        if self.scaler:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer):
        if self.scaler:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()
