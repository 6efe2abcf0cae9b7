// The ONNX messages tumorscope writes, as plain objects, and their encoding. Field numbers are onnx.proto's
// (onnx/onnx, onnx/onnx.proto); only the fields an inference graph with float32 weights needs are covered.
import { type Encoded, MessageWriter } from './protobuf.ts';

/** ModelProto.metadata_props and StringStringEntryProto's fields (read back by metadata.ts). */
export const METADATA_PROPS_FIELD = 14;
export const ENTRY_KEY_FIELD = 1;
export const ENTRY_VALUE_FIELD = 2;

/** TensorProto.DataType.FLOAT. */
const FLOAT = 1;

export type Attribute =
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'ints'; value: readonly number[] }
  | { name: string; kind: 'string'; value: string };

// AttributeProto.AttributeType
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attributes?: readonly Attribute[];
}

/** A float32 initializer (weights), stored little-endian in raw_data. */
export interface InitializerSpec {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

/** A graph input or output: float32 with fixed sizes or named (dynamic) dimensions. */
export interface ValueInfoSpec {
  name: string;
  shape: readonly (number | string)[];
  docString?: string;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly InitializerSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
}

export interface ModelSpec {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: GraphSpec;
  /** metadata_props: free-form key → value strings. */
  metadata: Readonly<Record<string, string>>;
}

function encodeAttribute(a: Attribute): Encoded {
  const w = new MessageWriter().string(1, a.name).varint(20, ATTRIBUTE_TYPE[a.kind]);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.varint(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'ints':
      // Unpacked, as onnx.proto declares it (parsers accept both).
      for (const v of a.value) w.varint(8, v);
      break;
  }
  return w.finish();
}

function encodeNode(n: NodeSpec): Encoded {
  const w = new MessageWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, encodeAttribute(a));
  return w.finish();
}

function encodeTensor(t: InitializerSpec): Encoded {
  const w = new MessageWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, FLOAT).string(8, t.name);
  // raw_data is little-endian IEEE 754: a Float32Array's own bytes on every platform Node runs on.
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).finish();
}

function encodeValueInfo(v: ValueInfoSpec): Encoded {
  const shape = new MessageWriter();
  for (const d of v.shape) {
    const dim = new MessageWriter();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim.finish());
  }
  const tensorType = new MessageWriter().varint(1, FLOAT).message(2, shape.finish()).finish();
  const type = new MessageWriter().message(1, tensorType).finish();
  const w = new MessageWriter().string(1, v.name).message(2, type);
  if (v.docString) w.string(3, v.docString);
  return w.finish();
}

function encodeGraph(g: GraphSpec): Encoded {
  const w = new MessageWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const i of g.inputs) w.message(11, encodeValueInfo(i));
  for (const o of g.outputs) w.message(12, encodeValueInfo(o));
  return w.finish();
}

export function encodeModel(m: ModelSpec): Encoded {
  const w = new MessageWriter().varint(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, encodeGraph(m.graph));
  w.message(8, new MessageWriter().string(1, '').varint(2, m.opsetVersion).finish());
  for (const [k, v] of Object.entries(m.metadata)) {
    const entry = new MessageWriter().string(ENTRY_KEY_FIELD, k).string(ENTRY_VALUE_FIELD, v);
    w.message(METADATA_PROPS_FIELD, entry.finish());
  }
  return w.finish();
}
