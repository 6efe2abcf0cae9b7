// src/engine/native.ts declares the addon's surface by hand (NativeBinding); nothing checks it against what
// native/src exports. Here the declared names and the loaded addon's must be the same set: a name declared but
// not exported fails only when first called, and one exported but not declared is dead or unused C++.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { native } from '../../src/engine/native.ts';
import { repoRoot } from '../data/fixtures.ts';

/** The member names of `interface NativeBinding { … }` in native.ts, read from its source. */
function declaredNames(): string[] {
  const source = readFileSync(join(repoRoot, 'src', 'engine', 'native.ts'), 'utf8');
  const body = /export interface NativeBinding \{([\s\S]*?)\n\}/.exec(source)?.[1];
  assert.ok(body, 'native.ts declares interface NativeBinding');
  const names = [...body.matchAll(/^ {2}(?:readonly )?(\w+)[(:?]/gm)].map((m) => m[1]!);
  return [...new Set(names)].sort();
}

describe('the native addon’s surface', () => {
  it('is exactly what native.ts declares', () => {
    const declared = declaredNames();
    const exported = Object.keys(native).sort();
    assert.ok(declared.length > 50, `only ${declared.length} names read from native.ts`);
    assert.deepEqual(
      exported.filter((n) => !declared.includes(n)),
      [],
      'exported by the addon but not declared',
    );
    assert.deepEqual(
      declared.filter((n) => !exported.includes(n)),
      [],
      'declared but not exported by the addon',
    );
  });
});
