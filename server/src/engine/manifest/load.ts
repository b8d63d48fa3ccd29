/**
 * Loading a disc manifest (`*.disc.json`, JSON with comments): syntax, then the JSON Schema in
 * media-schema/ (the single source of truth for the format), each problem placed on the exact node.
 * Semantic checks that need the file system (sources, names, capacity) live in ../resolve.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { readFileSync } from 'node:fs';
import schema from '../../../../media-schema/disc-project.schema.json';
import type { Diagnostic, Range } from '../util/errors';
import { LineIndex } from './positions';
import type { DiscProject } from './types.generated';

export type { DiscProject };
export type JsonPath = (string | number)[];

/** A parsed manifest with the means to map any JSON path back to its place in the text. */
export class ManifestDocument {
  readonly lines: LineIndex;
  constructor(
    /** Path of the manifest file (as given: used in messages). */
    readonly file: string,
    readonly text: string,
    readonly root: Node | undefined,
  ) {
    this.lines = new LineIndex(text);
  }

  /** The node at a JSON path, or the closest existing ancestor. */
  node(path: JsonPath): Node | undefined {
    if (!this.root) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const found = findNodeAtLocation(this.root, path.slice(0, n));
      if (found) return found;
    }
    return this.root;
  }

  /** The range of the value at `path` (or of the property key when `key` is set). */
  range(path: JsonPath, key = false): Range {
    const node = this.node(path);
    if (!node) return this.lines.range(0, 0);
    if (key && node.parent?.type === 'property' && node.parent.children?.[0]) {
      const k = node.parent.children[0];
      return this.lines.range(k.offset, k.length);
    }
    return this.lines.range(node.offset, node.length);
  }

  diagnostic(path: JsonPath, code: string, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
    return { severity, code, message, file: this.file, range: this.range(path) };
  }
}

export interface LoadedManifest {
  doc: ManifestDocument;
  /** The manifest, when it is syntactically valid and conforms to the schema. */
  project?: DiscProject;
  diagnostics: Diagnostic[];
}

let validator: ValidateFunction | undefined;
function validate(value: unknown): ErrorObject[] {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    // RFC 3339 date-time (JSON Schema "format"), checked here to avoid another dependency.
    ajv.addFormat('date-time', {
      type: 'string',
      validate: (s: string) =>
        /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
    });
    validator = ajv.compile(schema);
  }
  // An unmet if/then (kind-dependent required properties) is reported by the `required` error it implies.
  return validator(value) ? [] : [...(validator.errors ?? [])].filter((e) => e.keyword !== 'if');
}

function pointerToPath(pointer: string): JsonPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * `files` entries are `oneOf` two shapes; Ajv reports the failures of both branches. Keep only the
 * branch the entry means (it has `source` or `directory`), and the bare oneOf error only if nothing
 * more precise is left for that entry.
 */
function relevantErrors(errors: ErrorObject[], value: unknown): ErrorObject[] {
  const files = (value as { files?: unknown }).files;
  const branchOf = (instancePath: string): string | undefined => {
    const m = /^\/files\/(\d+)/.exec(instancePath);
    if (!m || !Array.isArray(files)) return undefined;
    const entry = files[Number(m[1])] as Record<string, unknown> | null;
    if (entry && typeof entry === 'object') {
      if ('source' in entry) return 'SourceEntry';
      if ('directory' in entry) return 'DirectoryEntry';
    }
    return undefined;
  };
  const kept = errors.filter((e) => {
    if (e.keyword === 'oneOf') return true;
    const fromBranch = /definitions\/(SourceEntry|DirectoryEntry)/.test(e.schemaPath);
    if (!fromBranch) return true;
    // An entry with neither key gets only the oneOf message; otherwise only its own branch's errors.
    const branch = branchOf(e.instancePath);
    return branch !== undefined && e.schemaPath.includes(branch);
  });
  return kept.filter(
    (e) => e.keyword !== 'oneOf' || !kept.some((o) => o !== e && o.instancePath.startsWith(e.instancePath)),
  );
}

function schemaMessage(e: ErrorObject): { path: JsonPath; key: boolean; message: string } {
  const path = pointerToPath(e.instancePath);
  const where = e.instancePath === '' ? 'manifest' : `"${String(path[path.length - 1])}"`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = (e.params as { additionalProperty: string }).additionalProperty;
      return { path: [...path, prop], key: true, message: `unknown property "${prop}"` };
    }
    case 'required': {
      const prop = (e.params as { missingProperty: string }).missingProperty;
      return { path, key: false, message: `${where} needs the property "${prop}"` };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v));
      return { path, key: false, message: `${where} must be one of ${allowed.join(', ')}` };
    }
    case 'oneOf':
      return { path, key: false, message: 'a files entry needs either "source" (files from disk) or "directory" (an empty folder)' };
    default:
      return { path, key: false, message: `${where} ${e.message ?? 'is invalid'}` };
  }
}

/** Parses and schema-checks manifest text. `file` is used in diagnostics only. */
export function parseManifest(file: string, text: string): LoadedManifest {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const doc = new ManifestDocument(file, text, root);
  const diagnostics: Diagnostic[] = errors.map((e) => ({
    severity: 'error',
    code: 'json-syntax',
    message: `JSON syntax: ${printParseErrorCode(e.error)}`,
    file,
    range: doc.lines.range(e.offset, e.length),
  }));
  if (diagnostics.length > 0 || !root) {
    if (diagnostics.length === 0) diagnostics.push(doc.diagnostic([], 'json-syntax', 'the manifest is empty'));
    return { doc, diagnostics };
  }
  const value: unknown = nodeValue(root);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    diagnostics.push(doc.diagnostic([], 'schema', 'a manifest is a JSON object'));
    return { doc, diagnostics };
  }
  for (const e of relevantErrors(validate(value), value)) {
    const m = schemaMessage(e);
    diagnostics.push({ severity: 'error', code: 'schema', message: m.message, file, range: doc.range(m.path, m.key) });
  }
  return diagnostics.length > 0 ? { doc, diagnostics } : { doc, project: value as DiscProject, diagnostics };
}

/** Reads a manifest from disk; an unreadable file is a diagnostic at 1:1, not an exception. */
export function loadManifest(file: string): LoadedManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const doc = new ManifestDocument(file, '', undefined);
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return { doc, diagnostics: [doc.diagnostic([], 'manifest-unreadable', `cannot read the manifest: ${reason}`)] };
  }
  return parseManifest(file, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

/** jsonc-parser's getNodeValue, without prototype pollution through "__proto__" keys. */
function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const prop of node.children ?? []) {
        const [k, v] = prop.children ?? [];
        if (k && v) obj[String(k.value)] = nodeValue(v);
      }
      return { ...obj };
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}
