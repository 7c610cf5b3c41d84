/** Small helpers shared by the benchmark scripts. */
import * as tf from '@tensorflow/tfjs-core';

/** The value after `flag` on the command line (`--steps 5`), or undefined. */
export function argValue(flag: string, argv: readonly string[] = process.argv): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Size of the WASM backend's linear memory. It only ever grows (WebAssembly memory cannot shrink), so its
 * size at the end of a run is its peak.
 */
export function wasmHeapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}
