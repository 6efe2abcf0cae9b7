// bench/volumes: the volume decoders tumorscope could use, on one made-up patient sequence stored two ways: a
// gzip'd NIfTI (int16, 256×256×N, LPS-stored) and a DICOM series of N uncompressed files. For each reader:
// whether its voxels and its affine (in RAS) equal what was written, and the median time of a read. Ours are
// nifti-reader-js and dicom-parser (src/volume); the other candidates are ITK's readers compiled to WebAssembly,
// @itk-wasm/image-io (NIfTI) and @itk-wasm/dicom (DICOM series, GDCM), not dependencies of tumorscope:
//
//   npm install --no-save @itk-wasm/image-io@1.6.1 @itk-wasm/dicom@7.6.4    # only for this benchmark
//   node --import tsx bench/volumes/run.ts [--slices 60] [--runs 5]
//
// Without them it measures ours alone. Install sizes are npm's (see docs/VOLUMES.md for the command).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDicomSeries } from '../../src/volume/dicom.ts';
import { readNifti } from '../../src/volume/nifti.ts';
import type { Affine } from '../../src/volume/volume.ts';
import { gridAffine, sample, testNiftiBytes, writeTestDicomSeries } from '../../test/helpers/volumes.ts';

const { values } = parseArgs({
  options: { slices: { type: 'string', default: '60' }, runs: { type: 'string', default: '5' } },
});
const depth = Number(values.slices);
const runs = Number(values.runs);

interface Read {
  data: ArrayLike<number>;
  affine: Affine;
}

/** An ITK image's geometry (LPS origin, spacing, direction columns) as a RAS affine. */
function itkAffine(image: {
  origin: ArrayLike<number>;
  spacing: ArrayLike<number>;
  direction: ArrayLike<number>;
}): Affine {
  const sign = [-1, -1, 1];
  // ITK's direction matrix is row-major in itk-wasm: direction[r * 3 + c].
  const row = (r: number) =>
    [
      sign[r]! * image.direction[r * 3]! * image.spacing[0]!,
      sign[r]! * image.direction[r * 3 + 1]! * image.spacing[1]!,
      sign[r]! * image.direction[r * 3 + 2]! * image.spacing[2]!,
      sign[r]! * image.origin[r]!,
    ] as const;
  return [row(0), row(1), row(2), [0, 0, 0, 1]];
}

/**
 * Median wall and CPU (user + system) milliseconds of `runs` reads. CPU time is the figure to compare on a busy
 * machine; wall time counts waiting for a core too.
 */
async function time(read: () => Promise<Read> | Read): Promise<{ ms: string; result: Read }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  let result: Read | undefined;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const used = process.cpuUsage();
    result = await read();
    const { user, system } = process.cpuUsage(used);
    wall.push(performance.now() - start);
    cpu.push((user + system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0);
  return { ms: `${median(cpu)} ms CPU (${median(wall)} ms wall)`, result: result! };
}

function check(result: Read, expected: Float32Array, affine: Affine): string {
  let wrong = 0;
  for (let i = 0; i < expected.length; i++) if (result.data[i] !== expected[i]) wrong++;
  let worst = 0;
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 4; c++) worst = Math.max(worst, Math.abs(result.affine[r]![c]! - affine[r]![c]!));
  return `${wrong === 0 ? 'voxels exact' : `${wrong} voxels differ`}, affine within ${worst.toExponential(1)} mm`;
}

async function optional(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tumorscope-bench-volumes-'));
try {
  const { affine, dims } = gridAffine({ size: [256, 256, depth], spacing: [0.9375, 0.9375, 5] }, [
    'L',
    'P',
    'S',
  ]);
  // A head-like phantom: an ellipsoid of tissue with a ripple, 16-bit values as an MR series holds.
  const voxels = sample(affine, dims, (x, y, z) => {
    const r = (x / 90) ** 2 + (y / 110) ** 2 + (z / (depth * 2.5)) ** 2;
    return r > 1 ? 0 : Math.round(800 + 300 * Math.sin(x / 7) * Math.cos(y / 9) + 2 * z);
  });
  const niftiPath = join(dir, 'flair.nii.gz');
  writeFileSync(niftiPath, testNiftiBytes({ shape: dims, type: 'int16', values: voxels, affine }));
  const series = join(dir, 'flair');
  writeTestDicomSeries(series, affine, dims, voxels);
  const files = readdirSync(series).map((name) => join(series, name));
  console.log(`volume 256×256×${depth} int16; median of ${runs} reads`);

  const ours = await time(() => readNifti(niftiPath));
  console.log(`NIfTI  nifti-reader-js      ${ours.ms}  ${check(ours.result, voxels, affine)}`);
  const oursDicom = await time(() => readDicomSeries(series));
  console.log(`DICOM  dicom-parser         ${oursDicom.ms}  ${check(oursDicom.result, voxels, affine)}`);

  const imageIo = await optional('@itk-wasm/image-io');
  if (imageIo) {
    const readImageNode = imageIo.readImageNode as (
      path: string,
    ) => Promise<Parameters<typeof itkAffine>[0] & { data: ArrayLike<number> }>;
    const first = performance.now();
    await readImageNode(niftiPath);
    const cold = performance.now() - first;
    const itk = await time(async () => {
      const image = await readImageNode(niftiPath);
      return { data: image.data, affine: itkAffine(image) };
    });
    console.log(
      `NIfTI  @itk-wasm/image-io   ${itk.ms} (first read ${cold.toFixed(0)} ms)  ${check(itk.result, voxels, affine)}`,
    );
  } else console.log('NIfTI  @itk-wasm/image-io   not installed (see the header of this file)');
  const dicom = await optional('@itk-wasm/dicom');
  if (dicom) {
    const readSeries = dicom.readImageDicomFileSeriesNode as (o: {
      inputImages: string[];
    }) => Promise<{ outputImage: Parameters<typeof itkAffine>[0] & { data: ArrayLike<number> } }>;
    const first = performance.now();
    await readSeries({ inputImages: files });
    const cold = performance.now() - first;
    const itk = await time(async () => {
      const { outputImage } = await readSeries({ inputImages: files });
      return { data: outputImage.data, affine: itkAffine(outputImage) };
    });
    console.log(
      `DICOM  @itk-wasm/dicom      ${itk.ms} (first read ${cold.toFixed(0)} ms)  ${check(itk.result, voxels, affine)}`,
    );
  } else console.log('DICOM  @itk-wasm/dicom      not installed (see the header of this file)');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
