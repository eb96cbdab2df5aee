export * from './mask.js';
export * from './overlap.js';
export * from './edt.js';
export * from './surface.js';
export * from './components.js';
export * from './evaluate.js';
