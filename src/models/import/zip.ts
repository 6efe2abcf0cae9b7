// A small zip reader for torch.save's archives (PyTorch ≥ 1.6): the central directory at the end lists every
// entry; entries are stored (torch's writer) or deflated (a checkpoint re-zipped by hand). Zip64 records are read
// so that checkpoints over 4 GiB work too. Every offset is checked against the file, so a truncated download
// fails with a clear message instead of reading garbage.
import { crc32, inflateRawSync } from 'node:zlib';
import { WeightsFileError } from './weights-file-error.ts';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;
const STORED = 0;
const DEFLATED = 8;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

/** True when the bytes start like a zip archive (a local file header or an empty archive's directory end). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  readonly #view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = this.#readCentralDirectory();
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The uncompressed bytes of an entry (a view into the file for stored entries), after a CRC check. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) throw this.#error(`no entry '${name}' in the archive`);
    const at = entry.localHeaderOffset;
    this.#need(at, 30, `the local header of '${name}'`);
    if (this.#view.getUint32(at, true) !== LOCAL_HEADER) throw this.#error(`bad local header for '${name}'`);
    const start = at + 30 + this.#view.getUint16(at + 26, true) + this.#view.getUint16(at + 28, true);
    this.#need(start, entry.compressedSize, `the data of '${name}'`);
    const raw = this.bytes.subarray(start, start + entry.compressedSize);
    let data: Uint8Array;
    if (entry.method === STORED) data = raw;
    else if (entry.method === DEFLATED) {
      try {
        data = inflateRawSync(raw);
      } catch (err) {
        throw this.#error(`cannot inflate '${name}': ${(err as Error).message}`);
      }
    } else
      throw this.#error(`entry '${name}' uses compression method ${entry.method}; only stored and deflate`);
    if (data.length !== entry.size) {
      throw this.#error(`entry '${name}' is ${data.length} bytes, the directory says ${entry.size}`);
    }
    if (crc32(data) >>> 0 !== entry.crc32)
      throw this.#error(`entry '${name}' fails its CRC-32 check (corrupt)`);
    return data;
  }

  #readCentralDirectory(): Map<string, ZipEntry> {
    const v = this.#view;
    const eocd = this.#findEndOfCentralDirectory();
    let count = v.getUint16(eocd + 10, true);
    let size = v.getUint32(eocd + 12, true);
    let offset = v.getUint32(eocd + 16, true);
    if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || v.getUint32(locator, true) !== ZIP64_LOCATOR) {
        throw this.#error('zip64 archive without its zip64 locator (truncated or corrupt)');
      }
      const end = this.#u64(locator + 8);
      this.#need(end, 56, 'the zip64 end of central directory');
      if (v.getUint32(end, true) !== ZIP64_END) throw this.#error('bad zip64 end of central directory');
      count = this.#u64(end + 32);
      size = this.#u64(end + 40);
      offset = this.#u64(end + 48);
    }
    this.#need(offset, size, 'the central directory');
    const entries = new Map<string, ZipEntry>();
    let at = offset;
    for (let i = 0; i < count; i++) {
      this.#need(at, 46, 'a central directory record');
      if (v.getUint32(at, true) !== CENTRAL_HEADER) throw this.#error('corrupt central directory');
      const nameLength = v.getUint16(at + 28, true);
      const extraLength = v.getUint16(at + 30, true);
      const commentLength = v.getUint16(at + 32, true);
      this.#need(at + 46, nameLength + extraLength, 'a central directory record');
      const name = Buffer.from(this.bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
      const entry: ZipEntry = {
        name,
        method: v.getUint16(at + 10, true),
        crc32: v.getUint32(at + 16, true),
        compressedSize: v.getUint32(at + 20, true),
        size: v.getUint32(at + 24, true),
        localHeaderOffset: v.getUint32(at + 42, true),
      };
      this.#applyZip64Extra(entry, at + 46 + nameLength, extraLength);
      entries.set(name, entry);
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  }

  // The record is 22 bytes plus a comment of up to 64 KiB, so it is searched for backwards from the end.
  #findEndOfCentralDirectory(): number {
    const v = this.#view;
    const last = this.bytes.length - 22;
    for (let at = last; at >= 0 && at >= last - 0xffff; at--) {
      if (v.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY) return at;
    }
    throw this.#error('no zip end-of-central-directory record: the file is truncated or not a zip archive');
  }

  // Sizes and offsets that overflow 32 bits are 0xffffffff in the record and follow, in order, in extra field 1.
  #applyZip64Extra(entry: ZipEntry, start: number, length: number): void {
    const v = this.#view;
    for (let at = start; at + 4 <= start + length; ) {
      const id = v.getUint16(at, true);
      const size = v.getUint16(at + 2, true);
      if (id === 0x0001) {
        let field = at + 4;
        for (const key of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
          if (entry[key] === 0xffffffff && field + 8 <= at + 4 + size) {
            entry[key] = this.#u64(field);
            field += 8;
          }
        }
      }
      at += 4 + size;
    }
  }

  #u64(at: number): number {
    this.#need(at, 8, 'a zip64 field');
    const value = this.#view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.#error('zip64 field out of range');
    return Number(value);
  }

  #need(at: number, length: number, what: string): void {
    if (at < 0 || at + length > this.bytes.length) {
      throw this.#error(
        `${what} lies beyond the end of the file (bytes ${at}..${at + length} of ${this.bytes.length}): truncated?`,
      );
    }
  }

  #error(problem: string): WeightsFileError {
    return new WeightsFileError(this.file, problem);
  }
}
