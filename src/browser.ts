// The public surface in a browser (package.json "exports", condition "browser"): what Node's
// `import * as fl from 'flstm'` has, but fl.train without the parts that read and write files
// (the trainer, checkpoint folders, metrics files). It only re-exports.
export * from './surface.js';
export * as train from './train/portable.js';
