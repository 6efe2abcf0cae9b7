// A tiny kaggle_3m folder whose tumours are visible (a bright 8×8 square in the image where the mask has it), so
// that tiny models learn something in a few epochs: for the training and pipeline tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTiff } from '../data/fixtures.ts';

export const IMAGE_SIZE = 32;
export const SLICES_PER_PATIENT = 8;

export const PATIENTS = [
  'TCGA_CS_0001_20000101',
  'TCGA_CS_0002_20000101',
  'TCGA_DU_0003_20000101',
  'TCGA_DU_0004_20000101',
  'TCGA_EZ_0005_20000101',
  'TCGA_EZ_0006_20000101',
  'TCGA_FG_0007_20000101',
  'TCGA_HT_0008_20000101',
];

/** Even-numbered slices hold an 8×8 tumour. */
export function hasTumour(sliceNumber: number): boolean {
  return sliceNumber % 2 === 0;
}

export function writeVisibleTumours(root: string): string {
  const size = IMAGE_SIZE;
  PATIENTS.forEach((id, p) => {
    for (let n = 1; n <= SLICES_PER_PATIENT; n++) {
      const image = new Uint8Array(size * size * 3);
      const mask = new Uint8Array(size * size);
      for (let i = 0; i < size * size; i++) image.fill(40 + ((i * 7 + n * 13 + p) % 50), i * 3, i * 3 + 3);
      if (hasTumour(n)) {
        const x0 = 4 + ((n * 3 + p) % 16);
        const y0 = 6 + ((n + p * 5) % 14);
        for (let y = y0; y < y0 + 8; y++) {
          for (let x = x0; x < x0 + 8; x++) {
            mask[y * size + x] = 255;
            image.fill(230, (y * size + x) * 3, (y * size + x) * 3 + 3);
          }
        }
      }
      writeTiff(join(root, id, `${id}_${n}.tif`), { width: size, height: size, channels: 3, samples: image });
      writeTiff(join(root, id, `${id}_${n}_mask.tif`), {
        width: size,
        height: size,
        channels: 1,
        samples: mask,
      });
    }
  });
  const rows = PATIENTS.map((id, i) => `${id.replace(/_\d{8}$/, '')},${40 + i}`);
  writeFileSync(join(root, 'data.csv'), ['Patient,age', ...rows].join('\n'));
  return root;
}
