/**
 * A binary logistic regression fitted by full-batch gradient descent with L2 weight decay: the diagnostics'
 * reference classifier (a linear probe on frozen features, a bag-of-words baseline). Rows are held whole, so it
 * suits small data sets; training skips each row's zeros, which makes sparse rows (bags of words) cheap.
 */
export interface LogisticOptions {
  /** L2 penalty on the weights (not the bias), added to the mean log-loss as `l2 * |w|^2 / 2`. */
  l2: number;
  epochs: number;
  learningRate: number;
}

export interface LogisticModel {
  weights: Float64Array;
  bias: number;
  /** The logit of class 1 for one feature vector. */
  logit(x: ArrayLike<number>): number;
  /** The fraction of `xs` whose thresholded logit (> 0 for class 1) matches `ys`. */
  accuracy(xs: readonly ArrayLike<number>[], ys: readonly number[]): number;
}

export function fitLogistic(
  xs: readonly ArrayLike<number>[],
  ys: readonly number[],
  o: LogisticOptions,
): LogisticModel {
  if (xs.length === 0 || xs.length !== ys.length)
    throw new Error(`fitLogistic needs as many labels as rows (got ${ys.length} for ${xs.length})`);
  const dim = xs[0]!.length;
  const w = new Float64Array(dim);
  let b = 0;
  const logit = (x: ArrayLike<number>) => {
    let z = b;
    for (let k = 0; k < dim; k++) z += x[k]! * w[k]!;
    return z;
  };
  // Each row's non-zero features, so that sparse rows (bag of words) cost their length, not the vocabulary's.
  const nonZero = xs.map((x) => Int32Array.from({ length: dim }, (_, k) => k).filter((k) => x[k] !== 0));
  const grad = new Float64Array(dim);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    grad.fill(0);
    let gb = 0;
    xs.forEach((x, i) => {
      let z = b;
      for (const k of nonZero[i]!) z += x[k]! * w[k]!;
      const e = 1 / (1 + Math.exp(-z)) - ys[i]!;
      gb += e;
      for (const k of nonZero[i]!) grad[k]! += e * x[k]!;
    });
    for (let k = 0; k < dim; k++) w[k]! -= o.learningRate * (grad[k]! / xs.length + o.l2 * w[k]!);
    b -= (o.learningRate * gb) / xs.length;
  }
  return {
    weights: w,
    bias: b,
    logit,
    accuracy: (vs, labels) => vs.filter((x, i) => (logit(x) > 0 ? 1 : 0) === labels[i]).length / vs.length,
  };
}
