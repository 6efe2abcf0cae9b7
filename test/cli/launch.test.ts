// Which data-parallel run the training flags and the launcher variables ask for, and what a local worker is
// started with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MASTER_PORT, distributedSettings, workerArgs } from '../../src/cli/launch.ts';
import { glooDevice } from '../../src/engine/index.ts';

const T = { distTimeout: 60 };

describe('data-parallel settings', () => {
  it('nothing, one process or a world of one: a single process', () => {
    assert.deepEqual(distributedSettings(T, {}), { kind: 'single' });
    assert.deepEqual(distributedSettings({ ...T, nproc: 1 }, {}), { kind: 'single' });
    assert.deepEqual(distributedSettings(T, { WORLD_SIZE: '1', RANK: '0' }), { kind: 'single' });
  });

  it('--nproc launches local workers, on a port of its own unless --master-port names one', () => {
    assert.deepEqual(distributedSettings({ ...T, nproc: 2 }, {}), { kind: 'launch', nproc: 2 });
    assert.deepEqual(distributedSettings({ ...T, nproc: 2, masterPort: 29600 }, {}), {
      kind: 'launch',
      nproc: 2,
      masterPort: 29600,
    });
    assert.throws(() => distributedSettings({ ...T, nproc: 2, rank: 0 }, {}), /--nproc starts its own ranks/);
    assert.throws(
      () => distributedSettings({ ...T, nproc: 2, masterAddr: 'h' }, {}),
      /leave out --master-addr/,
    );
  });

  it('the launcher variables make a rank; flags win over them; the port defaults to 29500', () => {
    const env = { MASTER_ADDR: '10.0.0.1', RANK: '1', WORLD_SIZE: '2' };
    assert.deepEqual(distributedSettings(T, env), {
      kind: 'rank',
      group: {
        masterAddr: '10.0.0.1',
        masterPort: DEFAULT_MASTER_PORT,
        rank: 1,
        worldSize: 2,
        timeoutSeconds: 60,
      },
    });
    const flags = { ...T, rank: 3, worldSize: 4, masterAddr: '10.0.0.2', masterPort: 29700 };
    assert.deepEqual(distributedSettings(flags, { ...env, MASTER_PORT: '1234' }), {
      kind: 'rank',
      group: { masterAddr: '10.0.0.2', masterPort: 29700, rank: 3, worldSize: 4, timeoutSeconds: 60 },
    });
  });

  it('refuses incomplete or contradictory settings, naming the flag or variable', () => {
    const cases: [Parameters<typeof distributedSettings>, RegExp][] = [
      [[{ ...T, worldSize: 2 }, {}], /--world-size needs --rank/],
      [[{ ...T, rank: 1 }, {}], /--rank \(or RANK\) needs --world-size/],
      [[{ ...T, rank: 2, worldSize: 2 }, {}], /--rank must be below --world-size 2/],
      [[T, { RANK: '0', WORLD_SIZE: '2' }], /--master-addr \(or MASTER_ADDR\) is needed/],
      [[T, { RANK: 'one', WORLD_SIZE: '2' }], /RANK must be an integer from 0/],
      [
        [T, { RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '70000' }],
        /MASTER_PORT must be an integer from 1 to 65535/,
      ],
    ];
    for (const [args, message] of cases) assert.throws(() => distributedSettings(...args), message);
  });

  it('a worker runs the same command without --nproc and --master-port, one thread unless --threads says', () => {
    assert.deepEqual(
      workerArgs(['train', 'segmenter', '--nproc', '2', '--master-port=29600', '--batch', '8']),
      ['train', 'segmenter', '--batch', '8', '--threads', '1'],
    );
    assert.deepEqual(workerArgs(['train', 'classifier', '--nproc=2', '--threads', '2']), [
      'train',
      'classifier',
      '--threads',
      '2',
    ]);
  });

  it("Gloo binds to loopback for a loopback master, to GLOO_SOCKET_IFNAME's interface when set", () => {
    assert.deepEqual(glooDevice('127.0.0.1', {}), { kind: 'hostname', value: '127.0.0.1' });
    assert.deepEqual(glooDevice('localhost', {}), { kind: 'hostname', value: '127.0.0.1' });
    assert.deepEqual(glooDevice('10.0.0.1', {}), { kind: 'default', value: '' });
    assert.deepEqual(glooDevice('10.0.0.1', { GLOO_SOCKET_IFNAME: 'eth1,eth2' }), {
      kind: 'interface',
      value: 'eth1',
    });
  });
});
