/**
 * JSON syntax and JSON Schema services for manifests, from `vscode-json-languageservice` (the JSON language
 * service VS Code itself uses), configured with DiscForge's schema (media-schema/, bundled): schema-driven
 * validation, completion of keys and values, hover texts. A manifest's `$schema` is for other editors: whatever it
 * points at, a file named disc-project.schema.json is served from the bundled copy so that the editor always
 * agrees with the engine; any other schema URI is not fetched.
 */
import {
  getLanguageService,
  type JSONDocument,
  type LanguageService,
} from 'vscode-json-languageservice';
import { TextDocument } from 'vscode-languageserver-textdocument';
import schema from '../../../media-schema/disc-project.schema.json';

export const SCHEMA_URI = (schema as { $id?: string }).$id ?? 'discforge://schema/disc-project.schema.json';
const SCHEMA_TEXT = JSON.stringify(schema);

export class JsonService {
  readonly ls: LanguageService;
  private readonly cache = new Map<string, { version: number; json: JSONDocument }>();

  constructor() {
    this.ls = getLanguageService({
      schemaRequestService: (uri) =>
        /(^|\/)disc-project\.schema\.json$/.test(uri.replace(/[?#].*$/, ''))
          ? Promise.resolve(SCHEMA_TEXT)
          : Promise.reject(new Error(`DiscForge uses its own schema; ${uri} is not loaded`)),
      workspaceContext: {
        resolveRelativePath: (relativePath, resource) => new URL(relativePath, resource).toString(),
      },
    });
    this.ls.configure({
      validate: true,
      allowComments: true,
      schemas: [{ uri: SCHEMA_URI, fileMatch: ['*'], schema }],
    });
  }

  /** The parsed JSON document of an editor document (cached per version). */
  parse(doc: TextDocument): JSONDocument {
    const hit = this.cache.get(doc.uri);
    if (hit && hit.version === doc.version) return hit.json;
    const json = this.ls.parseJSONDocument(doc);
    this.cache.set(doc.uri, { version: doc.version, json });
    return json;
  }

  forget(uri: string): void {
    this.cache.delete(uri);
  }

  validate(doc: TextDocument) {
    return this.ls.doValidation(doc, this.parse(doc), { comments: 'ignore', trailingCommas: 'ignore', schemaValidation: 'error' });
  }
}

/** JSON LS error codes: below 0x100 schema problems, 0x100–0x2ff syntax, 0x300 and up schema loading. */
export function jsonCodeKind(code: unknown): 'schema' | 'syntax' | 'schema-load' {
  const n = typeof code === 'number' ? code : Number(code);
  if (!Number.isFinite(n) || n < 0x100) return 'schema';
  return n < 0x300 ? 'syntax' : 'schema-load';
}
