"""Independent reference for test/trainer/taskMetrics.test.ts, written from the definitions with numpy only
(scipy and sklearn are not installed on every test machine). It reads cases as JSON on stdin and prints the
metrics as JSON. Every formula takes a different route from common/metrics*: Spearman's ranks by counting,
Matthews' correlation as the covariance of one-hot matrices (Gorodkin's definition), F1 from set sizes."""
import json
import sys

import numpy as np


def ranks(x):
    x = np.asarray(x, dtype=np.float64)
    less = (x[None, :] < x[:, None]).sum(axis=1)
    equal = (x[None, :] == x[:, None]).sum(axis=1)
    return less + (equal + 1) / 2.0


def pearson(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def mcc(truth, pred, k):
    t = np.eye(k)[np.asarray(truth)]
    p = np.eye(k)[np.asarray(pred)]
    tc = t - t.mean(axis=0)
    pc = p - p.mean(axis=0)
    cov_tp = (tc * pc).sum()
    cov_tt = (tc * tc).sum()
    cov_pp = (pc * pc).sum()
    if cov_tt == 0 or cov_pp == 0:
        return 0.0
    return float(cov_tp / np.sqrt(cov_tt * cov_pp))


def f1_sets(truth, pred, positive):
    t = set(i for i, v in enumerate(truth) if v == positive)
    p = set(i for i, v in enumerate(pred) if v == positive)
    if not t and not p:
        return 0.0
    return 2.0 * len(t & p) / (len(t) + len(p))


def multilabel(truth, pred):
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(pred, dtype=bool)
    subset = float((t == p).all(axis=1).mean())
    micro = 2.0 * (t & p).sum() / (t.sum() + p.sum()) if (t.sum() + p.sum()) else 0.0
    per = [2.0 * (t[:, c] & p[:, c]).sum() / (t[:, c].sum() + p[:, c].sum())
           for c in range(t.shape[1]) if (t[:, c] | p[:, c]).any()]
    return {"accuracy": subset, "f1_micro": float(micro), "f1_macro": float(np.mean(per)) if per else 0.0}


def main():
    cases = json.load(sys.stdin)
    out = []
    for c in cases:
        if c["kind"] == "regression":
            out.append({"pearson": pearson(c["x"], c["y"]), "spearmanr": pearson(ranks(c["x"]), ranks(c["y"]))})
        elif c["kind"] == "single":
            k = c["k"]
            f1s = [f1_sets(c["truth"], c["pred"], j) for j in range(k)]
            present = [j for j in range(k) if j in c["truth"] or j in c["pred"]]
            out.append({
                "accuracy": float(np.mean(np.asarray(c["truth"]) == np.asarray(c["pred"]))),
                "f1_positive": f1s[1],
                "f1_macro": float(np.mean([f1s[j] for j in present])),
                "matthews_correlation": mcc(c["truth"], c["pred"], k),
            })
        else:
            out.append(multilabel(c["truth"], c["pred"]))
    json.dump(out, sys.stdout)


main()
