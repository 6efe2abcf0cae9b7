// Talking to a test server over a real socket: multipart uploads through fetch, and raw requests through
// node:http for what fetch would tidy up (`..` in paths) or add (Content-Length).
import { request } from 'node:http';

export interface FilePart {
  name: string;
  bytes: Uint8Array;
  type?: string;
}

export function form(files: readonly FilePart[], field = 'files'): FormData {
  const data = new FormData();
  for (const f of files) {
    data.append(
      field,
      new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type ?? 'image/tiff' }),
      f.name,
    );
  }
  return data;
}

export async function postFiles(
  url: string,
  files: readonly FilePart[],
  query = '',
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${url}/api/predict${query}`, { method: 'POST', body: form(files) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body };
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
