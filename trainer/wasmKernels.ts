/**
 * Replacements for five tfjs-backend-wasm 4.22 kernels, registered once for 'wasm' by `patchWasmKernels()`:
 * - Slice / SplitV / Unpack read their input with `readSync`, which copies the *whole* input out of the WASM
 *   heap into a fresh JS buffer on every call: splitting a [8192, 128] tensor into 64 blocks copied 64 × 4 MB
 *   (0.95 s for four such splits in a BERT-tiny layer). These copy only the selected elements, heap to heap.
 * - GatherV2 on axis 0 (embedding lookups) copies whole rows instead of element by element.
 * - Identity (every tensor the gradient tape saves is cloned through it) shares the buffer instead of copying.
 * Same results as the originals (test/trainer/perfWasmKernels.test.ts checks them against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs-core';

type HeapArray = Float32Array | Int32Array | Uint8Array;

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

/** The parts of tfjs-backend-wasm's BackendWasm that the kernels below use. */
interface WasmBackendLike {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfoLike;
  typedArrayFromHeap(t: TensorInfoLike): HeapArray;
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Copies x[begin : begin + size] into dst (row-major). Trailing dimensions taken whole are merged into one
 * contiguous run, so a row-block slice of a 2-D tensor is a single copy.
 */
export function copySlice(
  src: HeapArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dst: HeapArray,
): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0]!;
    return;
  }
  if (size.some((s) => s === 0)) return;
  const strides = stridesOf(shape);
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--;
  const run = size[k]! * strides[k]!;
  const idx = new Array<number>(k).fill(0);
  let o = 0;
  for (;;) {
    let off = begin[k]! * strides[k]!;
    for (let i = 0; i < k; i++) off += (begin[i]! + idx[i]!) * strides[i]!;
    dst.set(src.subarray(off, off + run), o);
    o += run;
    let i = k - 1;
    while (i >= 0) {
      idx[i]!++;
      if (idx[i]! < size[i]!) break;
      idx[i] = 0;
      i--;
    }
    if (i < 0) return;
  }
}

function sliceOn(backend: WasmBackendLike, x: TensorInfoLike, begin: number[], size: number[]): TensorInfoLike {
  const out = backend.makeOutput(size, x.dtype);
  // Views are taken after makeOutput: allocating may grow the heap, which detaches older views.
  copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

let patched = false;

/** Replaces the wasm backend's Slice, SplitV and Unpack kernels (string tensors keep the original path). */
export function patchWasmKernels(): void {
  if (patched) return;
  const originals = new Map<string, tf.KernelFunc>();
  type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: WasmBackendLike };
  const replace = (name: string, impl: (args: KernelArgs) => TensorInfoLike | TensorInfoLike[]) => {
    const orig = tf.getKernel(name, 'wasm');
    if (!orig) return;
    originals.set(name, orig.kernelFunc);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        const first = Object.values(args.inputs)[0] as TensorInfoLike | undefined;
        if (first?.dtype === 'string') return originals.get(name)!(args);
        return impl(args as never);
      }) as tf.KernelFunc,
    });
  };

  replace('Slice', ({ inputs, attrs, backend }) => {
    const x = inputs.x as unknown as TensorInfoLike;
    const [begin, size] = tf.slice_util.parseSliceParams(x as never, attrs!.begin as number[], attrs!.size as number[]);
    return sliceOn(backend, x, begin!, size!);
  });

  replace('SplitV', ({ inputs, attrs, backend }) => {
    const x = inputs.x as unknown as TensorInfoLike;
    const axis = tf.util.parseAxisParam(attrs!.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as never, attrs!.numOrSizeSplits as number[] | number, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const out = sliceOn(backend, x, [...begin], size);
      begin[axis]! += s;
      return out;
    });
  });

  replace('Unpack', ({ inputs, attrs, backend }) => {
    const x = inputs.value as unknown as TensorInfoLike;
    let axis = attrs!.axis as number;
    if (axis < 0) axis += x.shape.length;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const size = [...x.shape];
    size[axis] = 1;
    const outs: TensorInfoLike[] = [];
    for (let i = 0; i < x.shape[axis]!; i++) {
      const begin = new Array<number>(x.shape.length).fill(0);
      begin[axis] = i;
      const o = sliceOn(backend, x, begin, size);
      outs.push({ dataId: o.dataId, dtype: o.dtype, shape: outShape });
    }
    return outs;
  });
  // Row gathers (embedding lookups): the original checks every index through a closure and copies element by
  // element in C++; a row is one contiguous copy here. Other axes / batch dims keep the original kernel.
  const gatherOrig = originals.get('GatherV2') ?? tf.getKernel('GatherV2', 'wasm')?.kernelFunc;
  replace('GatherV2', (args) => {
    const { inputs, attrs, backend } = args;
    const x = inputs.x as unknown as TensorInfoLike;
    const indices = inputs.indices as unknown as TensorInfoLike;
    const axis = tf.util.parseAxisParam(attrs!.axis as number, x.shape)[0];
    if (
      axis !== 0 ||
      ((attrs!.batchDims as number | undefined) ?? 0) !== 0 ||
      indices.dtype !== 'int32' ||
      !gatherOrig
    ) {
      return gatherOrig!(args as never) as TensorInfoLike;
    }
    const rows = x.shape[0]!;
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
    const n = tf.util.sizeFromShape(indices.shape);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const src = backend.typedArrayFromHeap(x);
    const idx = backend.typedArrayFromHeap(indices);
    const dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < n; i++) {
      const r = idx[i]!;
      if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      dst.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
    }
    return out;
  });

  // tfjs clones every tensor the gradient tape saves; the wasm Identity kernel copies the data each time
  // (the cpu backend shares it). Tensors are immutable, so sharing the buffer with a reference count is safe.
  replace('Identity', ({ inputs, backend }) => {
    const x = inputs.x as unknown as TensorInfoLike;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  patched = true;
}
