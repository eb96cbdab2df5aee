// The stderr filter of the CLI and the example: Dawn's, Mesa's and the Vulkan loader's native
// diagnostics go, everything else (real errors, partial lines, the tool's own output) stays.
import { describe, expect, it } from 'vitest';
import { isVerbose, NoiseFilter } from '../../src/cli/quiet.js';

const filtered = (...chunks: string[]): string => {
  const f = new NoiseFilter();
  return chunks.map((c) => f.push(c)).join('') + f.end();
};

describe('NoiseFilter', () => {
  it("drops llvmpipe's limit warnings, the Vulkan probes with their stack lines, and Mesa's XDG_RUNTIME_DIR error", () => {
    const noise = [
      'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16 to fit dynamic offset allocation limit.',
      'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 80 to 16 to fit dynamic offset allocation limit.',
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory",
      '    at operator() (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)',
      '',
      'Warning: vkCreateInstance: Found no drivers!',
      'Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER',
      '    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)',
      '',
      'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.',
      ' - While initializing adapter (backend=BackendType::Vulkan)',
      '    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)',
      '',
    ].join('\n');
    expect(filtered(`${noise}\n`)).toBe('');
    expect(filtered(`${noise}\nvoxgpu: error: scan.nii: no such file\n`)).toBe('voxgpu: error: scan.nii: no such file\n');
  });

  it('keeps real errors and warnings, blank lines of its own and lines split across chunks', () => {
    const text =
      'voxgpu: warning: spacings differ\n\nError: WebGPU reported an error: out of memory\n    at Context.read ' +
      '(context.ts:1)\nWarning: something Dawn has not said before\n';
    expect(filtered(text)).toBe(text);
    expect(
      filtered('Warning: maxDynamicUniformBuffers', 'PerPipelineLayout artificially reduced from 90 to 16.\nvox', 'gpu: error: x\n'),
    ).toBe('voxgpu: error: x\n');
  });

  it('passes a partial line that cannot be noise through at once, and holds one that may be', () => {
    const f = new NoiseFilter();
    expect(f.push('50% done')).toBe('50% done');
    expect(f.push('\nWarn')).toBe('\n');
    expect(f.push('ing: real trouble\n')).toBe('Warning: real trouble\n');
    expect(f.push('tail without newline')).toBe('tail without newline');
    expect(f.end()).toBe('');
  });

  it('VOXGPU_VERBOSE=1 turns it off', () => {
    expect(isVerbose({ VOXGPU_VERBOSE: '1' })).toBe(true);
    expect(isVerbose({ VOXGPU_VERBOSE: 'true' })).toBe(true);
    expect(isVerbose({})).toBe(false);
    expect(isVerbose({ VOXGPU_VERBOSE: '0' })).toBe(false);
  });
});
