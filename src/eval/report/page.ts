// The pieces every tumorscope report page shares: the disclaimer, escaping and number formats, tables, inline
// figures, the style sheet and the page around them. A page is self-contained: inline SVG, images as data: URIs,
// no script, no network reference (the Content-Security-Policy says so to the browser too).
import type { Figure } from '../plots/render.ts';

export const DISCLAIMER =
  'Research tool, not a diagnostic device: these results must not be used to diagnose, treat or make any clinical decision.';

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );
}

/** Three decimals, or 'n/a' for an undefined figure. */
export function formatMetric(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(3);
}

/**
 * Prefixes every id of an SVG (and the url(#id) / href="#id" that point at it): Vega numbers its gradients and
 * clip paths from 0 in every figure, and inline SVGs share one id space, so two figures would steal each
 * other's gradients.
 */
export function namespaceSvgIds(svg: string, prefix: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
  if (ids.size === 0) return svg;
  const rename = (id: string) => (ids.has(id) ? `${prefix}-${id}` : id);
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_, a: string, id: string, b: string) => `${a}${rename(id)}${b}`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/(href=")#([^"]+)(")/g, (_, a: string, id: string, b: string) => `${a}#${rename(id)}${b}`);
}

/** The figure as inline SVG in <figure id="figure-NAME">, or the `missing` sentence when there is none. */
export function inlineFigure(name: string, figure: Figure | undefined, missing: string): string {
  if (figure === undefined) return `<p class="missing">${escapeHtml(missing)}</p>`;
  const svg = namespaceSvgIds(figure.svg.replace(/^<\?xml[^>]*>\s*/, ''), `fig-${name}`);
  return `<figure class="plot" id="figure-${name}">${svg}</figure>`;
}

/** A table of text cells (escaped here). */
export function table(head: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${className === '' ? '' : ` class="${className}"`}><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/** Definitions as a <dl> section. */
export function definitionsSection(items: readonly { term: string; definition: string }[]): string {
  const dl = items
    .map((d) => `<dt>${escapeHtml(d.term)}</dt><dd>${escapeHtml(d.definition)}</dd>`)
    .join('\n');
  return `<section id="definitions"><h2>Definitions</h2><dl>\n${dl}\n</dl></section>`;
}

const STYLE = `body{font-family:'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
.disclaimer{border:2px solid #b00020;background:#fdecea;padding:.6em 1em;font-weight:bold}
table{border-collapse:collapse;margin:.8em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0}figure.plot svg{max-width:100%;height:auto}.missing{color:#777;font-style:italic}
.gallery-item{display:flex;flex-wrap:wrap;gap:.5em;align-items:flex-end;margin-bottom:1em}.gallery-item h4{width:100%;margin:.2em 0}
.gallery-item img{width:192px;image-rendering:pixelated}dt{font-weight:bold;margin-top:.6em}.nowrap td{white-space:nowrap}
table{max-width:100%}td{overflow-wrap:anywhere}details.config pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85em;background:#f6f6f6;padding:.5em}`;

/** The whole page: title, disclaimer at the top, the sections, the data citation and the disclaimer again. */
export function htmlPage(title: string, sections: readonly string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="disclaimer">${escapeHtml(DISCLAIMER)}</p>
${sections.join('\n')}
<footer><p>Data: LGG MRI Segmentation dataset (Buda et al., Computers in Biology and Medicine 2019; Mazurowski et al.,
Journal of Neuro-Oncology 2017), non-commercial research use. ${escapeHtml(DISCLAIMER)}</p></footer>
</body>
</html>
`;
}
