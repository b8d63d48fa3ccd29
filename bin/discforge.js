#!/usr/bin/env node
'use strict';
// The `discforge` command: the bundled CLI (built by `npm run build`, which `npm ci` runs through `prepare`).
require('../dist/cli.js').run();
