/**
 * `node dist/gpuProbe.js [adapter]`: prints one GpuProbeResult line (common/gpuProbe.ts) and exits. Run by the
 * extension's environment check in its own process; no tfjs is loaded.
 */
import { listAdapterNames, requestAdapter, summarize } from './dawn';
import type { GpuProbeResult } from '../../common/gpuProbe';

async function probe(adapterName: string | undefined): Promise<GpuProbeResult> {
  const bundleDir = __dirname;
  const why = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  let adapters: string[];
  try {
    adapters = await listAdapterNames(bundleDir);
  } catch (e) {
    return { adapters: [], chosen: null, error: why(e) };
  }
  try {
    const adapter = await requestAdapter({ bundleDir, ...(adapterName ? { adapterName } : {}) });
    if (!adapter) return { adapters, chosen: null, error: 'Dawn found no WebGPU adapter' };
    const { device: _device, ...chosen } = summarize(adapter);
    return { adapters, chosen };
  } catch (e) {
    // A `finetune.gpu` that matches no adapter: the list says what there is.
    return { adapters, chosen: null, error: why(e) };
  }
}

void probe(process.argv[2]).then((r) => {
  process.stdout.write(JSON.stringify(r) + '\n');
  // Dawn's instance may keep the event loop alive; the answer is out.
  process.exit(0);
});
