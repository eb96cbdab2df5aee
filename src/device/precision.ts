// The precision choice: 'fp32' everywhere (the default), or 'mixed': convolutions take f16 operands
// and accumulate in f32 on tensor cores through WGSL subgroup matrices, everything else (PReLU,
// softmax, Dice, the optimizer, the weights) staying f32. Only adapters that offer f16 → f32
// 16×16×16 subgroup matrices in subgroups of exactly 32 invocations run it (the GEMM kernel finds
// its subgroups by invocation index: kernels/conv/mma.wgsl).
import { workgroupBytes } from './kernel-info.js';

export type PrecisionChoice = 'fp32' | 'mixed' | 'mixed-if-available';
export const precisionChoices: readonly PrecisionChoice[] = ['fp32', 'mixed', 'mixed-if-available'];

/**
 * Workgroup memory of the tensor-core kernel's smallest tile, its override defaults (one subgroup
 * of 2 × 1 fragments): the tile the conv family falls back to (src/ops/conv/tensor-core.ts).
 */
const mmaWorkgroupBytes = (): number => workgroupBytes('conv/mma-native-2-1-staged');

/** The device features the mixed precision needs. */
export const tensorCoreFeatures = ['shader-f16', 'chromium-experimental-subgroup-matrix'] as GPUFeatureName[];

interface MatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

interface TensorCoreInfo {
  subgroupMatrixConfigs?: readonly MatrixConfig[];
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
}

/** The adapter's subgroup-matrix configurations, e.g. 'f16→f32 16×16×16' (none without the feature). */
export function matrixConfigs(adapter: GPUAdapter): string[] {
  const configs = (adapter.info as unknown as TensorCoreInfo).subgroupMatrixConfigs ?? [];
  return configs.map((c) => `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`);
}

/** Why this adapter cannot run the mixed precision, or null when it can. */
export function tensorCoreProblem(adapter: GPUAdapter): string | null {
  const missing = tensorCoreFeatures.filter((f) => !adapter.features.has(f));
  if (missing.length) return `the adapter lacks ${missing.join(' and ')}`;
  if (!matrixConfigs(adapter).includes('f16→f32 16×16×16'))
    return `the adapter offers no f16→f32 16×16×16 subgroup matrix (it offers: ${matrixConfigs(adapter).join(', ') || 'none'})`;
  const { subgroupMinSize: min, subgroupMaxSize: max } = adapter.info as unknown as TensorCoreInfo;
  if (min !== 32 || max !== 32)
    return `the kernels need subgroups of exactly 32 invocations (the adapter's: ${min ?? '?'} to ${max ?? '?'})`;
  if (adapter.limits.maxComputeWorkgroupStorageSize < mmaWorkgroupBytes()) {
    return (
      `the kernels need ${mmaWorkgroupBytes()} bytes of workgroup memory (the adapter's: ` +
      `${adapter.limits.maxComputeWorkgroupStorageSize})`
    );
  }
  return null;
}
