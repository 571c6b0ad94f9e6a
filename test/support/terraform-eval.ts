import { readdirSync } from 'node:fs';

/**
 * A small evaluator for the HCL expressions terraform/ uses (as @cdktf/hcl2json renders them: strings
 * with `${…}` templates), so a test can compute what an apply would create, without the provider:
 * references, string templates, a few functions, arithmetic, comparison, the conditional operator.
 * Anything it does not know throws: the test then fails rather than guessing.
 */

export type Scope = Record<string, unknown>;

type Tok = { t: 'num' | 'str' | 'id' | 'p'; v: string; parts?: (string | Tok[])[] };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else if (c === '"') {
      const [parts, end] = lexString(src, i + 1);
      out.push({ t: 'str', v: '', parts });
      i = end;
    } else {
      const two = src.slice(i, i + 2);
      if (['==', '!=', '&&', '||', '=>', '>=', '<='].includes(two)) {
        out.push({ t: 'p', v: two });
        i += 2;
      } else {
        out.push({ t: 'p', v: c });
        i++;
      }
    }
  }
  return out;
}

/** A quoted string from `start` (after the quote): literal parts and `${…}` token lists; returns the index after the closing quote. */
function lexString(src: string, start: number): [(string | Tok[])[], number] {
  const parts: (string | Tok[])[] = [];
  let lit = '';
  let i = start;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1]!;
      lit += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      i += 2;
    } else if (c === '$' && src[i + 1] === '$' && src[i + 2] === '{') {
      lit += '${';
      i += 3;
    } else if (c === '$' && src[i + 1] === '{') {
      const end = matchBrace(src, i + 1);
      if (lit) parts.push(lit);
      lit = '';
      parts.push(lex(src.slice(i + 2, end)));
      i = end + 1;
    } else if (c === '"') {
      if (lit) parts.push(lit);
      return [parts, i + 1];
    } else {
      lit += c;
      i++;
    }
  }
  throw new Error(`unterminated string in ${src}`);
}

function matchBrace(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '"') {
      i = lexString(src, i + 1)[1] - 1;
      continue;
    }
    if (src[i] === '{') depth++;
    if (src[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unbalanced braces in ${src}`);
}

const FUNCTIONS: Record<string, (...a: unknown[]) => unknown> = {
  jsondecode: (s) => JSON.parse(String(s)),
  replace: (s, from, to) => String(s).split(String(from)).join(String(to)),
  coalesce: (...a) => a.find((x) => x !== null && x !== undefined && x !== ''),
  base64encode: (s) => Buffer.from(String(s)).toString('base64'),
  tostring: (s) => String(s),
  ceil: (x) => Math.ceil(Number(x)),
  join: (sep, list) => (list as unknown[]).join(String(sep)),
  compact: (list) => (list as unknown[]).filter((x) => x !== null && x !== undefined && x !== ''),
  split: (sep, s) => String(s).split(String(sep)),
  toset: (list) => [...new Set(list as unknown[])],
  length: (x) => (Array.isArray(x) ? x.length : Object.keys(x as object).length),
  trimsuffix: (s, suffix) => (String(s).endsWith(String(suffix)) ? String(s).slice(0, -String(suffix).length) : String(s)),
  contains: (list, value) => (list as unknown[]).includes(value),
  lookup: (map, key, fallback) => (Object.hasOwn(map as object, String(key)) ? (map as Record<string, unknown>)[String(key)] : fallback),
};

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly scope: Scope,
    private readonly files: (path: string) => string,
  ) {}

  run(): unknown {
    const v = this.expr();
    if (this.i !== this.toks.length) throw new Error(`unexpected ${this.toks[this.i]!.v}`);
    return v;
  }

  private peek(v?: string) {
    const t = this.toks[this.i];
    return v === undefined ? t : t && t.t === 'p' && t.v === v ? t : undefined;
  }
  take(v: string) {
    if (!this.peek(v)) throw new Error(`expected ${v}, got ${this.toks[this.i]?.v ?? 'end'}`);
    this.i++;
  }

  expr(): unknown {
    const c = this.cmp();
    if (this.peek('?')) {
      this.i++;
      const a = this.expr();
      this.take(':');
      const b = this.expr();
      return c ? a : b;
    }
    return c;
  }
  private cmp(): unknown {
    const a = this.sum();
    const op = ['==', '!=', '>', '<', '>=', '<='].map((o) => this.peek(o)).find(Boolean);
    if (!op) return a;
    this.i++;
    const b = this.sum() as number;
    const x = a as number;
    return { '==': x === b, '!=': x !== b, '>': x > b, '<': x < b, '>=': x >= b, '<=': x <= b }[op.v];
  }
  private sum(): unknown {
    let a = this.term();
    while (this.peek('+') || this.peek('-')) {
      const op = this.toks[this.i++]!.v;
      const b = this.term();
      a = op === '+' ? (a as number) + (b as number) : (a as number) - (b as number);
    }
    return a;
  }
  private term(): unknown {
    let a = this.postfix();
    while (this.peek('*') || this.peek('/')) {
      const op = this.toks[this.i++]!.v;
      const b = this.postfix() as number;
      a = op === '*' ? (a as number) * b : (a as number) / b;
    }
    return a;
  }
  private postfix(): unknown {
    let v = this.primary();
    for (;;) {
      if (this.peek('.') && this.toks[this.i + 1]?.v !== '.') {
        this.i++;
        const id = this.toks[this.i++]!;
        v = member(v, id.v);
      } else if (this.peek('[')) {
        this.i++;
        const k = this.expr();
        this.take(']');
        v = member(v, k);
      } else return v;
    }
  }
  private primary(): unknown {
    const t = this.toks[this.i++];
    if (!t) throw new Error('unexpected end');
    if (t.t === 'num') return Number(t.v);
    if (t.t === 'str') return this.template(t.parts!);
    if (t.t === 'p' && t.v === '(') {
      const v = this.expr();
      this.take(')');
      return v;
    }
    if (t.t === 'p' && t.v === '[' && this.toks[this.i]?.v === 'for') return this.forExpr(']');
    if (t.t === 'p' && t.v === '{' && this.toks[this.i]?.v === 'for') return this.forExpr('}');
    if (t.t === 'p' && t.v === '{') {
      const obj: Record<string, unknown> = {};
      while (!this.peek('}')) {
        const k = this.toks[this.i++]!;
        const key = k.t === 'str' ? String(this.template(k.parts!)) : k.v;
        if (this.peek('=') || this.peek(':')) this.i++;
        else throw new Error(`expected = after ${key}`);
        obj[key] = this.expr();
        if (this.peek(',')) this.i++;
      }
      this.take('}');
      return obj;
    }
    if (t.t === 'p' && t.v === '[') {
      const list: unknown[] = [];
      while (!this.peek(']')) {
        list.push(this.expr());
        if (this.peek(',')) this.i++;
      }
      this.take(']');
      return list;
    }
    if (t.t === 'id') {
      if (t.v === 'null') return null;
      if (t.v === 'true' || t.v === 'false') return t.v === 'true';
      if (this.peek('(')) return this.call(t.v);
      if (!(t.v in this.scope)) throw new Error(`unknown name ${t.v}`);
      return this.scope[t.v];
    }
    throw new Error(`unexpected ${t.v}`);
  }
  private call(name: string): unknown {
    this.take('(');
    if (name === 'try') {
      // try(a, b): the first argument that evaluates without an error.
      const start = this.i;
      const args = this.argTokens();
      for (const toks of args) {
        try {
          return new Parser(toks, this.scope, this.files).run();
        } catch {
          /* next */
        }
      }
      throw new Error(`try: no argument evaluates (at ${start})`);
    }
    const args: unknown[] = [];
    while (!this.peek(')')) {
      const a = this.expr();
      if (this.peek('.') && this.toks[this.i + 1]?.v === '.' && this.toks[this.i + 2]?.v === '.') {
        this.i += 3;
        args.push(...(a as unknown[]));
      } else args.push(a);
      if (this.peek(',')) this.i++;
    }
    this.take(')');
    if (name === 'merge') return Object.assign({}, ...args.filter((x) => x !== null));
    if (name === 'file') return this.files(String(args[0]));
    if (name === 'fileset')
      return readdirSync(String(args[0]))
        .filter((f) => new RegExp(`^${String(args[1]).replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`).test(f))
        .sort();
    const f = FUNCTIONS[name];
    if (!f) throw new Error(`unknown function ${name}`);
    return f(...args);
  }
  /** `[for a in X : e]`, `{for k, v in X : ke => ve if cond}` (the opening bracket consumed). */
  private forExpr(close: ']' | '}'): unknown {
    this.i++; // for
    const names = [this.toks[this.i++]!.v];
    if (this.peek(',')) {
      this.i++;
      names.push(this.toks[this.i++]!.v);
    }
    if (this.toks[this.i++]!.v !== 'in') throw new Error('expected in');
    const source = this.expr();
    this.take(':');
    const body = this.i;
    // Find the end of the body, then evaluate it once per element.
    let depth = 0;
    let end = this.i;
    for (; end < this.toks.length; end++) {
      const t = this.toks[end]!;
      if (t.t === 'p' && ['(', '[', '{'].includes(t.v)) depth++;
      if (t.t === 'p' && [')', ']', '}'].includes(t.v)) {
        if (depth === 0) break;
        depth--;
      }
    }
    const toks = this.toks.slice(body, end);
    this.i = end;
    this.take(close);
    const entries: [unknown, unknown][] = Array.isArray(source) ? source.map((v, i) => [i, v]) : Object.entries(source as object);
    const outList: unknown[] = [];
    const outObj: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const scope = { ...this.scope, ...(names.length === 2 ? { [names[0]!]: k, [names[1]!]: v } : { [names[0]!]: v }) };
      const p = new Parser(toks, scope, this.files);
      const first = p.expr();
      let key: unknown;
      let value = first;
      if (close === '}') {
        p.take('=>');
        key = first;
        value = p.expr();
      }
      if (p.peekIf()) {
        if (!p.expr()) continue;
      }
      if (close === ']') outList.push(value);
      else outObj[String(key)] = value;
    }
    return close === ']' ? outList : outObj;
  }
  peekIf(): boolean {
    if (this.toks[this.i]?.t === 'id' && this.toks[this.i]!.v === 'if') {
      this.i++;
      return true;
    }
    return false;
  }

  /** The token lists of a call's arguments, consuming up to the closing parenthesis. */
  private argTokens(): Tok[][] {
    const args: Tok[][] = [[]];
    let depth = 0;
    for (;;) {
      const t = this.toks[this.i++]!;
      if (t.t === 'p' && (t.v === '(' || t.v === '[')) depth++;
      if (t.t === 'p' && (t.v === ')' || t.v === ']')) {
        if (depth === 0) return args;
        depth--;
      }
      if (t.t === 'p' && t.v === ',' && depth === 0) args.push([]);
      else args[args.length - 1]!.push(t);
    }
  }
  private template(parts: (string | Tok[])[]): unknown {
    if (parts.length === 1 && typeof parts[0] !== 'string') return new Parser(parts[0]!, this.scope, this.files).run();
    return parts.map((p) => (typeof p === 'string' ? p : String(new Parser(p, this.scope, this.files).run()))).join('');
  }
}

function member(v: unknown, k: unknown): unknown {
  if (v === null || v === undefined || typeof v !== 'object') throw new Error(`no ${String(k)} in ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  if (!(String(k) in o)) throw new Error(`no ${String(k)} in {${Object.keys(o).join(', ')}}`);
  return o[String(k)];
}

/** Evaluates a value as hcl2json gives it: a string (a template), a number, a list or an object (recursively). */
export function evaluate(value: unknown, scope: Scope, files: (path: string) => string): unknown {
  // hcl2json keeps the expression text inside ${…} as written (its quotes are not escaped).
  if (typeof value === 'string') return new Parser([{ t: 'str', v: '', parts: rawTemplate(value) }], scope, files).run();
  if (Array.isArray(value)) return value.map((x) => evaluate(x, scope, files));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, scope, files)]));
  return value;
}

/** The parts of an hcl2json string: literal text and `${…}` expressions (whose quotes are not escaped). */
function rawTemplate(s: string): (string | Tok[])[] {
  const parts: (string | Tok[])[] = [];
  let lit = '';
  for (let i = 0; i < s.length;) {
    if (s[i] === '$' && s[i + 1] === '{') {
      const end = matchBrace(s, i + 1);
      if (lit) parts.push(lit);
      lit = '';
      parts.push(lex(s.slice(i + 2, end)));
      i = end + 1;
    } else {
      lit += s[i++];
    }
  }
  if (lit || parts.length === 0) parts.push(lit);
  return parts;
}
