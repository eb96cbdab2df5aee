// The op test page: the library as a browser bundle sees it, with the shared op cases, exposed to
// the test as window.harness.
import * as voxgpu from '../../../src/index.js';
import { opCases, runOpCase, type CaseLib, type CaseResult } from '../op-cases.js';

export interface Harness {
  names: string[];
  init(): Promise<voxgpu.Description>;
  run(name: string): Promise<CaseResult>;
}

const harness: Harness = {
  names: Object.keys(opCases),
  async init() {
    await voxgpu.init();
    return voxgpu.getContext().describe();
  },
  run: (name) => runOpCase(voxgpu as CaseLib, name),
};
(window as unknown as { harness: Harness }).harness = harness;
document.getElementById('status')!.textContent = 'ready';
