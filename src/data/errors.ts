// Typed errors of the data layer. Every one names the file (or folder) it is about, so that a user with 3,000
// slices knows which one to look at; `code` lets callers (and the skip-bad-files option) tell them apart.

export type DataErrorCode =
  | 'unreadable-image'
  | 'unsupported-image'
  | 'mask-size-mismatch'
  | 'mask-values'
  | 'mask-without-image'
  | 'image-without-mask'
  | 'empty-dataset'
  | 'missing-metadata'
  | 'bad-metadata'
  | 'not-found'
  | 'bad-entry'
  | 'bad-manifest'
  | 'image-too-large'
  | 'too-many-slices'
  | 'too-many-pixels'
  | 'mixed-slice-sizes'
  | 'bad-volume';

/**
 * An option of the data API that lets a run go on without the file an error is about. The message names it as
 * the API spells it; a front end with other names for it (the command line's flags) words its own.
 */
export type Remedy = 'skipBadFiles' | 'requireMetadata: false';

export class DataError extends Error {
  override name = 'DataError';
  /** The problem, without the file's name or the remedies. */
  readonly problem: string;
  readonly remedies: readonly Remedy[];
  constructor(
    readonly code: DataErrorCode,
    /** The file or folder the problem is in. */
    readonly file: string,
    problem: string,
    options: { cause?: unknown; remedies?: readonly Remedy[] } = {},
  ) {
    const remedies = options.remedies ?? [];
    const hint = remedies.length ? `; pass ${remedies.join(' or ')} to go without it` : '';
    super(`${file}: ${problem}${hint}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.problem = problem;
    this.remedies = remedies;
  }
}

/**
 * A NIfTI file or DICOM series that cannot be used as an MRI volume: corrupt, of the wrong dimensions, without
 * an orientation we can slice axially, or not matching the other sequences of its patient.
 */
export class VolumeError extends DataError {
  override name = 'VolumeError';
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('bad-volume', file, problem, options);
  }
}

/** A file that should be an image but cannot be decoded: truncated, corrupt or not an image at all. */
export class ImageDecodeError extends DataError {
  override name = 'ImageDecodeError';
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('unreadable-image', file, problem, options);
  }
}

/** An image kind we recognise but do not read (e.g. 32-bit float TIFF). */
export class UnsupportedImageError extends DataError {
  override name = 'UnsupportedImageError';
  constructor(file: string, problem: string) {
    super('unsupported-image', file, problem);
  }
}

/** An image whose header declares more pixels than one slice may have: refused before it is decoded. */
export class ImageTooLargeError extends DataError {
  override name = 'ImageTooLargeError';
  constructor(file: string, problem: string) {
    super('image-too-large', file, problem);
  }
}

/** A patient volume with more slices than one patient may have; `file` is its folder or first slice. */
export class TooManySlicesError extends DataError {
  override name = 'TooManySlicesError';
  constructor(file: string, patient: string, count: number, limit: number) {
    super(
      'too-many-slices',
      file,
      `patient ${patient} has ${count} slices, more than the ${limit} one patient may have`,
    );
  }
}

/** Slices that together decode to more pixels than one prediction holds at once; `file` is where it went over. */
export class TooManyPixelsError extends DataError {
  override name = 'TooManyPixelsError';
  constructor(file: string, slices: string, limit: string) {
    super(
      'too-many-pixels',
      file,
      `${slices} decode to more than ${limit} pixels, the most one prediction holds at once; send fewer`,
    );
  }
}

/** A slice whose size differs from the other slices of its patient: a volume is a stack of one size. */
export class MixedSliceSizesError extends DataError {
  override name = 'MixedSliceSizesError';
  constructor(file: string, patient: string, size: [number, number], volumeSize: [number, number]) {
    super(
      'mixed-slice-sizes',
      file,
      `${size[0]}×${size[1]}, but patient ${patient}'s other slices are ${volumeSize[0]}×${volumeSize[1]}; ` +
        "a patient's slices must all have one size",
    );
  }
}

/** A mask whose width × height differs from its image's; names both files. */
export class MaskSizeMismatchError extends DataError {
  override name = 'MaskSizeMismatchError';
  constructor(
    readonly imageFile: string,
    readonly maskFile: string,
    imageSize: [number, number],
    maskSize: [number, number],
  ) {
    super(
      'mask-size-mismatch',
      maskFile,
      `mask is ${maskSize[0]}×${maskSize[1]} but its image ${imageFile} is ${imageSize[0]}×${imageSize[1]}`,
    );
  }
}

/**
 * A mask whose values are not 0/1 or 0/255: a label map ({0, 1, 3}), greys or a lossy JPEG's noise. It has no one
 * right tumour threshold, so it is refused rather than guessed (thresholding at 128 would drop labels 1–127).
 */
export class MaskValuesError extends DataError {
  override name = 'MaskValuesError';
  constructor(
    file: string,
    /** The distinct values found, ascending. */
    readonly values: number[],
  ) {
    const shown =
      values.length > 8 ? `${values.slice(0, 8).join(', ')}, … (${values.length} values)` : values.join(', ');
    super(
      'mask-values',
      file,
      `mask holds the values ${shown}; a mask must hold 0 and 1, or 0 and 255 (tumour where not 0)`,
    );
  }
}

/** A slice image without its mask, or a mask without its image. */
export class UnpairedFileError extends DataError {
  override name = 'UnpairedFileError';
  constructor(code: 'mask-without-image' | 'image-without-mask', file: string, expected: string) {
    super(
      code,
      file,
      code === 'mask-without-image'
        ? `mask has no image (expected ${expected})`
        : `image has no mask (expected ${expected})`,
    );
  }
}

/**
 * A folder entry that cannot be read as what it is: a symbolic link that leads in a loop (or cannot be followed
 * for another reason than a missing target), or a folder named like an image file.
 */
export class BadEntryError extends DataError {
  override name = 'BadEntryError';
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('bad-entry', file, problem, options);
  }
}

/** A mask file given where MRI slices are expected (prediction): predicting on it would be silent nonsense. */
export class MaskGivenError extends DataError {
  override name = 'MaskGivenError';
  constructor(file: string) {
    super(
      'unsupported-image',
      file,
      'this is a mask (its name ends in _mask), not an MRI slice: give the slices only',
    );
  }
}

/** A folder (or list) with no slices in it. */
export class EmptyDatasetError extends DataError {
  override name = 'EmptyDatasetError';
  constructor(file: string, problem = 'no slice images found (.tif, .tiff, .png, .jpg, .jpeg)') {
    super('empty-dataset', file, problem);
  }
}

/** data.csv is missing or cannot be parsed. */
export class MetadataError extends DataError {
  override name = 'MetadataError';
  constructor(
    code: 'missing-metadata' | 'bad-metadata',
    file: string,
    problem: string,
    remedies?: readonly Remedy[],
  ) {
    super(code, file, problem, { remedies });
  }
}

/** A split manifest that is not valid JSON or does not match the schema. */
export class ManifestError extends DataError {
  override name = 'ManifestError';
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('bad-manifest', file, problem, options);
  }
}

/** One skipped file, as recorded when the user asked to skip bad files. */
export interface Problem {
  file: string;
  message: string;
  code: DataErrorCode;
}

/** Collects problems when the user asked to skip bad files; otherwise rethrows them. */
export class ProblemLog {
  readonly problems: Problem[] = [];
  constructor(
    readonly skipBadFiles: boolean,
    private readonly warn: (message: string) => void = (m) => console.warn(m),
  ) {}

  /** Throws `error` unless bad files are being skipped, in which case it is logged as a warning. */
  report(error: DataError): void {
    if (!this.skipBadFiles) throw error;
    // Without the remedies: the run is already going on without the file.
    const message = `${error.file}: ${error.problem}`;
    this.problems.push({ file: error.file, message, code: error.code });
    this.warn(`skipping: ${message}`);
  }

  get count(): number {
    return this.problems.length;
  }
}
