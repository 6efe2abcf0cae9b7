// Connected-component labelling of a binary grid (D×H×W, row-major; a 2-D mask is D = 1) by breadth-first
// search with a typed-array queue: each foreground voxel is enqueued exactly once, so the cost is linear in the
// number of voxels times the neighbourhood size, with no recursion to overflow the stack on a large tumour.

/** A neighbour as [dz, dy, dx]. Neighbourhoods must be symmetric (if v is a neighbour, so is −v). */
export type Offset = readonly [number, number, number];

export interface Components {
  /** Per voxel: 0 for background, else the component 1..count. */
  labels: Int32Array;
  /** Voxels in each component: sizes[k] for component k; sizes[0] is 0 (background is not a component). */
  sizes: Int32Array;
  count: number;
}

/**
 * Labels the components of `mask` (any non-zero value is foreground). Components are numbered in raster order
 * of their first voxel (z, then y, then x), as scipy.ndimage.label numbers them, so "the first of equal
 * components" means the same thing here as in Buda et al.'s code (numpy.argmax over scipy's labels).
 */
export function labelComponents(
  mask: Uint8Array,
  d: number,
  h: number,
  w: number,
  neighbourhood: readonly Offset[],
): Components {
  checkGrid(mask, d, h, w);
  const n = d * h * w;
  const plane = h * w;
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  const k = neighbourhood.length;
  const dz = Int32Array.from(neighbourhood, (o) => o[0]);
  const dy = Int32Array.from(neighbourhood, (o) => o[1]);
  const dx = Int32Array.from(neighbourhood, (o) => o[2]);
  const step = Int32Array.from(neighbourhood, (o) => o[0] * plane + o[1] * w + o[2]);
  // Slices are a border only for neighbourhoods that cross them.
  const crossesSlices = neighbourhood.some((o) => o[0] !== 0);
  const zLo = crossesSlices ? 1 : 0;
  const zHi = crossesSlices ? d - 2 : d - 1;
  let sizes = new Int32Array(16);
  let count = 0;
  for (let seed = 0; seed < n; seed++) {
    if (mask[seed] === 0 || labels[seed] !== 0) continue;
    count++;
    labels[seed] = count;
    queue[0] = seed;
    let head = 0;
    let tail = 1;
    while (head < tail) {
      const i = queue[head++]!;
      const z = (i / plane) | 0;
      const r = i - z * plane;
      const y = (r / w) | 0;
      const x = r - y * w;
      if (z >= zLo && z <= zHi && y > 0 && y < h - 1 && x > 0 && x < w - 1) {
        // Away from every border no neighbour can fall outside the grid or wrap onto another row or slice.
        for (let j = 0; j < k; j++) {
          const ni = i + step[j]!;
          if (mask[ni] !== 0 && labels[ni] === 0) {
            labels[ni] = count;
            queue[tail++] = ni;
          }
        }
        continue;
      }
      for (let j = 0; j < k; j++) {
        const nz = z + dz[j]!;
        const ny = y + dy[j]!;
        const nx = x + dx[j]!;
        if (nz < 0 || nz >= d || ny < 0 || ny >= h || nx < 0 || nx >= w) continue;
        const ni = i + step[j]!;
        if (mask[ni] !== 0 && labels[ni] === 0) {
          labels[ni] = count;
          queue[tail++] = ni;
        }
      }
    }
    if (count >= sizes.length) {
      const grown = new Int32Array(sizes.length * 2);
      grown.set(sizes);
      sizes = grown;
    }
    sizes[count] = tail;
  }
  return { labels, sizes: sizes.slice(0, count + 1), count };
}

export function checkGrid(mask: ArrayLike<number>, d: number, h: number, w: number): void {
  for (const [name, v] of [
    ['d', d],
    ['h', h],
    ['w', w],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  }
  if (mask.length !== d * h * w) {
    throw new RangeError(`expected ${d}×${h}×${w} = ${d * h * w} values, got ${mask.length}`);
  }
}

/** Offsets of −1, 0 or +1 along the enabled axes, with between 1 and `maxSteps` of them non-zero. */
export function neighbourhood(axes: { z: boolean; y: boolean; x: boolean }, maxSteps: number): Offset[] {
  const range = (on: boolean) => (on ? [-1, 0, 1] : [0]);
  const out: Offset[] = [];
  for (const z of range(axes.z))
    for (const y of range(axes.y))
      for (const x of range(axes.x)) {
        const steps = Math.abs(z) + Math.abs(y) + Math.abs(x);
        if (steps > 0 && steps <= maxSteps) out.push([z, y, x]);
      }
  return out;
}
