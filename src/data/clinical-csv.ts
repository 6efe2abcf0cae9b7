// data.csv of the LGG dataset: one row per patient (TCGA_<inst>_<id>) with genomic clusters and clinical columns
// (grade, age, gender, ...). Parsed into plain records keyed by patient id, numbers as numbers, blanks as null.
import { readFileSync } from 'node:fs';
import { MetadataError } from './errors.ts';

export type ClinicalValue = number | string | null;
export type ClinicalRecord = Record<string, ClinicalValue>;

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. Returns rows of raw strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

function toValue(raw: string): ClinicalValue {
  const s = raw.trim();
  if (s === '' || s.toUpperCase() === 'NA') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** Parses data.csv text into records keyed by the `Patient` column; `path` only names the file in errors. */
export function parseClinicalCsv(text: string, path: string): Map<string, ClinicalRecord> {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = rows[0]?.map((h) => h.trim());
  if (!header || header.length === 0) throw new MetadataError('bad-metadata', path, 'empty CSV');
  const key = header.findIndex((h) => h.toLowerCase() === 'patient');
  if (key < 0)
    throw new MetadataError(
      'bad-metadata',
      path,
      `no "Patient" column (columns: ${excerpt(header.join(', '))})`,
    );
  const out = new Map<string, ClinicalRecord>();
  rows.slice(1).forEach((row, i) => {
    if (row.length !== header.length) {
      throw new MetadataError(
        'bad-metadata',
        path,
        `line ${i + 2} has ${row.length} fields, the header ${header.length}`,
      );
    }
    const id = row[key]!.trim();
    const record: ClinicalRecord = {};
    header.forEach((name, c) => {
      if (c !== key) record[name] = toValue(row[c]!);
    });
    out.set(id, record);
  });
  return out;
}

export function readClinicalCsv(path: string): Map<string, ClinicalRecord> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new MetadataError('missing-metadata', path, 'data.csv not found', [
      'skipBadFiles',
      'requireMetadata: false',
    ]);
  }
  return parseClinicalCsv(textOf(bytes, path), path);
}

/** The file as UTF-8 text; a binary file (NUL bytes, or not UTF-8) is refused before its bytes reach a message. */
function textOf(bytes: Buffer, path: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new MetadataError('bad-metadata', path, `not a CSV text file (a NUL byte at byte ${nul})`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MetadataError('bad-metadata', path, 'not a CSV text file (not UTF-8)');
  }
}

/** At most 80 characters of `text` for a message, control and invisible characters written as \u{…} escapes. */
function excerpt(text: string): string {
  const shown = [...text].slice(0, 80);
  const escaped = shown
    .join('')
    .replace(/[\p{C}\\]/gu, (ch) => (ch === '\\' ? '\\\\' : `\\u{${ch.codePointAt(0)!.toString(16)}}`));
  return shown.length < [...text].length ? `${escaped}…` : escaped;
}

/**
 * The data.csv row of a patient folder: rows are keyed TCGA_<inst>_<id>, folders TCGA_<inst>_<id>_<date>.
 */
export function clinicalFor(
  table: Map<string, ClinicalRecord>,
  patientId: string,
): ClinicalRecord | undefined {
  return table.get(patientId) ?? table.get(patientId.replace(/_\d{8}$/, ''));
}
