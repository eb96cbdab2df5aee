// The op test page: the library as a browser bundle sees it, with the shared op cases, exposed to
// the test as window.harness.
import type { Description } from '../../../src/index.js';
import { lib } from '../lib.js';
import { opCases, runOpCase, type CaseResult } from '../op-cases.js';

export interface Harness {
  names: string[];
  init(): Promise<Description>;
  run(name: string): Promise<CaseResult>;
}

const harness: Harness = {
  names: Object.keys(opCases),
  async init() {
    await lib.init();
    return lib.getContext().describe();
  },
  run: (name) => runOpCase(lib, name),
};
(window as unknown as { harness: Harness }).harness = harness;
document.getElementById('status')!.textContent = 'ready';
