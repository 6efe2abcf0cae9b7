// A model card's metrics as label/value rows for the page. The card's layout is the server's business, so
// this reads it generically, at any depth (the segmenter's Dice sits at `test.endToEnd.meanPatientDice`):
// figures first, then short texts, labelled by their path in the card.

export type CardRow = readonly [label: string, value: string];

const MAX_ROWS = 12;
/** Deeper than this, a card holds lists of records (post-processing steps), not figures for a panel. */
const MAX_DEPTH = 3;

function formatValue(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value))
    return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === 'string' && value.length <= 40) return value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return undefined;
}

/** Every shown value of the card with its path, in the card's order; lists are left out. */
function leaves(value: unknown, path: string[], out: { path: string[]; value: unknown }[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push({ path, value });
    return;
  }
  if (path.length >= MAX_DEPTH) return;
  for (const [key, inner] of Object.entries(value)) leaves(inner, [...path, key], out);
}

export function cardRows(card: unknown): CardRow[] {
  if (typeof card !== 'object' || card === null) return [];
  const found: { path: string[]; value: unknown }[] = [];
  leaves(card, [], found);
  const rows = found.flatMap(({ path, value }) => {
    const shown = formatValue(value);
    return shown === undefined ? [] : [{ label: path.join('.'), shown, figure: typeof value === 'number' }];
  });
  // Figures before texts (a card's metrics are what the panel is for), each group in the card's order.
  const ordered = [...rows.filter((r) => r.figure), ...rows.filter((r) => !r.figure)];
  return ordered.slice(0, MAX_ROWS).map((r): CardRow => [r.label, r.shown]);
}
