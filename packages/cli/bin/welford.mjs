#!/usr/bin/env node
// The sources are TypeScript; tsx (the workspace's TypeScript runner) loads them.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
