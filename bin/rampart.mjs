#!/usr/bin/env node
// The `rampart` command. TypeScript sources are loaded through tsx's loader, so a checkout
// runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
