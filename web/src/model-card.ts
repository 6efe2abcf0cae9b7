// A model card's metrics as label/value rows for the page. The card's layout is the server's business, so
// this reads it generically: numbers and short strings at the top level and one level down (`test.auc`).

export type CardRow = readonly [label: string, value: string];

const MAX_ROWS = 8;

function formatValue(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value))
    return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === 'string' && value.length <= 40) return value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return undefined;
}

export function cardRows(card: unknown): CardRow[] {
  if (typeof card !== 'object' || card === null) return [];
  const rows: CardRow[] = [];
  for (const [key, value] of Object.entries(card)) {
    const shown = formatValue(value);
    if (shown !== undefined) rows.push([key, shown]);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        const innerShown = formatValue(innerValue);
        if (innerShown !== undefined) rows.push([`${key}.${inner}`, innerShown]);
      }
    }
  }
  return rows.slice(0, MAX_ROWS);
}
