// @ts-check
// Generates server/src/engine/manifest/types.generated.ts from media-schema/disc-project.schema.json,
// the single source of truth for the manifest. `--check` fails when the committed file is out of date
// (the tests run it).
import { compile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const schemaPath = `${root}media-schema/disc-project.schema.json`;
const outPath = `${root}server/src/engine/manifest/types.generated.ts`;

const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
const ts = await compile(schema, 'DiscProject', {
  bannerComment:
    '/* Generated from media-schema/disc-project.schema.json by `npm run gen:types`. Do not edit by hand. */',
  additionalProperties: false,
  unreachableDefinitions: true,
  style: { singleQuote: true, printWidth: 120 },
});
if (process.argv.includes('--check')) {
  if (readFileSync(outPath, 'utf8') !== ts) {
    console.error(`${outPath} is out of date: run \`npm run gen:types\``);
    process.exit(1);
  }
} else {
  writeFileSync(outPath, ts);
}
