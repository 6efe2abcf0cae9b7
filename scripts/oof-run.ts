// The OOF patients of a CV run folder, for the scripts that measure something on them (oof-*.ts).
import { readSplitManifest } from '../src/data/split-manifest.ts';
import type { OofPatient } from '../src/pipeline/cv-analysis.ts';
import { loadOofPatients } from '../src/pipeline/cv-report.ts';
import { cvSplitPath } from '../src/train/cross-validation.ts';

/** Every fold's OOF patients of the CV folder `cv`, scored against the dataset at `data`; `usage` when either is missing. */
export async function loadOofRun(
  data: string | undefined,
  cv: string | undefined,
  usage: string,
  log: (line: string) => void = () => {},
): Promise<OofPatient[]> {
  if (!data || !cv) throw new Error(`usage: ${usage}`);
  const manifest = readSplitManifest(cvSplitPath(cv));
  if (manifest.kind !== 'k-fold') throw new Error(`${cvSplitPath(cv)}: not a k-fold split`);
  return loadOofPatients({ data, cvDir: cv, folds: manifest.k, log });
}
