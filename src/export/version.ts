// tumorscope's version, as package.json states it (recorded in exported files).
import { readFileSync } from 'node:fs';

export const TUMORSCOPE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
