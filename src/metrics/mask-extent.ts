// Where a mask's tumour is: its pixel count and the smallest box around it. Pure, so that the browser's
// in-page pipeline (web/src/local-pipeline.ts) reports exactly what `predict` and the server report.

/** A box in pixels: x, y of its top-left corner, then its size. */
export interface BoundingBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The tumour pixel count and bounding box of a 0/1 mask (row-major, width × height); no box when empty. */
export function maskExtent(
  mask: Uint8Array,
  width: number,
  height: number,
): { area: number; bbox: BoundingBox | null } {
  let area = 0;
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x]) {
        area++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return { area, bbox: area > 0 ? { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 } : null };
}
