"""The job the TypeScript trainer prepares (declared in common/engineJob.ts): read with a bound, and checked for
the fields this worker uses, so that a job from another version fails with a clear message, not a KeyError."""
import json
import os

from .protocol import WorkerError

JOB_FORMAT_VERSION = 1
MAX_JOB_BYTES = 4 << 30

REQUIRED = {
    "formatVersion": int,
    "runDir": str,
    "task": str,
    "model": dict,
    "configJson": dict,
    "tokenizerDir": str,
    "padId": int,
    "data": dict,
    "plan": dict,
    "params": list,
    "lrFactors": list,
    "training": dict,
    "metricName": str,
    "greaterIsBetter": bool,
    "state": dict,
}


def load_job(path):
    size = os.path.getsize(path)
    if size > MAX_JOB_BYTES:
        raise WorkerError("engine-job-invalid", f"{path} has {size} bytes, more than a job may ({MAX_JOB_BYTES})")
    with open(path, encoding="utf-8") as f:
        job = json.load(f)
    if not isinstance(job, dict):
        raise WorkerError("engine-job-invalid", f"{path} is not a job object")
    for key, kind in REQUIRED.items():
        if not isinstance(job.get(key), kind):
            raise WorkerError(
                "engine-job-invalid",
                f"{path}: `{key}` is missing or not a {kind.__name__}",
                "Use the PyTorch worker shipped with the same version of Fine-Tune Studio as the trainer.",
            )
    if job["formatVersion"] != JOB_FORMAT_VERSION:
        raise WorkerError(
            "engine-job-invalid",
            f"{path} has format {job['formatVersion']}; this worker reads {JOB_FORMAT_VERSION}",
            "Use the PyTorch worker shipped with the same version of Fine-Tune Studio as the trainer.",
        )
    return job
