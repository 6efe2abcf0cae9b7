// Progress for long loops: a bar on a terminal (cli-progress), and otherwise a few plain lines per loop, so that
// a background run's log shows it is alive without filling up: at most PLAIN_LINES a loop, whatever its length.
import cliProgress from 'cli-progress';

export interface Progress {
  tick(info?: Record<string, number>): void;
  stop(): void;
}

/** Progress that shows nothing (ranks other than 0 in data-parallel training). */
export const NO_PROGRESS: Progress = { tick: () => {}, stop: () => {} };

/** Lines one loop prints without a terminal (the last at the end of the loop). */
export const PLAIN_LINES = 4;

/** Steps between two plain lines: `every` at least, and no more than PLAIN_LINES lines over `total` steps. */
export function plainLineStep(total: number, every = 1): number {
  return Math.max(1, every, Math.ceil(total / PLAIN_LINES));
}

/** Progress over `total` steps; without a terminal a line every `every` steps at most (see plainLineStep). */
export function progress(label: string, total: number, log: (line: string) => void, every = 50): Progress {
  const started = performance.now();
  const step = plainLineStep(total, every);
  let done = 0;
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {eta_formatted} {info}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { info: '' });
    return {
      tick: (info) => bar.increment(1, { info: info ? format(info) : '' }),
      stop: () => bar.stop(),
    };
  }
  return {
    tick: (info) => {
      done += 1;
      if (done % step === 0 || done === total) {
        const rate = done / ((performance.now() - started) / 1000);
        log(`${label} ${done}/${total} (${rate.toFixed(2)}/s)${info ? ` ${format(info)}` : ''}`);
      }
    },
    stop: () => {},
  };
}

function format(info: Record<string, number>): string {
  return Object.entries(info)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(' ');
}

/**
 * Progress of work that reports (done, total) itself, such as a callback of the data layer: the bar starts at
 * the first report; without a terminal, at most PLAIN_LINES lines.
 */
export function progressReporter(
  label: string,
  log: (line: string) => void,
): { update(done: number, total: number): void; stop(): void } {
  let bar: Progress | undefined;
  let shown = 0;
  return {
    update(done, total) {
      bar ??= progress(label, total, log, 1);
      for (; shown < done; shown++) bar.tick();
    },
    stop: () => bar?.stop(),
  };
}
