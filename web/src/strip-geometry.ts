// Where things go on the probability strip: one bar per slice along the volume, its height the classifier's
// P(tumour), a horizontal line at the decision threshold, and a marker on the current slice; and the reverse,
// which slice a click at x means. Pure numbers, so the drawing code only paints.

export interface StripLayout {
  width: number;
  height: number;
  /** Vertical padding so bars and the threshold line never touch the edges. */
  padding: number;
}

export interface Bar {
  index: number;
  x: number;
  y: number;
  width: number;
  height: number;
  aboveThreshold: boolean;
}

/** Width of one slice's column (bars fill the width; a gap appears only when columns are wide). */
export function columnWidth(layout: StripLayout, count: number): number {
  return count > 0 ? layout.width / count : layout.width;
}

/** y of a probability in [0, 1]: 1 at the top (inside the padding), 0 at the bottom. */
export function yOfProbability(layout: StripLayout, probability: number): number {
  const p = Math.min(1, Math.max(0, probability));
  const usable = layout.height - 2 * layout.padding;
  return layout.padding + (1 - p) * usable;
}

export function barsOf(layout: StripLayout, probabilities: readonly number[], threshold: number): Bar[] {
  const column = columnWidth(layout, probabilities.length);
  const gap = column >= 6 ? 1 : 0;
  const bottom = yOfProbability(layout, 0);
  return probabilities.map((p, index) => {
    const top = yOfProbability(layout, p);
    // At least 1 px tall so a slice with P≈0 still shows where it is.
    const height = Math.max(1, bottom - top);
    return {
      index,
      x: index * column,
      y: bottom - height,
      width: Math.max(1, column - gap),
      height,
      aboveThreshold: p >= threshold,
    };
  });
}

/** Centre x of a slice's column, where the current-slice marker goes. */
export function centreOfSlice(layout: StripLayout, index: number, count: number): number {
  return (index + 0.5) * columnWidth(layout, count);
}

/** The slice under x (clamped to the strip), for clicks and drags. */
export function sliceAtX(layout: StripLayout, x: number, count: number): number {
  if (count <= 0) return 0;
  const index = Math.floor(x / columnWidth(layout, count));
  return Math.min(count - 1, Math.max(0, index));
}
