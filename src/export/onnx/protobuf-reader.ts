// A minimal protocol-buffers reader, the counterpart of protobuf.ts: walks a message's fields without a schema.
// Enough to read an ONNX file's metadata_props back (onnxruntime's JavaScript API does not expose them).

export interface Field {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  value?: number;
  /** Payload of a length-delimited (wire 2) or fixed-width (wire 1, 5) field. */
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('protobuf: truncated varint');
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 0x80;
  }
}

/** The top-level fields of one encoded message, in file order. */
export function readFields(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, next] = readVarint(buf, pos);
    pos = next;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      const [value, after] = readVarint(buf, pos);
      fields.push({ field, wire, value });
      pos = after;
    } else if (wire === 2) {
      const [length, start] = readVarint(buf, pos);
      if (start + length > buf.length) throw new Error('protobuf: truncated field');
      fields.push({ field, wire, bytes: buf.subarray(start, start + length) });
      pos = start + length;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      fields.push({ field, wire, bytes: buf.subarray(pos, pos + size) });
      pos += size;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return fields;
}
