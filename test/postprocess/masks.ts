// Helpers of the post-processing tests: masks drawn as text, and a slow reference labelling to compare with.

/**
 * A D×H×W mask from text: slices separated by blank lines, one row per line, '#' (or any non-'.') tumour.
 * Returns the mask and its dimensions.
 */
export function drawn(text: string): { mask: Uint8Array; d: number; h: number; w: number } {
  const slices = text
    .trim()
    .split(/\n\s*\n/)
    .map((s) =>
      s
        .trim()
        .split('\n')
        .map((row) => row.trim()),
    );
  const d = slices.length;
  const h = slices[0]!.length;
  const w = slices[0]![0]!.length;
  const mask = new Uint8Array(d * h * w);
  slices.forEach((rows, z) => {
    if (rows.length !== h) throw new Error(`slice ${z} has ${rows.length} rows, not ${h}`);
    rows.forEach((row, y) => {
      if (row.length !== w) throw new Error(`slice ${z} row ${y} has ${row.length} columns, not ${w}`);
      for (let x = 0; x < w; x++) if (row[x] !== '.') mask[(z * h + y) * w + x] = 1;
    });
  });
  return { mask, d, h, w };
}

/** The mask as text in the form drawn() reads, for readable assertion failures. */
export function draw(mask: Uint8Array, d: number, h: number, w: number): string {
  const slices: string[] = [];
  for (let z = 0; z < d; z++) {
    const rows: string[] = [];
    for (let y = 0; y < h; y++) {
      let row = '';
      for (let x = 0; x < w; x++) row += mask[(z * h + y) * w + x] ? '#' : '.';
      rows.push(row);
    }
    slices.push(rows.join('\n'));
  }
  return slices.join('\n\n');
}

/**
 * Reference labelling: union–find over every pair of foreground voxels within one step (Chebyshev distance 1 in
 * each axis) whose number of differing axes is at most maxSteps, found from coordinates (not flat offsets), then
 * renumbered by first voxel in raster order. O(n·27), independent of the code under test.
 */
export function referenceLabels(
  mask: Uint8Array,
  d: number,
  h: number,
  w: number,
  o: { crossSlices: boolean; maxSteps: number },
): Int32Array {
  const parent = Int32Array.from({ length: mask.length }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i]!;
    return i;
  };
  const at = (z: number, y: number, x: number) => (z * h + y) * w + x;
  for (let z = 0; z < d; z++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (!mask[at(z, y, x)]) continue;
        for (const dz of o.crossSlices ? [-1, 0, 1] : [0])
          for (const dy of [-1, 0, 1])
            for (const dx of [-1, 0, 1]) {
              const steps = Math.abs(dz) + Math.abs(dy) + Math.abs(dx);
              const [nz, ny, nx] = [z + dz, y + dy, x + dx];
              if (steps === 0 || steps > o.maxSteps) continue;
              if (nz < 0 || nz >= d || ny < 0 || ny >= h || nx < 0 || nx >= w) continue;
              if (!mask[at(nz, ny, nx)]) continue;
              const [a, b] = [find(at(z, y, x)), find(at(nz, ny, nx))];
              if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
            }
      }
  const labels = new Int32Array(mask.length);
  const number = new Map<number, number>();
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const root = find(i);
    if (!number.has(root)) number.set(root, number.size + 1);
    labels[i] = number.get(root)!;
  }
  return labels;
}

/** Deterministic pseudo-random mask with the given density (a linear congruential generator). */
export function randomMask(n: number, density: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (s / 2 ** 32 < density) out[i] = 1;
  }
  return out;
}
