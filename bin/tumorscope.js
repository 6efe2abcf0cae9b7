#!/usr/bin/env node
// The `tumorscope` command. Runs the TypeScript sources through tsx, so a checkout needs no build step beyond
// scripts/setup.sh (which builds the native addon).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
