// The multipart parser against undici's own FormData encoding (what browsers and fetch send), curl's escapes,
// and broken bodies; and that it splits a large body natively, decoding only the part headers in JavaScript
// (Request.formData() parses every byte in JavaScript, about 50 ms a MB).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundaryOf, parseMultipart } from '../../src/server/multipart.ts';

async function encode(form: FormData): Promise<{ body: Uint8Array; type: string }> {
  const req = new Request('http://localhost/', { method: 'POST', body: form });
  return { body: new Uint8Array(await req.arrayBuffer()), type: req.headers.get('content-type')! };
}

function bytes(n: number, seed: number): Uint8Array {
  // Line breaks and dashes inside the content, as binary files have.
  return Uint8Array.from({ length: n }, (_, i) => [13, 10, 45, 45, (i * seed) % 256][i % 5]!);
}

describe('parseMultipart', () => {
  it('reads what FormData encodes, file names and contents exactly', async () => {
    const form = new FormData();
    const files = [
      { name: 'TCGA_CS_4941_19960909_1.tif', data: bytes(5000, 7) },
      { name: 'scan "quoted" é 雪.png', data: bytes(10, 3) },
      { name: 'line\nbreak.tif', data: new Uint8Array(0) },
    ];
    for (const f of files) form.append('files', new Blob([f.data as Uint8Array<ArrayBuffer>]), f.name);
    form.append('comment', 'not a file');
    const { body, type } = await encode(form);
    const parts = parseMultipart(body, boundaryOf(type)!);
    const expected = await new Request('http://localhost/', {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': type },
    }).formData();
    assert.deepEqual(
      parts.map((p) => [p.name, p.filename]),
      [...expected.entries()].map(([k, v]) => [k, typeof v === 'string' ? undefined : v.name]),
    );
    files.forEach((f, i) => {
      assert.deepEqual(parts[i]!.data, f.data);
    });
    assert.equal(new TextDecoder().decode(parts[3]!.data), 'not a file');
    // Each file in its own buffer, so one can be transferred without the rest.
    assert.equal(parts[0]!.data.buffer.byteLength, 5000);
  });

  it("reads curl's escapes, RFC 5987 names, a preamble and transport padding", () => {
    const body = Buffer.from(
      'preamble\r\n--XyZ  \r\n' +
        'Content-Disposition: form-data; name="files"; filename="a\\"b.tif"\r\nContent-Type: image/tiff\r\n\r\nAB\r\n' +
        '--XyZ\r\ncontent-disposition: form-data; name=files; filename*=UTF-8\'\'%C3%A9.tif; filename="e.tif"\r\n\r\nC\r\n' +
        '--XyZ--\r\nepilogue',
    );
    const parts = parseMultipart(body, boundaryOf('multipart/form-data; boundary="XyZ"')!);
    assert.deepEqual(
      parts.map((p) => [p.name, p.filename, Buffer.from(p.data).toString()]),
      [
        ['files', 'a"b.tif', 'AB'],
        ['files', 'é.tif', 'C'],
      ],
    );
  });

  it('refuses broken bodies with a 400 saying what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['no boundary here', /no boundary 'b'/],
      ['--b\r\nContent-Disposition: form-data; name="files"; filename="x"\r\n\r\nABC', /cut off/],
      ['--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--', /no Content-Disposition name/],
      ['--bjunk', /not followed by a line break/],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => parseMultipart(Buffer.from(body), 'b'),
        (err: Error & { status?: number }) => err.status === 400 && message.test(err.message),
        body,
      );
    }
  });

  it('finds the boundary of multipart/form-data types only', () => {
    assert.equal(boundaryOf('multipart/form-data; boundary=----abc'), '----abc');
    assert.equal(boundaryOf('Multipart/Form-Data;charset=utf-8; boundary="a b"'), 'a b');
    assert.equal(boundaryOf('multipart/form-data'), undefined);
    assert.equal(boundaryOf('application/json'), undefined);
    assert.equal(boundaryOf('multipart/mixed; boundary=x'), undefined);
  });

  it('finds the boundaries of a large body natively and decodes only the part headers', async (t) => {
    const count = 64;
    const size = 128 * 1024;
    const form = new FormData();
    for (let i = 0; i < count; i++)
      form.append('files', new Blob([bytes(size, i + 1) as Uint8Array<ArrayBuffer>]), `${i}.tif`);
    const { body, type } = await encode(form);
    // Counted, not timed: the work done in JavaScript must grow with the parts, not with the bytes.
    const searches = t.mock.method(Buffer.prototype, 'indexOf');
    const decodes = t.mock.method(Buffer.prototype, 'toString');
    const parts = parseMultipart(body, boundaryOf(type)!);
    const searched = searches.mock.callCount();
    let decoded = 0;
    for (const call of decodes.mock.calls) {
      const [, start = 0, end = (call.this as Buffer).length] = call.arguments as [string?, number?, number?];
      decoded += end - start;
    }
    t.mock.restoreAll();
    assert.equal(parts.length, count);
    parts.forEach((p, i) => {
      assert.deepEqual(p.data, bytes(size, i + 1), `part ${i}`);
    });
    // One search for a part's header end and one for its closing boundary, plus the first delimiter.
    assert.ok(searched <= 2 * count + 1, `${searched} native searches for ${count} parts`);
    assert.ok(
      searched >= count,
      `${searched} native searches for ${count} parts: the boundaries were not searched`,
    );
    const headerBytes = 200; // Content-Disposition and Content-Type of one part
    assert.ok(
      decoded <= count * headerBytes,
      `decoded ${decoded} bytes of a ${body.length}-byte body as text`,
    );
  });
});
