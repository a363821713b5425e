// The public surface in Node: `import * as fl from 'flstm'`. It only re-exports; every module
// imports what it uses from the module that defines it. fl.train here has the trainer and the
// checkpoint folders (node:fs); the browser's entry point (src/browser.ts) has the rest.
export * from './surface.js';
export * as train from './train/index.js';
