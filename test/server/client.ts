// Talking to a test server over a real socket: multipart forms encoded by fetch's FormData and sent through
// node:http, JSON through fetch, and raw requests for what fetch would tidy up (`..` in paths) or add
// (Content-Length).
import { request } from 'node:http';

export interface FilePart {
  name: string;
  bytes: Uint8Array;
  type?: string;
  /** The form field, when not the form's default (`flair`, `pre`, `post` for a patient's sequences). */
  field?: string;
}

export function form(files: readonly FilePart[], field = 'files'): FormData {
  const data = new FormData();
  for (const f of files) {
    data.append(
      f.field ?? field,
      new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type ?? 'image/tiff' }),
      f.name,
    );
  }
  return data;
}

/**
 * POSTs the files as a multipart form, on a connection of its own. The test runner is client and server in one
 * process: a reused keep-alive connection could sit idle past the server's 5 s keep-alive timeout while the
 * runner encodes a large form, and be closed by the server just as the request goes out (ECONNRESET).
 */
export async function postFiles(
  url: string,
  files: readonly FilePart[],
  query = '',
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const encoded = new Response(form(files));
  const bytes = new Uint8Array(await encoded.arrayBuffer());
  const res = await raw(Number(new URL(url).port), 'POST', `/api/predict${query}`, {
    headers: {
      'content-type': encoded.headers.get('content-type')!,
      'content-length': String(bytes.length),
    },
    chunks: [bytes],
  });
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {}
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, v);
  }
  return { status: res.status, headers, body };
}

export async function getJson(url: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: await res.json() };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with the path exactly as given, and optionally a body sent in chunks (no Content-Length). */
export function raw(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; chunks?: Uint8Array[] } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: options.headers ?? {}, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before every chunk is written: that is the point, not an error.
    req.on('error', reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

/**
 * Polls `check` until it holds, failing as soon as `request` is answered first (then it never will). No time
 * limit and no pause between polls: on a slower or a faster machine the polls slow down or speed up with the
 * work they wait on, so that no outcome depends on the machine's speed.
 */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  request: Promise<unknown>,
): Promise<void> {
  let answered = false;
  const mark = () => {
    answered = true;
  };
  request.then(mark, mark);
  for (;;) {
    if (await check()) return;
    if (answered) throw new Error(`${what}: a request was answered first: ${JSON.stringify(await request)}`);
    await new Promise((r) => setImmediate(r));
  }
}
