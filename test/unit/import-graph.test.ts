// The module boundaries of the design card, checked on every test run: the services stand side by
// side above shared/ (none imports another, shared/ imports no service), and no module imports
// itself through others. Type-only imports count too: a type cycle is still two modules that
// cannot be understood apart.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

// `import x from '...'`, `import type {...} from '...'`, `export {...} from '...'`, `import '...'`, `import('...')`.
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Relative imports of a file, resolved to repository paths ("services/api/server.ts"). */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    out.push(relative(ROOT, resolve(dirname(file), spec)));
  }
  return out;
}

function graph(): Map<string, string[]> {
  const files = [...sourceFiles(join(ROOT, 'services')), ...sourceFiles(join(ROOT, 'shared'))];
  return new Map(files.map((f) => [relative(ROOT, f), importsOf(f, readFileSync(f, 'utf8'))]));
}

/** The top-level unit a module belongs to: "services/<name>" or "shared". */
function unitOf(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'services' ? `services/${parts[1]}` : parts[0];
}

/** Tarjan's strongly connected components of more than one module (or a module importing itself). */
function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (g.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('every relative import names a file that exists', (t) => {
  const g = graph();
  const missing = [...g].flatMap(([from, tos]) => tos.filter((to) => !g.has(to)).map((to) => `${from} -> ${to}`));
  t.deepEqual(missing, []);
});

test('no service imports another service, and shared/ imports no service', (t) => {
  const crossings: string[] = [];
  for (const [from, tos] of graph()) {
    for (const to of tos) {
      const a = unitOf(from);
      const b = unitOf(to);
      if (a !== b && b !== 'shared') crossings.push(`${from} -> ${to}`);
    }
  }
  t.deepEqual(crossings, []);
});

test('there are no import cycles', (t) => {
  t.deepEqual(cycles(graph()), []);
});

test('the checker finds a crossing and a cycle when there is one', (t) => {
  // Guards the checker itself: a regex that matched nothing would pass the tests above.
  const file = join(ROOT, 'services', 'api', 'x.ts');
  t.deepEqual(importsOf(file, "import { a } from '../scheduler/plugins.ts';\nimport type { B } from './b.ts';\nexport { c } from '../../shared/c.ts';\nconst d = await import('./d.ts');"), [
    'services/scheduler/plugins.ts',
    'services/api/b.ts',
    'shared/c.ts',
    'services/api/d.ts',
  ]);
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  t.deepEqual(cycles(g), [['a', 'b', 'c']]);
});
