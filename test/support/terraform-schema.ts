import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import ts from 'typescript';
import { snakeCase } from '../../shared/core/names.js';

/**
 * The providers' schemas, read from the bindings cdktf generates from them (@cdktf/provider-google 16.12.1 =
 * hashicorp/google 6.50; provider-time; provider-archive): per resource, its arguments (required or not),
 * its blocks (nested, recursively) and the attributes a reference may read.
 */
export interface BlockSchema {
  args: Map<string, { required: boolean }>;
  blocks: Map<string, BlockSchema>;
  /** attributes readable in a reference (arguments and computed attributes) */
  reads: Set<string>;
}

const require = createRequire(import.meta.url);
const PROVIDERS: Record<string, { pkg: string; strip: string; dataPrefix: string }> = {
  google: { pkg: '@cdktf/provider-google', strip: 'google_', dataPrefix: 'data-google-' },
  time: { pkg: '@cdktf/provider-time', strip: 'time_', dataPrefix: 'data-time-' },
  archive: { pkg: '@cdktf/provider-archive', strip: 'archive_', dataPrefix: 'data-archive-' },
};

const cache = new Map<string, BlockSchema | null>();

/** The schema of `resource` or `data` type `type`, or null when the provider has no such type. */
export function schemaOf(kind: 'resource' | 'data', type: string): BlockSchema | null {
  const key = `${kind}:${type}`;
  if (cache.has(key)) return cache.get(key)!;
  const provider = PROVIDERS[type.split('_')[0]!];
  let result: BlockSchema | null = null;
  if (provider) {
    const lib = join(dirname(require.resolve(`${provider.pkg}/package.json`)), 'lib');
    const dir = (kind === 'data' ? `data-${type}` : type.slice(provider.strip.length)).replace(/_/g, '-');
    const file = join(lib, dir, 'index.d.ts');
    if (existsSync(file)) result = readBindings(file);
  }
  cache.set(key, result);
  return result;
}

function readBindings(file: string): BlockSchema {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  const classes = new Map<string, ts.ClassDeclaration>();
  src.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n)) interfaces.set(n.name.text, n);
    if (ts.isClassDeclaration(n) && n.name) classes.set(n.name.text, n);
  });
  const root = [...interfaces.keys()].find(
    (n) => n.endsWith('Config') && interfaces.get(n)!.heritageClauses?.some((h) => h.getText().includes('TerraformMetaArguments')),
  );
  if (!root) throw new Error(`no Config interface in ${file}`);
  const getters = (cls: string | undefined) => {
    const c = cls ? classes.get(cls) : undefined;
    return new Set(
      (c?.members ?? [])
        .filter(ts.isGetAccessor)
        .map((g) => g.name?.getText() ?? '')
        .filter((n) => !n.endsWith('Input') && n !== 'internalValue')
        .map(snakeCase),
    );
  };
  const build = (name: string, cls: string | undefined): BlockSchema => {
    const schema: BlockSchema = { args: new Map(), blocks: new Map(), reads: getters(cls) };
    for (const m of interfaces.get(name)!.members) {
      if (!ts.isPropertySignature(m) || !m.type) continue;
      // The snake_case name Terraform uses is the anchor of the registry link in the doc comment.
      const doc = m.getFullText().match(/#([a-z0-9_]+) [A-Za-z0-9]+#/);
      const tfName = doc ? doc[1]! : snakeCase(m.name.getText());
      const typeNames = m.type
        .getText()
        .split('|')
        .map((t) => t.trim().replace(/\[\]$/, ''));
      const nested = typeNames.find((t) => interfaces.has(t));
      if (nested)
        schema.blocks.set(tfName, build(nested, classes.has(`${nested}OutputReference`) ? `${nested}OutputReference` : undefined));
      else schema.args.set(tfName, { required: !m.questionToken });
      schema.reads.add(tfName);
    }
    return schema;
  };
  const resourceClass = [...classes.keys()].find((c) => `${c}Config` === root);
  return build(root, resourceClass);
}

const META = new Set(['for_each', 'count', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection']);
type Body = Record<string, unknown>;
const isBlockList = (v: unknown): v is Body[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));

/** Problems of one resource body against its schema: unknown arguments and blocks, missing required arguments. */
function checkBody(where: string, body: Body, schema: BlockSchema, problems: string[]): void {
  for (const [k, v] of Object.entries(body)) {
    if (META.has(k)) continue;
    if (k === 'dynamic') {
      for (const [name, defs] of Object.entries(v as Record<string, Body[]>)) {
        const block = schema.blocks.get(name);
        if (!block) problems.push(`${where}: dynamic block "${name}" is not a block of this resource`);
        else
          for (const d of defs)
            for (const c of (d['content'] as Body[] | undefined) ?? []) checkBody(`${where}.${name}`, c, block, problems);
      }
      continue;
    }
    const block = schema.blocks.get(k);
    if (block && isBlockList(v)) {
      for (const b of v) checkBody(`${where}.${k}`, b, block, problems);
    } else if (block) {
      problems.push(`${where}: "${k}" is a block, written as an argument`);
    } else if (!schema.args.has(k)) {
      problems.push(`${where}: unknown ${isBlockList(v) ? 'block' : 'argument'} "${k}"`);
    }
  }
  const dynamicNames = new Set(Object.keys((body['dynamic'] as Body | undefined) ?? {}));
  for (const [k, a] of schema.args)
    if (a.required && !(k in body) && !dynamicNames.has(k)) problems.push(`${where}: required argument "${k}" missing`);
}

/** References `type.name[...].attr[...].attr`: the type must be declared here, the attributes readable. */
function checkReferences(text: string, declared: Map<string, 'resource' | 'data'>, problems: string[]): void {
  const ref = /\b(data\.)?((?:google|time|archive)_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?((?:\.[a-z0-9_]+(?:\[\d+\])?)*)/g;
  for (const m of text.matchAll(ref)) {
    const kind = m[1] ? 'data' : 'resource';
    const type = m[2]!;
    const key = `${kind === 'data' ? 'data.' : ''}${type}.${m[3]}`;
    if (declared.get(key) !== kind) {
      // `time_partitioning.value` and the like: a dynamic block's iterator, not a resource.
      if (!schemaOf(kind, type)) continue;
      problems.push(`reference to undeclared ${key}`);
      continue;
    }
    const path = (m[4] ?? '')
      .split('.')
      .filter(Boolean)
      .map((p) => p.replace(/\[\d+\]$/, ''));
    let schema = schemaOf(kind, type);
    for (const attr of path) {
      if (!schema) break;
      if (!schema.reads.has(attr)) {
        problems.push(`${key}: no attribute "${attr}" to read (in ${m[0]})`);
        break;
      }
      schema = schema.blocks.get(attr) ?? null;
    }
  }
}

/** Every resource and data source in `dir`/*.tf checked against the providers' schemas. */
export async function checkTerraformSchema(dir: string): Promise<string[]> {
  const problems: string[] = [];
  const declared = new Map<string, 'resource' | 'data'>();
  const texts: string[] = [];
  const bodies: { where: string; kind: 'resource' | 'data'; type: string; body: Body }[] = [];
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.tf'))
    .sort()) {
    const text = readFileSync(join(dir, f), 'utf8');
    // A moved block's `from` names an address no longer declared (that is its point); its `to` is checked as any reference.
    texts.push(text.replace(/^moved \{[^}]*\}/gm, (block) => block.replace(/^\s*from\s*=.*$/m, '')));
    const j = (await parse(f, text)) as Record<string, Record<string, Record<string, Body[]>>>;
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, byName] of Object.entries(j[kind] ?? {})) {
        for (const [name, [body]] of Object.entries(byName)) {
          declared.set(`${kind === 'data' ? 'data.' : ''}${type}.${name}`, kind);
          bodies.push({ where: `${f}: ${kind} ${type}.${name}`, kind, type, body: body! });
        }
      }
    }
  }
  for (const { where, kind, type, body } of bodies) {
    const schema = schemaOf(kind, type);
    if (!schema) problems.push(`${where}: the provider has no ${kind} type "${type}"`);
    else checkBody(where, body, schema, problems);
  }
  for (const t of texts) checkReferences(t, declared, problems);
  return problems;
}
