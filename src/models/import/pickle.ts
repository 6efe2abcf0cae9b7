// A minimal, safe interpreter for Python pickles: the opcodes torch.save writes for state dicts (protocol 2, plus
// the few protocol-4 ones newer writers may add), and nothing that runs code. A pickle names Python callables by
// module and name (GLOBAL); here they come from the caller's allow-list, so a malicious "weights" file that asks
// for os.system or builtins.eval is refused before anything happens. Python values become: None → null,
// bool → boolean, int → number (bigint beyond 2^53), float → number, str → string, bytes → Uint8Array,
// tuple and list → array, dict → Map.
import { WeightsFileError } from './weights-file-error.ts';

/** A callable the caller allows: REDUCE and NEWOBJ pass it the argument tuple. */
export type PickleCallable = (args: unknown[]) => unknown;

export interface UnpickleOptions {
  /** The file, for error messages. */
  file: string;
  /** Where the pickle starts (a legacy torch file holds several in a row). */
  offset?: number;
  /**
   * The value GLOBAL module.name stands for: a PickleCallable, or any other marker value. Undefined refuses it.
   * Returning a value here is the whole allow-list.
   */
  resolveGlobal(module: string, name: string): unknown;
  /** Resolves BINPERSID ids (torch.save refers to tensor storages this way). */
  persistentLoad?(id: unknown): unknown;
  /** Applies BUILD (obj.__setstate__(state)); by default only dicts accept it, and ignore the state. */
  build?(target: unknown, state: unknown): boolean;
}

export interface UnpickleResult {
  value: unknown;
  /** The offset just after STOP. */
  end: number;
}

// Opcode names for messages about opcodes this reader refuses.
const OPCODE_NAMES: Record<string, string> = {
  '(': 'MARK',
  '.': 'STOP',
  '0': 'POP',
  '1': 'POP_MARK',
  '2': 'DUP',
  F: 'FLOAT',
  I: 'INT',
  J: 'BININT',
  K: 'BININT1',
  L: 'LONG',
  M: 'BININT2',
  N: 'NONE',
  P: 'PERSID',
  Q: 'BINPERSID',
  R: 'REDUCE',
  S: 'STRING',
  T: 'BINSTRING',
  U: 'SHORT_BINSTRING',
  V: 'UNICODE',
  X: 'BINUNICODE',
  a: 'APPEND',
  b: 'BUILD',
  c: 'GLOBAL',
  d: 'DICT',
  '}': 'EMPTY_DICT',
  e: 'APPENDS',
  g: 'GET',
  h: 'BINGET',
  i: 'INST',
  j: 'LONG_BINGET',
  l: 'LIST',
  ']': 'EMPTY_LIST',
  o: 'OBJ',
  p: 'PUT',
  q: 'BINPUT',
  r: 'LONG_BINPUT',
  s: 'SETITEM',
  t: 'TUPLE',
  ')': 'EMPTY_TUPLE',
  u: 'SETITEMS',
  G: 'BINFLOAT',
  '\x80': 'PROTO',
  '\x81': 'NEWOBJ',
  '\x82': 'EXT1',
  '\x83': 'EXT2',
  '\x84': 'EXT4',
  '\x85': 'TUPLE1',
  '\x86': 'TUPLE2',
  '\x87': 'TUPLE3',
  '\x88': 'NEWTRUE',
  '\x89': 'NEWFALSE',
  '\x8a': 'LONG1',
  '\x8b': 'LONG4',
  B: 'BINBYTES',
  C: 'SHORT_BINBYTES',
  '\x8c': 'SHORT_BINUNICODE',
  '\x8d': 'BINUNICODE8',
  '\x8e': 'BINBYTES8',
  '\x8f': 'EMPTY_SET',
  '\x90': 'ADDITEMS',
  '\x91': 'FROZENSET',
  '\x92': 'NEWOBJ_EX',
  '\x93': 'STACK_GLOBAL',
  '\x94': 'MEMOIZE',
  '\x95': 'FRAME',
  '\x96': 'BYTEARRAY8',
  '\x97': 'NEXT_BUFFER',
  '\x98': 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function unpickle(bytes: Uint8Array, options: UnpickleOptions): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = options.offset ?? 0;
  let opStart = pos;

  const fail = (problem: string): never => {
    throw new WeightsFileError(options.file, `pickle at byte ${opStart}: ${problem}`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) fail('unexpected end of data: the file is truncated or corrupt');
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    pos += 2;
    return view.getUint16(pos - 2, true);
  };
  const u32 = (): number => {
    need(4);
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unexpected end of data in a text line');
    const text = Buffer.from(bytes.subarray(pos, end)).toString('latin1');
    pos = end + 1;
    return text;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      fail('stack underflow (corrupt pickle)');
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow (corrupt pickle)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) fail('no MARK to pop to (corrupt pickle)');
    return stack.splice(mark!);
  };
  const recall = (index: number): unknown => {
    if (!memo.has(index)) fail(`memo entry ${index} was never stored (corrupt pickle)`);
    return memo.get(index);
  };
  const resolve = (module: string, name: string): unknown => {
    const value = options.resolveGlobal(module, name);
    if (value === undefined) {
      fail(
        `refers to the Python global ${module}.${name}, which is not on the allow-list of a weights file; refusing to load it`,
      );
    }
    return value;
  };
  const call = (callable: unknown, args: unknown, opcode: string): unknown => {
    if (typeof callable !== 'function') fail(`${opcode} on something that is not an allowed callable`);
    if (!Array.isArray(args)) fail(`${opcode} without an argument tuple`);
    return (callable as PickleCallable)(args as unknown[]);
  };
  const asDict = (target: unknown, opcode: string): Map<unknown, unknown> => {
    if (!(target instanceof Map)) fail(`${opcode} on something that is not a dict`);
    return target as Map<unknown, unknown>;
  };
  const asList = (target: unknown, opcode: string): unknown[] => {
    if (!Array.isArray(target)) fail(`${opcode} on something that is not a list`);
    return target as unknown[];
  };
  const setItems = (dict: Map<unknown, unknown>, items: unknown[]): void => {
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const signedLong = (data: Uint8Array): number | bigint => {
    if (data.length === 0) return 0;
    let value = 0n;
    for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]!);
    if (data[data.length - 1]! & 0x80) value -= 1n << BigInt(8 * data.length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  };

  for (;;) {
    opStart = pos;
    const op = String.fromCharCode(u8());
    switch (op) {
      case '\x80': // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case '\x95': // FRAME: only a length hint
        take(8);
        break;
      case '.': // STOP
        return { value: pop(), end: pos };
      case '(':
        marks.push(stack.length);
        break;
      case '0':
        pop();
        break;
      case '1':
        popMark();
        break;
      case '2':
        stack.push(top());
        break;
      case 'N':
        stack.push(null);
        break;
      case '\x88':
        stack.push(true);
        break;
      case '\x89':
        stack.push(false);
        break;
      case 'J':
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 'K':
        stack.push(u8());
        break;
      case 'M':
        stack.push(u16());
        break;
      case '\x8a':
        stack.push(signedLong(take(u8())));
        break;
      case '\x8b': {
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail('negative LONG4 length');
        stack.push(signedLong(take(n)));
        break;
      }
      case 'G':
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 'X':
        stack.push(utf8.decode(take(u32())));
        break;
      case '\x8c':
        stack.push(utf8.decode(take(u8())));
        break;
      case 'T': {
        // Python 2's str: torch.load decodes it as UTF-8 too.
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail('negative BINSTRING length');
        stack.push(utf8.decode(take(n)));
        break;
      }
      case 'U':
        stack.push(utf8.decode(take(u8())));
        break;
      case 'B':
        stack.push(Uint8Array.from(take(u32())));
        break;
      case 'C':
        stack.push(Uint8Array.from(take(u8())));
        break;
      case ')':
        stack.push([]);
        break;
      case ']':
        stack.push([]);
        break;
      case '}':
        stack.push(new Map());
        break;
      case 't':
        stack.push(popMark());
        break;
      case '\x85':
        stack.push([pop()]);
        break;
      case '\x86': {
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case '\x87': {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 'l':
        stack.push(popMark());
        break;
      case 'a': {
        const item = pop();
        asList(top(), 'APPEND').push(item);
        break;
      }
      case 'e': {
        const items = popMark();
        asList(top(), 'APPENDS').push(...items);
        break;
      }
      case 'd': {
        const dict = new Map();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 's': {
        const value = pop();
        const key = pop();
        asDict(top(), 'SETITEM').set(key, value);
        break;
      }
      case 'u': {
        const items = popMark();
        setItems(asDict(top(), 'SETITEMS'), items);
        break;
      }
      case 'q':
        memo.set(u8(), top());
        break;
      case 'r':
        memo.set(u32(), top());
        break;
      case '\x94':
        memo.set(memo.size, top());
        break;
      case 'h':
        stack.push(recall(u8()));
        break;
      case 'j':
        stack.push(recall(u32()));
        break;
      case 'c': {
        const module = line();
        stack.push(resolve(module, line()));
        break;
      }
      case '\x93': {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL without two strings');
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 'R': {
        const args = pop();
        stack.push(call(pop(), args, 'REDUCE'));
        break;
      }
      case '\x81': {
        const args = pop();
        stack.push(call(pop(), args, 'NEWOBJ'));
        break;
      }
      case 'b': {
        const state = pop();
        const target = top();
        const handled = options.build?.(target, state) ?? false;
        // An OrderedDict's state is its attributes (a state dict's _metadata): not needed to load weights.
        if (!handled && !(target instanceof Map)) fail('BUILD on an object that is not a dict');
        break;
      }
      case 'Q': {
        const id = pop();
        if (options.persistentLoad === undefined) fail('BINPERSID, but this file has no persistent objects');
        stack.push(options.persistentLoad!(id));
        break;
      }
      default: {
        const name = OPCODE_NAMES[op] ?? 'unknown';
        fail(
          `opcode ${name} (0x${op.charCodeAt(0).toString(16).padStart(2, '0')}) is not one torch.save uses for weights; refusing it`,
        );
      }
    }
  }
}
