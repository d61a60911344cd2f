#!/usr/bin/env node
// The `segpipe` command runs the compiled bundle (made by `npm run build`, which `npm ci` runs), not a
// TypeScript loader. Installed with `npm install -g .` or `npm link`, it is a link to the clone, whose
// node_modules and dist/ it runs from.
const { dirname } = require('node:path');
const root = dirname(__dirname);
try {
  require.resolve('commander', { paths: [root] });
} catch {
  process.stderr.write(`segpipe: ${root} has no node_modules: run \`npm ci\` there first\n`);
  process.exit(1);
}
try {
  require.resolve('../dist/segpipe.js');
} catch {
  process.stderr.write(`segpipe: ${root}/dist/segpipe.js is missing: run \`npm run build\` there (npm ci runs it for you)\n`);
  process.exit(1);
}
require('../dist/segpipe.js');
