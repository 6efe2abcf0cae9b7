// Progress for long loops: a bar on a terminal (cli-progress), and a plain line every `every` steps otherwise,
// so that a background run's log shows it is alive.
import cliProgress from 'cli-progress';

export interface Progress {
  tick(info?: Record<string, number>): void;
  stop(): void;
}

/** Progress that shows nothing (ranks other than 0 in data-parallel training). */
export const NO_PROGRESS: Progress = { tick: () => {}, stop: () => {} };

export function progress(label: string, total: number, log: (line: string) => void, every = 50): Progress {
  const started = performance.now();
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
      if (done % every === 0 || done === total) {
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
