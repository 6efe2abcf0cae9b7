import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32, deflateRawSync } from 'node:zlib';
import { DENSENET121, DenseNet } from '../../../src/models/densenet.ts';
import {
  isCounterKey,
  isHeadKey,
  kerasKey,
  torchvisionKey,
} from '../../../src/models/import/densenet-keys.ts';
import { gatherStrided, permuteHost } from '../../../src/models/import/host-tensor.ts';
import { unpickle } from '../../../src/models/import/pickle.ts';
import { ZipArchive } from '../../../src/models/import/zip.ts';

/** A minimal zip writer (local headers, central directory, end record) for stored and deflated entries. */
function makeZip(entries: Array<{ name: string; data: Uint8Array; deflate: boolean }>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(e.deflate ? 8 : 0, 8);
    header.writeUInt32LE(crc32(e.data) >>> 0, 14);
    header.writeUInt32LE(body.length, 18);
    header.writeUInt32LE(e.data.length, 22);
    header.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc32(e.data) >>> 0, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(header, name, body);
    centrals.push(central, name);
    offset += header.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

// pickle.dumps({'a': (1, 2.5, -3, 2**70, -2**70, None, True, False, 'é', 300, 70000, -1),
//               'b': [shared, shared], 'c': OrderedDict([('k', 1)])}, protocol=2), shared = [1, 2]
const PROTOCOL_2 =
  '80027d7100285801000000617101284b014740040000000000004afdffffff8a090000000000000000408a090000000000000000c04e' +
  '88895802000000c3a971024d2c014a701101004affffffff74710358010000006271045d7105285d7106284b014b0265680665580100' +
  '000063710763636f6c6c656374696f6e730a4f726465726564446963740a71082952710958010000006b710a4b0173752e';
// pickle.dumps(eval, protocol=4) and protocol=2: STACK_GLOBAL builtins.eval, GLOBAL __builtin__.eval.
const EVAL_4 = '80049515000000000000008c086275696c74696e73948c046576616c9493942e';
const EVAL_2 = '8002635f5f6275696c74696e5f5f0a6576616c0a71002e';

const hex = (s: string) => Buffer.from(s, 'hex');
const collectionsOnly = (module: string, name: string) =>
  module === 'collections' && name === 'OrderedDict' ? () => new Map() : undefined;

describe('zip reader', () => {
  it('reads stored and deflated entries and checks their CRC', () => {
    const text = new TextEncoder().encode('tumour '.repeat(100));
    const bytes = makeZip([
      { name: 'a/stored', data: text, deflate: false },
      { name: 'a/deflated', data: text, deflate: true },
    ]);
    const zip = new ZipArchive(bytes, 'x.zip');
    assert.deepEqual([...zip.entries.keys()], ['a/stored', 'a/deflated']);
    assert.deepEqual(Uint8Array.from(zip.read('a/stored')), text);
    assert.deepEqual(Uint8Array.from(zip.read('a/deflated')), text);
    assert.throws(() => zip.read('a/none'), /x\.zip: no entry 'a\/none'/);
    const corrupt = Uint8Array.from(bytes);
    corrupt[40] = corrupt[40]! ^ 1;
    assert.throws(() => new ZipArchive(corrupt, 'bad.zip').read('a/stored'), /bad\.zip: .*CRC-32/);
  });

  it('refuses a truncated archive and entries past the end', () => {
    const bytes = makeZip([{ name: 'a', data: new Uint8Array(1000), deflate: false }]);
    assert.throws(
      () => new ZipArchive(bytes.subarray(0, 50), 't.zip'),
      /t\.zip: no zip end-of-central-directory/,
    );
    // Directory intact but pointing past a shortened body.
    const short = Buffer.concat([bytes.subarray(0, 40), bytes.subarray(bytes.length - 22 - 47)]);
    short.writeUInt32LE(40, short.length - 6); // the directory now starts at byte 40
    assert.throws(() => new ZipArchive(short, 's.zip').read('a'), /s\.zip: .*beyond the end of the file/);
  });
});

describe('pickle interpreter', () => {
  it('reads protocol 2 values: ints, longs, floats, strings, tuples, lists, memo, OrderedDict', () => {
    const { value, end } = unpickle(hex(PROTOCOL_2), { file: 'p.pkl', resolveGlobal: collectionsOnly });
    assert.equal(end, hex(PROTOCOL_2).length);
    assert.ok(value instanceof Map);
    assert.deepEqual(value.get('a'), [
      1,
      2.5,
      -3,
      2n ** 70n,
      -(2n ** 70n),
      null,
      true,
      false,
      'é',
      300,
      70000,
      -1,
    ]);
    const b = value.get('b') as unknown[];
    assert.deepEqual(b, [
      [1, 2],
      [1, 2],
    ]);
    assert.equal(b[0], b[1], 'a memoised object is shared, as in Python');
    assert.deepEqual(value.get('c'), new Map([['k', 1]]));
  });

  it('refuses globals off the allow-list, with either opcode, naming them', () => {
    for (const [bytes, name] of [
      [EVAL_4, 'builtins.eval'],
      [EVAL_2, '__builtin__.eval'],
    ] as const) {
      assert.throws(
        () => unpickle(hex(bytes), { file: 'evil.pkl', resolveGlobal: collectionsOnly }),
        new RegExp(
          `evil\\.pkl: pickle at byte \\d+: refers to the Python global ${name.replace('.', '\\.')}`,
        ),
      );
    }
  });

  it('refuses opcodes torch.save never writes, naming them, and truncated data', () => {
    // INST: protocol 0's way to build an instance of a named class.
    const inst = Buffer.from('(ios\nsystem\n.', 'latin1');
    assert.throws(
      () => unpickle(inst, { file: 'i.pkl', resolveGlobal: () => undefined }),
      /i\.pkl: pickle at byte 1: opcode INST \(0x69\)/,
    );
    const protocol2 = hex(PROTOCOL_2);
    assert.throws(
      () => unpickle(protocol2.subarray(0, 50), { file: 't.pkl', resolveGlobal: collectionsOnly }),
      /t\.pkl: .*unexpected end of data/,
    );
    // REDUCE may only call what the allow-list returned as a callable.
    const reduceOnString = Buffer.from('\x80\x02X\x01\x00\x00\x00a)R.', 'latin1');
    assert.throws(
      () => unpickle(reduceOnString, { file: 'r.pkl', resolveGlobal: () => undefined }),
      /not an allowed callable/,
    );
  });
});

describe('strided copies', () => {
  it('gathers views at an offset, with steps, and transposed', () => {
    const storage = Float32Array.from({ length: 12 }, (_, i) => i);
    assert.deepEqual(Array.from(gatherStrided(storage, 3, [4], [1])), [3, 4, 5, 6]);
    assert.deepEqual(Array.from(gatherStrided(storage, 1, [3], [2])), [1, 3, 5]);
    // A [3, 4] tensor stored transposed (column-major): element (i, j) at j·3 + i.
    assert.deepEqual(
      Array.from(gatherStrided(storage, 0, [3, 4], [1, 3])),
      [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11],
    );
    const big = BigInt64Array.from([5n, 6n, 7n]);
    assert.deepEqual(Array.from(gatherStrided(big, 2, [], [])), [7n]);
  });

  it('permutes HWIO kernels to OIHW', () => {
    // Kernel [H=1, W=2, I=2, O=3] with value = 1000h + 100w + 10i + o.
    const data = new Float32Array(12);
    for (let w = 0; w < 2; w++)
      for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) data[w * 6 + i * 3 + o] = 100 * w + 10 * i + o;
    const oihw = permuteHost({ dtype: 'float32', shape: [1, 2, 2, 3], data, origin: 'k' }, [3, 2, 0, 1]);
    assert.deepEqual(oihw.shape, [3, 2, 1, 2]);
    const expected: number[] = [];
    for (let o = 0; o < 3; o++)
      for (let i = 0; i < 2; i++) for (let w = 0; w < 2; w++) expected.push(100 * w + 10 * i + o);
    assert.deepEqual(Array.from(oihw.data as Float32Array), expected);
  });
});

describe('DenseNet key names', () => {
  it("renames torchvision's old dense-layer keys as torchvision's loader does", () => {
    assert.equal(
      torchvisionKey('features.denseblock3.denselayer24.norm.2.running_var'),
      'features.denseblock3.denselayer24.norm2.running_var',
    );
    assert.equal(
      torchvisionKey('features.denseblock1.denselayer1.conv.1.weight'),
      'features.denseblock1.denselayer1.conv1.weight',
    );
    assert.equal(torchvisionKey('module.features.norm5.bias'), 'features.norm5.bias');
    assert.equal(torchvisionKey('features.transition1.conv.weight'), 'features.transition1.conv.weight');
    assert.equal(torchvisionKey('features.norm0.weight'), 'features.norm0.weight');
  });

  it("maps every weight of Keras's DenseNet121 onto exactly the backbone of ours", () => {
    const layers: Array<[string, string[]]> = [
      ['conv1/conv', ['kernel']],
      ['conv1/bn', ['gamma', 'beta', 'moving_mean', 'moving_variance']],
    ];
    const bn = ['gamma', 'beta', 'moving_mean', 'moving_variance'];
    DENSENET121.blockConfig.forEach((n, b) => {
      for (let i = 1; i <= n; i++) {
        const name = `conv${b + 2}_block${i}`;
        layers.push([`${name}_0_bn`, bn], [`${name}_1_conv`, ['kernel']], [`${name}_1_bn`, bn]);
        layers.push([`${name}_2_conv`, ['kernel']]);
      }
      if (b < 3) layers.push([`pool${b + 2}_bn`, bn], [`pool${b + 2}_conv`, ['kernel']]);
    });
    layers.push(['bn', bn], ['fc1000', ['kernel', 'bias']]);
    const mapped = layers.flatMap(([layer, vars]) => vars.map((v) => kerasKey(layer, `${layer}/${v}:0`)));
    assert.ok(mapped.every((k) => k !== null));
    assert.equal(new Set(mapped).size, mapped.length, 'no two Keras weights share a key');
    const ours = [...new DenseNet({ ...DENSENET121, numClasses: 1000 }).stateDict().keys()].filter(
      (k) => !isCounterKey(k),
    );
    assert.deepEqual(new Set(mapped), new Set(ours));
    assert.equal(ours.filter(isHeadKey).length, 2);
    assert.equal(
      kerasKey('conv5_block16_2_conv', 'conv5_block16_2_conv/kernel:0'),
      'features.denseblock4.denselayer16.conv2.weight',
    );
    assert.equal(kerasKey('pool4_conv', 'pool4_conv_1/kernel:0'), 'features.transition3.conv.weight');
    assert.equal(kerasKey('conv1/relu', 'x:0'), null);
  });
});
