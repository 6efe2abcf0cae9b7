// tumorscope's data layer: reading MRI slices the way users have them, checking them, splitting by patient,
// preprocessing and augmenting them for training. One entry point for the rest of the code base; note that
// augment.ts and batch.ts load the libtorch engine, so code that only reads data (the CLI's `data inspect`)
// imports the files it needs directly.

// Feeding training
export * from './augment.ts';
export * from './batch.ts';
// Reading and checking
export * from './clinical-csv.ts';
export * from './dataset-index.ts';
// Splitting
export * from './dataset-split.ts';
// Seeing
export * from './dataset-summary.ts';
export * from './errors.ts';
export * from './image.ts';
export * from './overlay-grid.ts';
export * from './preprocess.ts';
export * from './random.ts';
export * from './read-image.ts';
export * from './sampler.ts';
export * from './slice-cache.ts';
export * from './split.ts';
export * from './split-manifest.ts';
export * from './tiff.ts';
