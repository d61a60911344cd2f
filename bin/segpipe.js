#!/usr/bin/env node
// The `segpipe` command runs the compiled bundle (made by `npm run build`, which `npm ci` runs), not a TypeScript loader.
try {
  require.resolve('../dist/segpipe.js');
} catch {
  process.stderr.write('segpipe: dist/segpipe.js is missing; run `npm run build` (npm ci runs it for you).\n');
  process.exit(1);
}
require('../dist/segpipe.js');
