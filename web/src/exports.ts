// What the download buttons produce: the predicted masks as PNG files (one, or all of them zipped here in
// the browser with fflate, so the server does no extra work), and the API's answer as JSON without the
// base64 slice images (those are the user's own files; the masks stay, as data URLs).
import { zipSync } from 'fflate';
import type { PredictResponse, SlicePrediction } from './api-types.ts';

/** Bytes of a base64 `data:` URL. */
export function bytesOfDataUrl(dataUrl: string): Uint8Array<ArrayBuffer> {
  const comma = dataUrl.indexOf(',');
  if (!dataUrl.startsWith('data:') || comma < 0 || !dataUrl.slice(0, comma).endsWith(';base64'))
    throw new Error('not a base64 data URL');
  const binary = atob(dataUrl.slice(comma + 1));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `TCGA_CS_4941_19960909_12.tif` → `TCGA_CS_4941_19960909_12_mask.png`, the dataset's own naming. */
export function maskFileName(sliceName: string): string {
  const base = sliceName.replace(/^.*[\\/]/, '');
  const dot = base.lastIndexOf('.');
  return `${dot > 0 ? base.slice(0, dot) : base}_mask.png`;
}

/** Zip of every predicted mask (slices without a tumour have none), each under its patient's folder. */
export function masksZip(slices: readonly SlicePrediction[]): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const slice of slices) {
    if (slice.mask === null) continue;
    entries[`${slice.patient}/${maskFileName(slice.name)}`] = bytesOfDataUrl(slice.mask);
  }
  // PNGs are already compressed: store them (level 0) rather than deflate twice.
  return zipSync(entries, { level: 0 });
}

export function predictionsJson(response: PredictResponse): string {
  const slices = response.slices.map(({ image: _image, ...rest }) => rest);
  return `${JSON.stringify({ ...response, slices }, null, 2)}\n`;
}
