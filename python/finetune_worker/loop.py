"""The training loop, stage for stage as trainer/engine/trainLoop.ts, trainEval.ts, trainSave.ts and
trainFinish.ts: steps with accumulation, clipping, AdamW and the schedule; step reports; evaluation with best-model
tracking and early stopping; checkpoints with save_total_limit; the host's stop / save_now / cancel; and the end:
final save, the best model loaded back, the test evaluation and `done`."""
import contextlib
import math
import os
import time

import torch
import torch.nn.functional as F

from .batches import IGNORE_INDEX, Plan, shard, training_batch
from .checkpoint import checkpoint_dir, prune, save_checkpoint
from .evaluation import evaluate
from .optim import set_rates, trainable_parameters
from .protocol import WorkerError
from .random32 import derive_seed
from .tensors import read_safetensors

SALT_DROPOUT = 0xD40F
REPORT_EVERY_S = 5.0


class Run:
    def __init__(self, job, model, optimizer, world, channel, precision):
        self.job = job
        self.t = job["training"]
        self.model = model
        self.core = model.module if hasattr(model, "module") else model
        self.optimizer = optimizer
        self.world = world
        self.channel = channel
        self.precision = precision
        self.plan = Plan(job["plan"])
        self.data = job["data"]
        self.state = job["state"]
        self.step = self.state["global_step"]
        self.first_step = self.step
        self.last_saved = self.step if job.get("resume") else -1
        self.best_step = None
        self.last_eval = None
        self.checkpoints = list(job.get("checkpoints", []))
        self.t0 = time.time() - job.get("elapsedBeforeMs", 0) / 1000
        self.session_start = time.time()
        self.window = _window()
        self.last_report = 0.0

    # The loop ---------------------------------------------------------------------------------------------------

    def run(self):
        status = "completed"
        while self.step < self.plan.total_steps:
            started = time.time()
            loss, grad_norm, factor = self.train_step(self.step)
            self.step += 1
            self.window["loss"] += loss
            self.window["steps"] += 1
            self.window["s"] += time.time() - started
            self.report(grad_norm, factor)
            ended = self.after_step()
            if ended:
                status = ended
                break
        return self.finish(status)

    def train_step(self, step):
        micro = self.plan.micro_batches(step)
        params = trainable_parameters(self.optimizer)
        loss_value = 0.0
        for j, indices in enumerate(micro):
            examples = [self.data["train"][i] for i in indices]
            whole = training_batch(examples, self.job, step, j, self.world.device)
            batch = shard(whole, self.world.rank, self.world.size)
            # A micro-batch smaller than the world leaves some ranks no row: they still take part in the gradient
            # all-reduce, with one row weighted zero.
            weight = 1.0 if batch["ids"].shape[0] else 0.0
            if not weight:
                batch = shard(whole, 0, self.world.size)
            torch.manual_seed(derive_seed(self.t["seed"], SALT_DROPOUT, step, j, self.world.rank))
            sync = j == len(micro) - 1
            with (contextlib.nullcontext() if sync or not self.world.distributed else self.model.no_sync()):
                local_sum, local_n = self.loss_sum(batch)
                local_sum, local_n = local_sum * weight, int(local_n * weight)
                global_n = self.global_count(batch, local_n)
                # The mean over the whole micro-batch, whichever rank holds which rows: DDP averages over ranks.
                scaled = local_sum * (self.world.size / max(global_n, 1)) / len(micro)
                self.precision.backward(scaled)
            total = self.world.sum([float(local_sum.detach())])[0]
            loss_value += total / max(global_n, 1) / len(micro)
            self.window["samples"] += int(batch["ids"].shape[0] * weight)
            self.window["tokens"] += int(batch["mask"].sum() * weight)
        self.precision.unscale(self.optimizer)
        grad_norm = _clip(params, self.t["max_grad_norm"])
        factor = self.job["lrFactors"][step]
        if not math.isfinite(loss_value):
            self.diverged(step, loss_value, factor)
        set_rates(self.optimizer, factor)
        self.precision.step(self.optimizer)
        self.optimizer.zero_grad(set_to_none=True)
        return loss_value, grad_norm, factor

    def loss_sum(self, batch):
        """The summed loss of this rank's rows, and how many rows (classification) or tokens (MLM) it counts."""
        with self.precision.autocast():
            out = self.model(batch["ids"], batch["types"], batch["mask"])
            logits = (out.logits if hasattr(out, "logits") else out).float()
        if self.job["task"] == "masked-lm":
            y = batch["labels"].reshape(-1)
            s = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y, ignore_index=IGNORE_INDEX, reduction="sum")
            return s, int((y != IGNORE_INDEX).sum())
        return F.cross_entropy(logits, batch["labels"], reduction="sum"), int(logits.shape[0])

    def global_count(self, batch, local_n):
        return int(round(self.world.sum([float(local_n)])[0]))

    def diverged(self, step, loss, factor):
        self.optimizer.zero_grad(set_to_none=True)
        self.channel.emit(
            {
                "type": "step",
                "step": step + 1,
                "epoch": (step + 1) / self.plan.steps_per_epoch,
                "loss": None,
                "learningRate": self.t["learning_rate"] * factor,
                "gradNorm": None,
                "samplesPerSecond": 0,
                "tokensPerSecond": 0,
                "elapsedMs": self.elapsed_ms(),
                "etaMs": None,
            }
        )
        raise WorkerError(
            "loss-diverged",
            f"the loss became {loss} at step {step + 1}",
            "Lower learning_rate, add warm-up (warmup_ratio: 0.1), or keep max_grad_norm at 1.",
        )

    def report(self, grad_norm, factor):
        total = self.plan.total_steps
        due = self.step % self.t["logging_steps"] == 0 or self.step == total or self.step == self.first_step + 1
        if not due and time.time() - self.last_report < REPORT_EVERY_S:
            return
        self.last_report = time.time()
        w = self.window
        seconds = max(w["s"], 1e-3)
        samples, tokens = self.world.sum([float(w["samples"]), float(w["tokens"])])
        per_rank = self.world.gather(round(w["samples"] / seconds, 1))
        per_step = (time.time() - self.session_start) / (self.step - self.first_step)
        entry = {
            "type": "step",
            "step": self.step,
            "epoch": self.step / self.plan.steps_per_epoch,
            "loss": w["loss"] / w["steps"],
            "learningRate": self.t["learning_rate"] * factor,
            "gradNorm": grad_norm if math.isfinite(grad_norm) else None,
            "samplesPerSecond": samples / seconds,
            "tokensPerSecond": tokens / seconds,
            "elapsedMs": self.elapsed_ms(),
            "etaMs": per_step * 1000 * (total - self.step),
        }
        self.state["log_history"].append(
            {"step": self.step, "epoch": entry["epoch"], "loss": entry["loss"], "learning_rate": entry["learningRate"], "grad_norm": entry["gradNorm"]}
        )
        self.channel.emit(entry)
        if self.world.distributed:
            rates = ", ".join(f"rank {r}: {x} samples/s" for r, x in enumerate(per_rank))
            self.channel.log("info", f"step {self.step}: {rates}")
        self.window = _window()

    def after_step(self):
        t = self.t
        epoch_end = self.plan.ends_epoch(self.step)
        eval_every = t.get("eval_steps") or t["logging_steps"]
        eval_due = (t["eval_strategy"] == "steps" and self.step % eval_every == 0) or (
            t["eval_strategy"] == "epoch" and epoch_end
        )
        stop_early = self.eval_at(self.step) if self.data["validation"] and eval_due else False
        flags = self.world.share(dict(self.channel.flags))
        self.channel.flags["save_now"] = False
        if flags["cancel"]:
            return "cancelled"
        scheduled = (t["save_strategy"] == "steps" and self.step % t["save_steps"] == 0) or (
            t["save_strategy"] == "epoch" and epoch_end
        )
        if scheduled or flags["save_now"] or flags["stop"]:
            self.save_at(self.step)
        if flags["stop"]:
            return "stopped"
        if stop_early:
            used = self.state["patience_used"]
            evaluations = "evaluation" if used == 1 else "evaluations"
            self.channel.log("info", f"Early stopping: {self.job['metricName']} did not improve for {used} {evaluations}.")
            return "early-stopped"
        return None

    # Evaluation, checkpoints and the end ------------------------------------------------------------------------

    def eval_at(self, at_step):
        epoch = at_step / self.plan.steps_per_epoch
        reply = evaluate(self.core, self.data["validation"], self.job, "validation", at_step, epoch, self.world, self.channel)
        reply = self.world.share(reply)
        if reply is None:
            self.channel.flags["cancel"] = True
            return False
        metrics = reply["metrics"]
        self.last_eval = metrics
        is_best, stop_early = self.judge(at_step, metrics.get(self.job["metricName"]))
        self.state["log_history"].append({"step": at_step, "epoch": epoch, **{f"eval_{k}": v for k, v in metrics.items()}})
        message = _eval_message(reply, at_step, epoch, "validation", is_best)
        if self.t.get("early_stopping_patience") is not None:
            message["patienceUsed"] = self.state["patience_used"]
        self.channel.emit(message)
        return stop_early

    def judge(self, at_step, value):
        if value is None or not math.isfinite(value):
            return False, False
        best = self.state.get("best_metric")
        greater = self.job["greaterIsBetter"]
        is_best = best is None or (value > best if greater else value < best)
        stop_early = False
        patience = self.t.get("early_stopping_patience")
        if patience is not None:
            improved = best is None or (is_best and abs(value - best) > self.t["early_stopping_threshold"])
            self.state["patience_used"] = 0 if improved else self.state["patience_used"] + 1
            stop_early = self.state["patience_used"] >= patience
        if is_best:
            self.state["best_metric"] = value
            self.best_step = at_step
        return is_best, stop_early

    def save_at(self, at_step):
        run_dir = self.job["runDir"]
        self.state["global_step"] = at_step
        self.state["epoch"] = at_step / self.plan.steps_per_epoch
        self.state["data_position"] = {
            "epoch": self.plan.epoch_of(at_step),
            "step_in_epoch": at_step % self.plan.steps_per_epoch,
        }
        folder = checkpoint_dir(run_dir, at_step)
        is_best = self.best_step == at_step
        if is_best:
            self.state["best_model_checkpoint"] = folder
        deleted = []
        if self.world.leader:
            params = {n: p for n, p in self.core.named_parameters()}
            save_checkpoint(run_dir, at_step, params, self.optimizer, self.job, self.state)
            deleted = prune(run_dir, self.t.get("save_total_limit"), [self.state.get("best_model_checkpoint"), folder])
        self.world.barrier()
        self.last_saved = at_step
        self.checkpoints = [c for c in self.checkpoints if c != folder and c not in deleted] + [folder]
        self.channel.emit({"type": "checkpoint", "step": at_step, "path": folder, "isBest": is_best, "deleted": deleted})

    def finish(self, status):
        ran_to_end = status in ("completed", "early-stopped")
        if ran_to_end:
            self.save_final()
        final_metrics = self.last_eval
        if self.data["test"] and ran_to_end:
            final_metrics = self.test_eval()
        done = {"type": "done", "status": status, "step": self.step, "elapsedMs": self.elapsed_ms()}
        if self.state.get("best_metric") is not None:
            done["bestMetric"] = self.state["best_metric"]
        if self.state.get("best_model_checkpoint"):
            done["bestCheckpoint"] = self.state["best_model_checkpoint"]
        if self.last_saved >= 0:
            done["lastCheckpoint"] = checkpoint_dir(self.job["runDir"], self.last_saved)
        if final_metrics:
            done["finalMetrics"] = final_metrics
        self.channel.emit(done)
        return status

    def save_final(self):
        if self.last_saved != self.step:
            self.save_at(self.step)
        best = self.state.get("best_model_checkpoint")
        last = checkpoint_dir(self.job["runDir"], self.step)
        if not self.t["load_best_model_at_end"] or not best or os.path.realpath(best) == os.path.realpath(last):
            return
        state, _ = read_safetensors(os.path.join(best, "model.safetensors"))
        with torch.no_grad():
            for name, p in self.core.named_parameters():
                p.copy_(state[name].to(p.device))
        self.channel.log("info", f"Loaded the best model ({self.job['metricName']} = {self.state['best_metric']}) from {best}.")

    def test_eval(self):
        epoch = self.step / self.plan.steps_per_epoch
        reply = self.world.share(evaluate(self.core, self.data["test"], self.job, "test", self.step, epoch, self.world, self.channel))
        if reply is None:
            return self.last_eval
        self.channel.emit(_eval_message(reply, self.step, epoch, "test", False))
        return reply["metrics"]

    def elapsed_ms(self):
        return (time.time() - self.t0) * 1000


def _eval_message(reply, step, epoch, split, is_best):
    """An `eval` message from the engine's `eval_metrics` answer: its metrics and the tables it has."""
    message = {"type": "eval", "step": step, "epoch": epoch, "split": split, "metrics": reply["metrics"], "isBest": is_best}
    message.update({k: reply[k] for k in ("labels", "confusion", "perClass", "classes") if k in reply})
    return message


def _window():
    return {"loss": 0.0, "steps": 0, "samples": 0, "tokens": 0, "s": 0.0}


def _clip(params, max_norm):
    """torch.nn.utils.clip_grad_norm_ (HF's Trainer calls it with max_grad_norm); <= 0 only measures."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if max_norm and max_norm > 0:
        return float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    return float(torch.norm(torch.stack([torch.norm(g.detach(), 2) for g in grads]), 2))
