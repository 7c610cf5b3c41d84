/**
 * The keys of the PyTorch engine (trainer/pytorch/, python/finetune_worker/): which engine trains, mixed
 * precision with Hugging Face's switches, and `torchrun`'s launch settings with their names.
 */
import type { BooleanSpec, EnumSpec, SectionSpec } from './spec';

export const ENGINES = ['tfjs', 'pytorch'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface DistributedConfig {
  nproc_per_node: number;
  nnodes: number;
  node_rank: number;
  master_addr: string;
  master_port: number;
}

export const engineField: EnumSpec<EngineName> = {
  type: 'enum',
  values: ENGINES,
  default: 'tfjs',
  description:
    'Which engine trains: the built-in TensorFlow.js engine (no install, any GPU through WebGPU), or PyTorch ' +
    '(`torch` in the Python of `finetune.python`; CUDA, mixed precision, several GPUs and machines through `torchrun`).',
  valueDocs: {
    tfjs: 'TensorFlow.js in the trainer process: zero install, offline, CPU (WebAssembly) or any GPU (WebGPU).',
    pytorch:
      'A PyTorch worker (python/finetune_worker) speaking the same protocol and writing the same run folder; ' +
      'uses `transformers` models when installed, else a built-in BERT.',
  },
};

const precision = (name: 'fp16' | 'bf16', what: string): BooleanSpec => ({
  type: 'boolean',
  default: false,
  hf: `TrainingArguments.${name}`,
  description: `Mixed precision with ${what} (engine: pytorch only). ${
    name === 'fp16' ? 'Needs a CUDA GPU; uses a gradient scaler.' : 'On Ampere or newer GPUs, or the CPU.'
  }`,
});
export const precisionFields = {
  fp16: precision('fp16', 'float16 autocast'),
  bf16: precision('bf16', 'bfloat16 autocast'),
};

export const distributedSection: SectionSpec<DistributedConfig> = {
  type: 'section',
  description:
    'Data-parallel training with `torchrun` (engine: pytorch): NCCL on GPUs, Gloo on CPUs. ' +
    '`per_device_train_batch_size` is per process, as in Hugging Face: the global batch is it × processes × ' +
    '`gradient_accumulation_steps`. Rank 0 writes the run folder.',
  fields: {
    nproc_per_node: {
      type: 'integer',
      minimum: 1,
      maximum: 1024,
      default: 1,
      description: 'Processes on this machine (usually one per GPU). 1 runs without torchrun.',
      hf: 'torchrun --nproc_per_node',
    },
    nnodes: {
      type: 'integer',
      minimum: 1,
      maximum: 4096,
      default: 1,
      description: 'Machines taking part; each starts the same config with its own `node_rank`.',
      hf: 'torchrun --nnodes',
    },
    node_rank: {
      type: 'integer',
      minimum: 0,
      maximum: 4095,
      default: 0,
      description: 'This machine’s rank, 0 to nnodes − 1; rank 0 writes the run folder.',
      hf: 'torchrun --node_rank',
    },
    master_addr: {
      type: 'string',
      default: '127.0.0.1',
      description: 'Address of the rank-0 machine, reachable from every node.',
      hf: 'torchrun --master_addr',
    },
    master_port: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      default: 29500,
      description: 'A free TCP port on the rank-0 machine.',
      hf: 'torchrun --master_port',
    },
  },
};
