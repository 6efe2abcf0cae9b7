// Types for the part of jsfive (a pure-JavaScript HDF5 reader, no bundled types) that keras-h5.ts uses.
declare module 'jsfive' {
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    readonly dtype: unknown;
    readonly value: ArrayLike<number>;
    readonly attrs: Record<string, unknown>;
  }
}
