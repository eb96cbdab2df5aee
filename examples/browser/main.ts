// Placeholder until the demo lands: pulls in the browser-safe library surface.
import { init, getContext } from '../../src/index.js';
import { decodeVolume, encodeVolume } from '../../src/io/index.js';
import { checkpointInfo } from '../../src/io/checkpoint.js';
import { syntheticCase } from '../../src/data/synthetic.js';
import { renderSlices } from '../../src/viz/slices.js';

const status = document.getElementById('status')!;
void (async () => {
  await init();
  status.textContent = `${getContext().describe().adapter} ${[decodeVolume, encodeVolume, checkpointInfo, syntheticCase, renderSlices].length}`;
})();
