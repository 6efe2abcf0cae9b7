// Data-parallel training from the command line. `--nproc N` starts N local worker processes of the same command,
// one libtorch thread each, on 127.0.0.1 (as torchrun --standalone does); `--rank/--world-size/--master-addr/
// --master-port`, or the MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE variables that launchers set, make this process
// one rank of a run that may span machines.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { type Command, InvalidArgumentError } from 'commander';
import type { GroupOptions } from '../engine/index.ts';
import { integer, positiveNumber } from './options.ts';

/** PyTorch's defaults: MASTER_PORT 29500, a 30-minute timeout for every collective. */
export const DEFAULT_MASTER_PORT = 29500;
export const DEFAULT_TIMEOUT_SECONDS = 1800;

export interface DistributedFlags {
  nproc?: number;
  rank?: number;
  worldSize?: number;
  masterAddr?: string;
  masterPort?: number;
  distTimeout: number;
}

export type DistributedSettings =
  | { kind: 'single' }
  | { kind: 'launch'; nproc: number; masterPort?: number }
  | { kind: 'rank'; group: GroupOptions };

export function distributedOptions(cmd: Command): Command {
  return cmd
    .option(
      '--nproc <n>',
      'data-parallel: start n worker processes here (one thread each unless --threads), --batch split between them',
      integer('--nproc', { min: 1 }),
    )
    .option('--rank <r>', 'data-parallel: this process is rank r (or RANK)', integer('--rank'))
    .option(
      '--world-size <n>',
      'data-parallel: processes in the run, on all machines (or WORLD_SIZE)',
      integer('--world-size', { min: 1 }),
    )
    .option('--master-addr <host>', "data-parallel: rank 0's address (or MASTER_ADDR)")
    .option(
      '--master-port <port>',
      `data-parallel: the port rank 0 listens on (or MASTER_PORT; default ${DEFAULT_MASTER_PORT})`,
      integer('--master-port', { min: 1, max: 65535 }),
    )
    .option(
      '--dist-timeout <s>',
      'data-parallel: seconds a rank waits for the others (rendezvous, each step, rank 0 validating)',
      positiveNumber('--dist-timeout'),
      DEFAULT_TIMEOUT_SECONDS,
    );
}

/** What the flags and the environment ask for; flags win over variables. Throws naming the flag or variable. */
export function distributedSettings(flags: DistributedFlags, env: NodeJS.ProcessEnv): DistributedSettings {
  if (flags.nproc !== undefined) {
    if (flags.rank !== undefined || flags.worldSize !== undefined)
      throw new InvalidArgumentError('--nproc starts its own ranks: leave out --rank and --world-size');
    if (flags.masterAddr !== undefined)
      throw new InvalidArgumentError('--nproc runs on this machine (127.0.0.1): leave out --master-addr');
    return flags.nproc === 1
      ? { kind: 'single' }
      : { kind: 'launch', nproc: flags.nproc, ...(flags.masterPort ? { masterPort: flags.masterPort } : {}) };
  }
  const worldSize = flags.worldSize ?? fromEnv(env, 'WORLD_SIZE', 1, Number.MAX_SAFE_INTEGER);
  const rank = flags.rank ?? fromEnv(env, 'RANK', 0, Number.MAX_SAFE_INTEGER);
  if (worldSize === undefined) {
    if (rank !== undefined && rank > 0)
      throw new InvalidArgumentError('--rank (or RANK) needs --world-size (or WORLD_SIZE)');
    return { kind: 'single' };
  }
  if (rank === undefined) throw new InvalidArgumentError('--world-size needs --rank (or RANK) as well');
  if (rank >= worldSize)
    throw new InvalidArgumentError(
      `--rank must be below --world-size ${worldSize} (ranks count from 0), got ${rank}`,
    );
  if (worldSize === 1) return { kind: 'single' };
  const masterAddr = flags.masterAddr ?? env['MASTER_ADDR'];
  if (!masterAddr)
    throw new InvalidArgumentError(
      "--master-addr (or MASTER_ADDR) is needed: the address of rank 0's machine",
    );
  const masterPort = flags.masterPort ?? fromEnv(env, 'MASTER_PORT', 1, 65535) ?? DEFAULT_MASTER_PORT;
  return {
    kind: 'rank',
    group: { masterAddr, masterPort, rank, worldSize, timeoutSeconds: flags.distTimeout },
  };
}

function fromEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}

/** A TCP port free on 127.0.0.1 just now (the workers' rank 0 takes it a moment later, as torchrun does). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** This command's arguments for a worker: without --nproc, and one thread each unless --threads says otherwise. */
export function workerArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--nproc' || a === '--master-port') i += 1;
    else if (!a.startsWith('--nproc=') && !a.startsWith('--master-port=')) out.push(a);
  }
  if (!out.some((a) => a === '--threads' || a.startsWith('--threads='))) out.push('--threads', '1');
  return out;
}

/**
 * Runs `args` (this CLI's arguments) as `nproc` ranks on this machine and waits for them. When one fails, the
 * others are stopped (torchrun's policy); returns the exit code of the first that failed, or 0.
 */
export async function launchLocalWorkers(o: {
  nproc: number;
  masterPort?: number;
  args: readonly string[];
  log: (line: string) => void;
}): Promise<number> {
  const port = o.masterPort ?? (await freePort());
  const script = process.argv[1]!;
  o.log(`starting ${o.nproc} worker processes (rendezvous at 127.0.0.1:${port})`);
  const workers = Array.from({ length: o.nproc }, (_, rank) =>
    spawn(process.execPath, [...process.execArgv, script, ...workerArgs(o.args)], {
      stdio: 'inherit',
      env: {
        ...process.env,
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(o.nproc),
        // OpenMP's own pool would otherwise start one thread per core in every worker.
        OMP_NUM_THREADS: process.env['OMP_NUM_THREADS'] ?? '1',
      },
    }),
  );
  const forward = (signal: NodeJS.Signals) => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill(signal);
  };
  const onSigint = () => forward('SIGINT');
  const onSigterm = () => forward('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let failure: { rank: number; code: number; how: string } | undefined;
  try {
    await Promise.all(
      workers.map(
        (w, rank) =>
          new Promise<void>((resolve) => {
            w.once('error', (err) => {
              failure ??= { rank, code: 1, how: err.message };
              forward('SIGTERM');
              resolve();
            });
            w.once('exit', (code, signal) => {
              if (code !== 0 && !failure) {
                const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
                failure = { rank, code: code ?? 1, how };
                forward('SIGTERM');
              }
              resolve();
            });
          }),
      ),
    );
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  if (failure) {
    o.log(`rank ${failure.rank} ${failure.how}; the other workers were stopped`);
    return failure.code;
  }
  return 0;
}
