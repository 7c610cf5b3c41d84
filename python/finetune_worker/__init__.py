"""The PyTorch engine of Fine-Tune Studio: a training worker that speaks the trainer's JSON-lines protocol.

The TypeScript trainer prepares a job (the data encoded, the batch order, the parameter settings, the schedule) and
starts this package with `python -m finetune_worker <job.json>`, or under `torchrun` for several processes. It runs
its own training loop, mirroring trainer/engine/train*.ts, and writes checkpoints in the same layout.
"""

WORKER_VERSION = "1"
