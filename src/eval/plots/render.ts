// Vega-Lite spec -> Vega view -> SVG (headless, no canvas needed) -> PNG through resvg. Every figure of the
// report goes through here, so they all share one font and one look.
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface Figure {
  svg: string;
  png: Uint8Array;
}

/** Installed with fonts-dejavu-core on Debian; resvg falls back to another system font if it is missing. */
export const FIGURE_FONT = 'DejaVu Sans';

/** PNG pixels per SVG pixel: sharp enough for a paper or a slide. */
const PNG_SCALE = 2;

export async function renderVegaLite(spec: TopLevelSpec): Promise<Figure> {
  const withFont = {
    ...spec,
    background: 'white',
    config: { ...spec.config, font: FIGURE_FONT },
  } as TopLevelSpec;
  const view = new View(parse(compile(withFont).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      font: { loadSystemFonts: true, defaultFontFamily: FIGURE_FONT, sansSerifFamily: FIGURE_FONT },
      fitTo: { mode: 'zoom', value: PNG_SCALE },
    })
      .render()
      .asPng();
    return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
  } finally {
    view.finalize();
  }
}

/** A figure value for titles: three decimals, or 'undefined'. */
export function formatFigure(value: number | null): string {
  return value === null ? 'undefined' : value.toFixed(3);
}

/** A quantitative position channel fixed to [0, 1], for rates, precision and Dice. */
export function unitAxis(field: string, title: string) {
  return { field, type: 'quantitative' as const, title, scale: { domain: [0, 1] } };
}
