"""`python -m finetune_worker <job.json>` (or under `torchrun … -m finetune_worker <job.json>`)."""
import os
import sys
import traceback

from . import WORKER_VERSION
from .checkpoint import restore_optimizer
from .dist import World
from .job import load_job
from .loop import Run
from .model import build_model
from .optim import build_optimizer
from .precision import Precision
from .protocol import Channel, WorkerError
from .tensors import read_safetensors

MIN_TORCH = (1, 13)


def main(argv):
    world = World()
    channel = Channel(talks=world.leader)
    code = 0
    try:
        _check_torch()
        if len(argv) != 1:
            raise WorkerError("usage", "usage: python -m finetune_worker <job.json>")
        job = load_job(argv[0])
        run = _prepare(job, world, channel)
        status = run.run()
        code = 0 if status in ("completed", "early-stopped", "stopped", "cancelled") else 1
    except WorkerError as e:
        channel.emit(e.to_message())
        code = 2 if e.code in ("usage", "engine-job-invalid", "precision-conflict", "precision-unsupported") else 1
    except Exception as e:  # noqa: BLE001: anything else is a bug, reported with its trace for the log
        detail = traceback.format_exc()
        sys.stderr.write(detail)
        channel.emit({"type": "error", "error": {"code": "internal", "message": str(e), "detail": detail}, "fatal": True})
        code = 1
    finally:
        world.close()
    return code


def _check_torch():
    import torch

    version = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
    if version < MIN_TORCH:
        raise WorkerError(
            "torch-too-old",
            f"torch {torch.__version__} is older than {'.'.join(map(str, MIN_TORCH))}",
            "Upgrade PyTorch in the Python environment the run uses (pip install -U torch).",
        )


def _prepare(job, world, channel):
    import torch

    precision = Precision(job["training"], world.device)
    model = build_model(job, channel).to(world.device)
    optimizer = build_optimizer(model, job)
    resume = job.get("resume")
    if resume:
        state, _ = read_safetensors(os.path.join(resume["dir"], "model.safetensors"))
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name in state:
                    p.copy_(state[name].to(world.device))
        linear = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
        restore_optimizer(optimizer, resume["dir"], linear)
    model.train()
    if world.distributed:
        ids = [world.device.index] if world.device.type == "cuda" else None
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    where = f"{world.size} processes ({'NCCL' if world.device.type == 'cuda' else 'Gloo'})" if world.distributed else "1 process"
    channel.log("info", f"PyTorch engine {WORKER_VERSION}: torch {torch.__version__} on {world.device}, {where}, {precision.name}")
    return Run(job, model, optimizer, world, channel, precision)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
