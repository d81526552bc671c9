#!/usr/bin/env node
// Runs the TypeScript sources directly: Node 22.18+/24 strip types natively.
import '../src/cli/main.ts';
