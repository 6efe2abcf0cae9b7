// What an exported file says about itself in metadata_props, beyond the graph: everything a consumer (the
// viewer, another runtime) needs to feed the graph and read its output as tumorscope does. Every value is a
// JSON text, so numbers and objects survive the string-to-string map unchanged.
import { ENTRY_KEY_FIELD, ENTRY_VALUE_FIELD, METADATA_PROPS_FIELD } from './onnx-model.ts';
import { readFields } from './protobuf-reader.ts';

export const METADATA_PREFIX = 'tumorscope.';

/** `{ version: '0.1.0', … }` → `{ 'tumorscope.version': '"0.1.0"', … }` (undefined entries left out). */
export function encodeMetadata(values: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values))
    if (v !== undefined) out[METADATA_PREFIX + k] = JSON.stringify(v);
  return out;
}

/** The raw metadata_props of an ONNX file (key → value strings), read without loading the graph. */
export function readOnnxMetadataProps(file: Uint8Array): Record<string, string> {
  const decoder = new TextDecoder();
  const out: Record<string, string> = {};
  for (const f of readFields(file)) {
    if (f.field !== METADATA_PROPS_FIELD || !f.bytes) continue;
    let key = '';
    let value = '';
    for (const e of readFields(f.bytes)) {
      if (e.field === ENTRY_KEY_FIELD && e.bytes) key = decoder.decode(e.bytes);
      if (e.field === ENTRY_VALUE_FIELD && e.bytes) value = decoder.decode(e.bytes);
    }
    out[key] = value;
  }
  return out;
}

/** tumorscope's own metadata of an exported file, parsed: `{ version, kind, preprocess, threshold, … }`. */
export function readOnnxMetadata(file: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(readOnnxMetadataProps(file))) {
    if (k.startsWith(METADATA_PREFIX)) out[k.slice(METADATA_PREFIX.length)] = JSON.parse(v);
  }
  return out;
}
