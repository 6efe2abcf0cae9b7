// A multipart/form-data parser (RFC 7578) over a body already in memory. Request.formData() (undici) parses in
// JavaScript at about 50 ms a MB here, which would stall the event loop for seconds on a 64 MB upload; finding
// the boundaries with Buffer.indexOf (native) takes milliseconds, and only the short part headers are parsed
// in JavaScript. File contents are copied out, each into its own ArrayBuffer, so they can be moved to the worker.
import { HttpError } from './http-error.ts';

export interface Part {
  /** The form field's name. */
  name: string;
  /** The file name, for file fields; undefined for text fields. */
  filename: string | undefined;
  data: Uint8Array;
}

/** Part headers longer than this are refused: real ones are a few hundred bytes. */
const MAX_HEADER_BYTES = 16 * 1024;

/** Whether a Content-Type is multipart/form-data (with or without parameters). */
export function isFormData(contentType: string): boolean {
  return /^\s*multipart\/form-data\s*(;|$)/i.test(contentType);
}

/** The boundary parameter of a multipart/form-data Content-Type, or undefined for any other type. */
export function boundaryOf(contentType: string): string | undefined {
  if (!isFormData(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1]?.replace(/\\(.)/g, '$1') ?? m?.[2];
  return boundary && boundary.length <= 200 ? boundary : undefined;
}

/** Parameters of a Content-Disposition header value (`form-data; name="files"; filename="a.tif"`). */
function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const m of value.matchAll(/;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const key = m[1]!.toLowerCase();
    // Quoted values: curl escapes with backslashes; browsers write " CR LF as %22 %0D %0A (the HTML spec).
    let v =
      m[2] !== undefined
        ? m[2]
            .replace(/\\(.)/g, '$1')
            .replace(/%(22|0D|0A)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
        : m[3]!.trim();
    if (key.endsWith('*')) {
      // RFC 5987 (filename*=UTF-8''a%20b.tif): preferred over the plain parameter.
      const ext = /^([^']*)'[^']*'(.*)$/.exec(v);
      try {
        v = ext ? decodeURIComponent(ext[2]!) : v;
      } catch {}
      params.set(key.slice(0, -1), v);
    } else if (!params.has(key)) params.set(key, v);
  }
  return params;
}

const bad = (problem: string) => new HttpError(400, `not a readable multipart/form-data body: ${problem}`);

export function parseMultipart(body: Uint8Array, boundary: string): Part[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length);
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter opens the body, or follows a preamble and a CRLF.
  let at = buf.subarray(0, delimiter.length).equals(delimiter) ? 0 : buf.indexOf(next);
  if (at < 0) throw bad(`no boundary '${boundary}' in the body`);
  if (at > 0) at += 2;
  const parts: Part[] = [];
  for (;;) {
    at += delimiter.length;
    if (buf[at] === 0x2d && buf[at + 1] === 0x2d) return parts; // "--": the closing delimiter
    while (buf[at] === 0x20 || buf[at] === 0x09) at++; // transport padding
    if (buf[at] !== 0x0d || buf[at + 1] !== 0x0a) throw bad('a boundary is not followed by a line break');
    at += 2;
    const headerEnd = buf.indexOf('\r\n\r\n', at);
    if (headerEnd < 0 || headerEnd - at > MAX_HEADER_BYTES)
      throw bad(`part ${parts.length + 1} has no end to its headers`);
    let disposition: Map<string, string> | undefined;
    for (const line of buf.toString('utf8', at, headerEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-disposition') {
        disposition = dispositionParams(line.slice(colon + 1));
      }
    }
    const name = disposition?.get('name');
    if (name === undefined) throw bad(`part ${parts.length + 1} has no Content-Disposition name`);
    const start = headerEnd + 4;
    const end = buf.indexOf(next, start);
    if (end < 0)
      throw bad(`part ${parts.length + 1} ('${name}') is cut off: the body ends before its boundary`);
    // Copied into a buffer of its own: a view would keep (and transfer) the whole body.
    parts.push({
      name,
      filename: disposition?.get('filename'),
      data: new Uint8Array(buf.subarray(start, end)),
    });
    at = end + 2;
  }
}
