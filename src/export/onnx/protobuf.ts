// A minimal protocol-buffers encoder: just the wire types ONNX files use (varint, 32-bit float, length-delimited).
// An encoded message is kept as a list of byte chunks plus their total length, so that nesting only prepends a
// length and the large weight buffers are copied once, when the file is assembled.

export interface Encoded {
  parts: Uint8Array[];
  length: number;
}

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

function varintBytes(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    // ONNX fields written here (dims, ints, enums, versions) are non-negative; negative int64s would need 10 bytes.
    throw new RangeError(`protobuf varint: ${value} is not a non-negative safe integer`);
  }
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

const key = (field: number, wire: number) => varintBytes(field * 8 + wire);
const utf8 = new TextEncoder();

/** Builds one message field by field, in the order the calls are made. */
export class MessageWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  varint(field: number, value: number): this {
    this.#push(key(field, WIRE_VARINT));
    this.#push(varintBytes(value));
    return this;
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(key(field, WIRE_FIXED32));
    this.#push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#push(key(field, WIRE_BYTES));
    this.#push(varintBytes(value.length));
    this.#push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: Encoded): this {
    this.#push(key(field, WIRE_BYTES));
    this.#push(varintBytes(value.length));
    for (const p of value.parts) this.#push(p);
    return this;
  }

  finish(): Encoded {
    return { parts: [...this.#parts], length: this.#length };
  }
}

/** The message's bytes in one buffer. */
export function concatEncoded(message: Encoded): Uint8Array {
  const out = new Uint8Array(message.length);
  let offset = 0;
  for (const p of message.parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
