"""The JSON-lines channel to the TypeScript side: messages out on stdout (rank 0 only), host messages in on stdin.

The message shapes are declared once, in common/protocol.ts and common/engineJob.ts; the bridge
(trainer/pytorch/bridge.ts) checks every line this writes against them before anything else reads it.
"""
import json
import math
import queue
import sys
import threading

# The bridge refuses longer lines (MAX_HOST_LINE in common/protocol.ts is for the other direction; these come in).
MAX_IN_LINE = 64 * 1024 * 1024


def _finite(value):
    """NaN and infinities never reach JSON: the protocol sends null for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class Channel:
    """Rank 0 talks; the other ranks' channel is silent and never reads stdin."""

    def __init__(self, talks):
        self.talks = talks
        self.flags = {"stop": False, "save_now": False, "cancel": False}
        self.replies = queue.Queue()
        self._out = sys.stdout
        # Anything else that prints (a library's warning) must not corrupt the protocol stream.
        sys.stdout = sys.stderr
        if talks:
            threading.Thread(target=self._read, daemon=True).start()

    def emit(self, message):
        if not self.talks:
            return
        self._out.write(json.dumps(_finite(message), separators=(",", ":")) + "\n")
        self._out.flush()

    def log(self, level, text):
        self.emit({"type": "log", "level": level, "message": text})

    def _read(self):
        for line in sys.stdin:
            if len(line) > MAX_IN_LINE:
                continue
            try:
                m = json.loads(line)
            except ValueError:
                continue
            kind = m.get("type") if isinstance(m, dict) else None
            if kind in self.flags:
                self.flags[kind] = True
            elif kind == "eval_metrics":
                self.replies.put(m)
        # The host closed stdin: it is gone, so the run stops as a cancelled one would, without saving.
        self.flags["cancel"] = True
        self.replies.put(None)

    def await_reply(self, timeout=600):
        """The bridge's answer to `eval_outputs`; None when the host went away."""
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            raise WorkerError("bridge-silent", f"no evaluation metrics came back within {timeout} s") from None


class WorkerError(Exception):
    """A user-facing error: a code, a message and a fix, as FineTuneError on the TypeScript side."""

    def __init__(self, code, message, fix=None):
        super().__init__(message)
        self.code = code
        self.fix = fix

    def to_message(self):
        error = {"code": self.code, "message": str(self)}
        if self.fix:
            error["fix"] = self.fix
        return {"type": "error", "error": error, "fatal": True}
