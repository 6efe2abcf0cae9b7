// How numbers read on the page.

export function formatProbability(p: number): string {
  return `${(p * 100).toFixed(p >= 0.995 || p < 0.005 ? 1 : 0)}%`;
}

export function formatPixels(count: number, unit: 'pixel' | 'voxel'): string {
  return `${count.toLocaleString('en-US')} ${unit}${count === 1 ? '' : 's'}`;
}

/** "slices 12–19" or "—" when none is positive. */
export function formatSliceRange(first: number | null, last: number | null): string {
  if (first === null || last === null) return '—';
  return first === last ? `slice ${first}` : `slices ${first}–${last}`;
}

/**
 * The server's notice without its opening "Research tool, not a … device." sentence, which the page already
 * shows in bold (so the banner does not say it twice); the rest (what not to use the results for) stays.
 */
export function noticeDetail(notice: string): string {
  return notice.replace(/^\s*Research tool, not an? [^.]*device\.\s*/i, '');
}
