// Mouse wheel → slice steps. A wheel notch (about 100 px in Chromium, 3 lines in Firefox) moves one slice;
// a trackpad's stream of small deltas is summed until it amounts to one. At most one slice per event, so a
// fast flick does not fly past the tumour.

/** Pixels of scroll that make one slice. */
export const PIXELS_PER_SLICE = 50;

/** WheelEvent.deltaMode: 0 pixels, 1 lines, 2 pages. */
const PIXELS_PER_MODE = [1, 40, 800] as const;

export interface WheelState {
  /** Scroll summed since the last step, in pixels. */
  pending: number;
}

/** The step (−1, 0 or +1) for one wheel event, and the scroll left over for the next. */
export function wheelStep(
  state: WheelState,
  deltaY: number,
  deltaMode: number,
): { step: number; state: WheelState } {
  const pixels = deltaY * (PIXELS_PER_MODE[deltaMode as 0 | 1 | 2] ?? 1);
  // A reversal starts afresh: the user changed their mind, so leftovers of the other way do not count.
  const pending = Math.sign(pixels) === -Math.sign(state.pending) ? pixels : state.pending + pixels;
  if (Math.abs(pending) < PIXELS_PER_SLICE) return { step: 0, state: { pending } };
  return { step: Math.sign(pending), state: { pending: 0 } };
}
