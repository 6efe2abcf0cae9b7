// Peak resident memory over a stretch of code, on Linux: the kernel's high-water mark (VmHWM) can be reset by
// writing 5 to /proc/self/clear_refs, so start-up (tsx, native libraries) does not count. For child processes.
import { readFileSync, writeFileSync } from 'node:fs';

function highWaterMb(): number {
  const kb = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (!kb) throw new Error('no VmHWM in /proc/self/status');
  return Number(kb) / 1024;
}

/** Starts a measurement; the function it returns gives how far the peak rose above the RSS at the start, in MB. */
export function measurePeak(): () => number {
  writeFileSync('/proc/self/clear_refs', '5');
  const start = process.memoryUsage().rss / 2 ** 20;
  return () => highWaterMb() - start;
}
