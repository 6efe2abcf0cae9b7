// A thresholded, cleaned patient volume reduced to a graph, so that thousands of (gating × largest-3-D-component)
// choices can be scored exactly without touching a voxel again. Nodes are the 4-connected 2-D components of each
// slice (after small-component removal); edges join components of adjacent slices that share a pixel. Emptying
// a slice removes its nodes; the 6-connected 3-D components of what is left are the connected parts of the graph
// (6-connectivity is in-plane 4-connectivity plus the same pixel in the next slice), so the largest 3-D
// component, and its overlap with the truth, follow from node sizes alone. Ties go to the component whose first
// voxel comes first in raster order, as keepLargest3DComponent does.
import { removeSmallSliceComponents } from './components-2d.ts';
import { labelComponents, neighbourhood } from './label-components.ts';

const FOUR_CONNECTED = neighbourhood({ z: false, y: true, x: true }, 1);

export interface SliceGraph {
  d: number;
  /** Slice of each node; nodes are numbered in raster order of their first voxel. */
  nodeSlice: Int32Array;
  nodeSize: Int32Array;
  /** Voxels of the node that are tumour in the truth. */
  nodeHit: Int32Array;
  /** Node pairs [a0, b0, a1, b1, …] in adjacent slices that touch. */
  edges: Int32Array;
}

/**
 * The graph of a binary volume (D×H×W, 0/1) after removing 2-D components (8-connected) of fewer than
 * `minComponentArea` pixels, with each node's overlap with `truth` (any non-zero is tumour).
 */
export function sliceGraph(
  mask: Uint8Array,
  truth: Uint8Array,
  d: number,
  h: number,
  w: number,
  minComponentArea: number,
): SliceGraph {
  const kept = minComponentArea > 1 ? removeSmallSliceComponents(mask, d, h, w, minComponentArea) : mask;
  const { labels, sizes, count } = labelComponents(kept, d, h, w, FOUR_CONNECTED);
  const plane = h * w;
  const nodeSlice = new Int32Array(count);
  const nodeHit = new Int32Array(count);
  const seen = new Uint8Array(count);
  const edgeSet = new Set<number>();
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i]!;
    if (a === 0) continue;
    if (!seen[a - 1]) {
      seen[a - 1] = 1;
      nodeSlice[a - 1] = Math.floor(i / plane);
    }
    if (truth[i] !== 0) nodeHit[a - 1]! += 1;
    const below = i + plane;
    if (below < labels.length) {
      const b = labels[below]!;
      if (b !== 0) edgeSet.add((a - 1) * count + (b - 1));
    }
  }
  const edges = new Int32Array(edgeSet.size * 2);
  let e = 0;
  for (const key of edgeSet) {
    edges[e++] = Math.floor(key / count);
    edges[e++] = key % count;
  }
  return { d, nodeSlice, nodeSize: sizes.slice(1, count + 1), nodeHit, edges };
}

/** Predicted and correctly predicted voxels of each slice, after gating and (optionally) the largest 3-D component. */
export interface SliceOutcome {
  pred: Int32Array;
  hit: Int32Array;
}

/** What the volume's final mask holds per slice when only `called` slices keep their nodes. */
export function sliceOutcome(
  g: SliceGraph,
  called: ArrayLike<boolean | number>,
  largest3D: boolean,
): SliceOutcome {
  const n = g.nodeSize.length;
  const pred = new Int32Array(g.d);
  const hit = new Int32Array(g.d);
  const alive = (k: number) => Boolean(called[g.nodeSlice[k]!]);
  if (!largest3D) {
    for (let k = 0; k < n; k++) {
      if (!alive(k)) continue;
      pred[g.nodeSlice[k]!]! += g.nodeSize[k]!;
      hit[g.nodeSlice[k]!]! += g.nodeHit[k]!;
    }
    return { pred, hit };
  }
  const parent = Int32Array.from({ length: n }, (_, k) => k);
  const find = (k: number): number => {
    while (parent[k] !== k) {
      parent[k] = parent[parent[k]!]!;
      k = parent[k]!;
    }
    return k;
  };
  for (let e = 0; e < g.edges.length; e += 2) {
    const a = g.edges[e]!;
    const b = g.edges[e + 1]!;
    if (!alive(a) || !alive(b)) continue;
    const ra = find(a);
    const rb = find(b);
    // The smaller node number is the root: it is the component's first voxel in raster order.
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const size = new Float64Array(n);
  for (let k = 0; k < n; k++) if (alive(k)) size[find(k)]! += g.nodeSize[k]!;
  let best = -1;
  for (let k = 0; k < n; k++) if (size[k]! > 0 && (best < 0 || size[k]! > size[best]!)) best = k;
  if (best < 0) return { pred, hit };
  for (let k = 0; k < n; k++) {
    if (!alive(k) || find(k) !== best) continue;
    pred[g.nodeSlice[k]!]! += g.nodeSize[k]!;
    hit[g.nodeSlice[k]!]! += g.nodeHit[k]!;
  }
  return { pred, hit };
}
