// A corpus of bad input, made on disk by the tests: each case a patient folder (or file) holding one bad thing
// beside good slices with their masks, and, for the server, the same as uploads. Each says which file a message
// about it must name, and which commands it is bad for (a slice of another size is fine for `data inspect`,
// `evaluate` and `train`, which resize; a corrupt mask or data.csv is nothing to `predict`, which ignores them).
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { boxMask, encodeTiff, pattern, pngBomb, tiffBomb } from '../data/fixtures.ts';
import type { FilePart } from '../server/client.ts';

export type Command = 'predict' | 'inspect' | 'evaluate' | 'train' | 'serve';

export interface BadCase {
  what: string;
  /** The folder or file given to the commands that read files. */
  path: string;
  /** What a message about the case must name: a file or folder (for the server, a name as uploaded). */
  names: string;
  uploadNames?: string;
  /** The case as uploads (the folder's files, or a zip of them). */
  uploads: FilePart[];
  /** Commands for which it is bad (others may take it). */
  badFor: Command[];
  /** The HTTP status the server must answer. */
  status?: 400 | 413 | 415;
}

/** Every command that reads files from a path. */
const FILE_COMMANDS: Command[] = ['predict', 'inspect', 'evaluate', 'train'];
/** The commands that read masks (and data.csv). */
const MASK_COMMANDS: Command[] = ['inspect', 'evaluate', 'train'];

const P = 'TCGA_XX_0001_20000101';
const slice = (n: number, size = 16) =>
  encodeTiff({ width: size, height: size, channels: 3, samples: pattern(size * size * 3, n) });

const mask = (size = 16) =>
  encodeTiff({ width: size, height: size, channels: 1, samples: boxMask(size, size, [2, 2, 6, 6]) });

/** A patient folder `root/<name>/P` with good slices 1 and 2 and their masks. */
function goodPatient(root: string, name: string): string {
  const folder = join(root, name, P);
  mkdirSync(folder, { recursive: true });
  for (const n of [1, 2]) {
    writeFileSync(join(folder, `${P}_${n}.tif`), slice(n));
    writeFileSync(join(folder, `${P}_${n}_mask.tif`), mask());
  }
  return folder;
}

/**
 * A good patient folder with `bad` as the file `badName`; a bad slice gets a good mask (of `maskSize`), so that
 * only the slice is wrong.
 */
function folderWith(
  root: string,
  name: string,
  badName: string,
  bad: Uint8Array | string,
  maskSize = 16,
): string {
  const folder = goodPatient(root, name);
  const badSlice = /^(.*_\d+)\.\w+$/.exec(badName);
  if (badSlice && !badName.includes('_mask.')) {
    writeFileSync(join(folder, `${badSlice[1]}_mask.tif`), mask(maskSize));
  }
  writeFileSync(join(folder, badName), bad);
  return folder;
}

const filesOf = (folder: string, names: string[]): FilePart[] =>
  names.map((name) => ({ name, bytes: readFileSync(join(folder, name)) }));

export async function makeCorpus(root: string): Promise<BadCase[]> {
  const cases: BadCase[] = [];
  /** A folder whose third slice is `bad`: the same for predict, inspect and an upload of the three files. */
  const oneBadSlice = (what: string, badName: string, bad: Uint8Array | string, status: 413 | 415 = 415) => {
    const folder = folderWith(root, what, badName, bad);
    cases.push({
      what,
      path: folder,
      names: join(folder, badName),
      uploadNames: badName,
      uploads: filesOf(folder, [`${P}_1.tif`, `${P}_2.tif`, badName]),
      badFor: [...FILE_COMMANDS, 'serve'],
      status,
    });
  };

  const whole = slice(3);
  oneBadSlice('truncated TIFF', `${P}_3.tif`, whole.subarray(0, 200));
  const garbage = new Uint8Array(64).fill(0xee);
  garbage.set([0x49, 0x49, 42, 0, 200, 0, 0, 0]);
  oneBadSlice('corrupt TIFF directory', `${P}_3.tif`, garbage);
  oneBadSlice('text renamed .tif', `${P}_3.tif`, 'patient notes, not a slice\n');
  oneBadSlice('empty file', `${P}_3.png`, new Uint8Array(0));
  const png = await sharp(pattern(16 * 16 * 3), { raw: { width: 16, height: 16, channels: 3 } })
    .png()
    .toBuffer();
  oneBadSlice('truncated PNG', `${P}_3.png`, png.subarray(0, png.length >> 1));
  const jpeg = await sharp(pattern(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg()
    .toBuffer();
  oneBadSlice('truncated JPEG', `${P}_3.jpg`, jpeg.subarray(0, jpeg.length >> 1));
  oneBadSlice(
    'TIFF bomb 16384² RGB',
    `${P}_3.tif`,
    tiffBomb({ width: 16384, height: 16384, channels: 3 }),
    413,
  );
  oneBadSlice(
    'TIFF bomb 16384² 16-bit',
    `${P}_3.tif`,
    tiffBomb({ width: 16384, height: 16384, channels: 3, bits: 16 }),
    413,
  );
  oneBadSlice('PNG bomb 4096²', `${P}_3.png`, pngBomb(4096, 4096), 413);
  const bigJpeg = await sharp({ create: { width: 2049, height: 2049, channels: 3, background: '#222' } })
    .jpeg()
    .toBuffer();
  oneBadSlice('JPEG over 2048²', `${P}_3.jpg`, bigJpeg, 413);
  oneBadSlice(
    'deflate strip bomb',
    `${P}_3.tif`,
    tiffBomb({ width: 16, height: 16, channels: 1, rowsPerStrip: 16, inflatesTo: 32 << 20 }),
  );
  oneBadSlice(
    'a TIFF of two full images',
    `${P}_3.tif`,
    encodeTiff({ width: 16, height: 16, channels: 3, samples: pattern(768), moreImages: [0] }),
  );
  oneBadSlice(
    'TIFF tile bomb',
    `${P}_3.tif`,
    tiffBomb({ width: 16, height: 16, channels: 1, tile: [8192, 8192] }),
    413,
  );

  // A slice of another size in a patient: bad for a volume, fine for the commands that resize.
  const mixed = folderWith(root, 'mixed sizes', `${P}_3.tif`, slice(3, 32), 32);
  cases.push({
    what: 'a slice of another size',
    path: mixed,
    names: join(mixed, `${P}_3.tif`),
    uploadNames: `${P}_3.tif`,
    uploads: filesOf(mixed, [`${P}_1.tif`, `${P}_2.tif`, `${P}_3.tif`]),
    badFor: ['predict', 'serve'],
    status: 400,
  });

  // 2,000 one-pixel slices of one patient (they aborted predict once), as a folder and as a 0.5 MB zip.
  const pixel = encodeTiff({ width: 1, height: 1, channels: 1, samples: new Uint8Array([9]) });
  const many = join(root, 'thousands', 'scan');
  mkdirSync(many, { recursive: true });
  const entries: Record<string, Uint8Array> = {};
  for (let n = 1; n <= 2000; n++) {
    writeFileSync(join(many, `s${n}.tif`), pixel);
    entries[`scan/s${n}.tif`] = pixel;
  }
  cases.push({
    what: '2,000 one-pixel slices',
    path: many,
    names: many,
    uploadNames: 'thousands.zip',
    uploads: [{ name: 'thousands.zip', bytes: zipSync(entries) }],
    badFor: [...FILE_COMMANDS, 'serve'],
    status: 413,
  });

  // Server only: 20,000 entries, and a zip that unpacks past the worker's cap.
  const huge: Record<string, Uint8Array> = {};
  for (let n = 1; n <= 20000; n++) huge[`p${n % 50}/s${n}.tif`] = pixel;
  const zeros = zipSync({ [`${P}/${P}_1.tif`]: new Uint8Array(20 << 20) });
  for (const [what, name, bytes] of [
    ['20,000 zip entries', 'huge.zip', zipSync(huge)],
    ['zip bomb', 'bomb.zip', zeros],
  ] as const) {
    cases.push({ what, path: '', names: name, uploads: [{ name, bytes }], badFor: ['serve'], status: 413 });
  }

  // A folder named like a slice, with nothing in it; a path that does not exist; a mask given as the slice.
  const dirLikeFile = join(root, 'dir', 'scan.tif');
  mkdirSync(dirLikeFile, { recursive: true });
  cases.push({
    what: 'a folder named like a file',
    path: dirLikeFile,
    names: dirLikeFile,
    uploads: [],
    badFor: FILE_COMMANDS,
  });
  const missing = join(root, 'no such folder');
  cases.push({
    what: 'a path that does not exist',
    path: missing,
    names: missing,
    uploads: [],
    badFor: FILE_COMMANDS,
  });
  const maskFolder = join(root, 'mask', P);
  const maskFile = join(maskFolder, `${P}_1_mask.tif`);
  mkdirSync(maskFolder, { recursive: true });
  writeFileSync(maskFile, mask());
  cases.push({
    what: 'a mask given as the slice',
    path: maskFile,
    names: maskFile,
    uploadNames: `${P}_1_mask.tif`,
    uploads: filesOf(maskFolder, [`${P}_1_mask.tif`]),
    badFor: [...FILE_COMMANDS, 'serve'],
    status: 415,
  });

  // Entries of a patient folder that are no slice: a symbolic-link loop (its other end hidden, so that only
  // the slice's name is followed) and a folder named like a slice.
  const loop = goodPatient(root, 'a symbolic-link loop');
  const loopName = join(loop, `${P}_3.tif`);
  symlinkSync('.other-end', loopName);
  symlinkSync(`${P}_3.tif`, join(loop, '.other-end'));
  cases.push({
    what: 'a symbolic-link loop',
    path: loop,
    names: loopName,
    uploads: [],
    badFor: FILE_COMMANDS,
  });
  const folderSlice = join(goodPatient(root, 'a folder named like a slice'), `${P}_99.tif`);
  mkdirSync(folderSlice);
  cases.push({
    what: 'a folder named like a slice',
    path: dirname(folderSlice),
    names: folderSlice,
    uploads: [],
    badFor: FILE_COMMANDS,
  });

  // Bad masks: only the commands that read masks see them.
  const maskCase = (what: string, maskName: string, bytes: Uint8Array | string) => {
    const folder = folderWith(root, what, maskName, bytes);
    cases.push({ what, path: folder, names: join(folder, maskName), uploads: [], badFor: MASK_COMMANDS });
  };
  maskCase(
    'a mask of another size',
    `${P}_1_mask.tif`,
    encodeTiff({ width: 8, height: 16, channels: 1, samples: boxMask(8, 16) }),
  );
  maskCase('a corrupt mask', `${P}_1_mask.tif`, 'not a mask');
  const labels = new Uint8Array(256);
  labels.fill(1, 64, 128);
  labels.fill(3, 128, 160);
  maskCase(
    'a label-map mask {0, 1, 3}',
    `${P}_1_mask.tif`,
    encodeTiff({ width: 16, height: 16, channels: 1, samples: labels }),
  );
  maskCase(
    'a mask of noise',
    `${P}_1_mask.tif`,
    encodeTiff({ width: 16, height: 16, channels: 1, samples: pattern(256, 5) }),
  );
  const orphan = folderWith(root, 'a mask without its image', `${P}_3_mask.tif`, mask());
  cases.push({
    what: 'a mask without its image',
    path: orphan,
    names: join(orphan, `${P}_3_mask.tif`),
    uploads: [],
    badFor: MASK_COMMANDS,
  });
  const unmasked = goodPatient(root, 'an image without its mask');
  rmSync(join(unmasked, `${P}_2_mask.tif`));
  cases.push({
    what: 'an image without its mask',
    path: unmasked,
    names: join(unmasked, `${P}_2.tif`),
    uploads: [],
    badFor: MASK_COMMANDS,
  });

  // A kaggle_3m folder (TCGA patients) whose data.csv is missing, binary, or without its Patient column.
  const csvCase = (what: string, csv?: Uint8Array | string) => {
    const dataset = join(root, what);
    goodPatient(root, what);
    const path = join(dataset, 'data.csv');
    if (csv !== undefined) writeFileSync(path, csv);
    cases.push({ what, path: dataset, names: path, uploads: [], badFor: MASK_COMMANDS });
  };
  csvCase('no data.csv');
  csvCase('a binary data.csv', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x1b, 0x5b, 0x32, 0x4a]));
  csvCase('a data.csv without its Patient column', 'Name,Age\nTCGA_XX_0001,41\n');
  return cases;
}
