// The browser viewer: files of web/dist (built by `npm run build:web`) for every GET that is not /api/. A request
// path never leaves the root: it is decoded, resolved against the root and refused unless it stays inside (and
// so does its real path, in case of links). Without a build, every page says how to make one.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Context } from 'hono';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>tumorscope: viewer not built</title>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The tumorscope viewer is not built</h1>
<p>Run <code>npm run build:web</code> in the tumorscope checkout, then reload this page.
The HTTP API (<code>/api/health</code>, <code>/api/models</code>, <code>POST /api/predict</code>) works without it.</p>
<p>Research tool, not a medical device.</p>
</body></html>
`;

/**
 * The file a URL path names under `root`, or undefined when there is none or the path tries to leave the root
 * (`..`, encoded or not, an absolute or NUL-bearing path, or a link pointing outside).
 */
export async function resolveStatic(root: string, urlPath: string): Promise<string | undefined> {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined; // malformed percent-encoding
  }
  if (path.includes('\0')) return undefined;
  const base = resolve(root);
  let file = resolve(base, `.${path.startsWith('/') ? path : `/${path}`}`);
  if (file !== base && !file.startsWith(base + sep)) return undefined;
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    const [realBase, realFile] = await Promise.all([realpath(base), realpath(file)]);
    if (!realFile.startsWith(realBase + sep)) return undefined;
    return (await stat(realFile)).isFile() ? realFile : undefined;
  } catch {
    return undefined;
  }
}

/** A hono handler serving `root`; 503 with instructions when `root`/index.html is missing. */
export function staticFiles(root: string) {
  return async (c: Context): Promise<Response> => {
    c.header('X-Content-Type-Options', 'nosniff');
    if (!(await resolveStatic(root, '/index.html'))) return c.html(NOT_BUILT, 503);
    const file = await resolveStatic(root, c.req.path);
    if (!file) return c.text('Not found', 404);
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    // Vite names built assets by content hash, so they never change; the page itself must be re-read.
    const cache = c.req.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    const body = await readFile(file);
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': type,
      'Content-Length': String(body.length),
      'Cache-Control': cache,
    });
  };
}
