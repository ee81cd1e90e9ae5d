/**
 * The house plan as a test: every relative import in src/ (static, re-export or dynamic with a literal path) goes to
 * the importer's own floor or below. FLOORS is the one table of floors; the README's layout table must say the same.
 * A failure lists each offending edge as `importer (floor) → imported (floor)`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Folder (or file) under src/ → floor. The longest matching prefix wins. */
export const FLOORS: Record<string, number> = {
  'core': 0, // errors, shape helpers, the platform seam
  'kernels': 1,
  'tensor': 2,
  'autograd': 3,
  'nn': 4,
  'data': 4,
  'index.ts': 5,
  'api.ts': 5,
  'browser.ts': 5,
  'run': 6,
  'experiments': 7,
  'report': 8,
  'cli': 8,
  'playground': 8,
};

const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

function floorOf(file: string): { part: string; floor: number } | null {
  const rel = relative(SRC, file).split('\\').join('/');
  const part = Object.keys(FLOORS).filter((k) => rel === k || rel.startsWith(`${k}/`)).sort((a, b) => b.length - a.length)[0];
  return part === undefined ? null : { part, floor: FLOORS[part] };
}

/** The relative module paths a file imports: `import … from`, `export … from`, `import('…')` with a literal. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const re of [/\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of code.matchAll(re)) if (m[1].startsWith('.')) out.push(m[1]);
  }
  return out;
}

function resolveImport(from: string, spec: string): string {
  const p = resolve(dirname(from), spec);
  const ts = p.replace(/\.js$/, '.ts');
  if (existsSync(ts)) return ts;
  if (existsSync(join(p, 'index.ts'))) return join(p, 'index.ts');
  return ts;
}

test('the import parser sees static, re-exported and dynamic imports, not comments', () => {
  const text = [
    "import { a } from './a.js';", "import type { B } from '../b.js';", "export * from './c.js';",
    "const d = await import('../d.js');", "import './e.js';", "// import { x } from '../up.js';", "import { ml } from 'ml-matrix';",
  ].join('\n');
  assert.equal(importsOf(text).sort(), ['../b.js', '../d.js', './a.js', './c.js', './e.js']);
});

test('every file under src/ is on a floor, and no import runs up a floor', () => {
  const unplaced: string[] = [];
  const up: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = floorOf(file);
    if (!from) { unplaced.push(relative(SRC, file)); continue; }
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolveImport(file, spec);
      const to = floorOf(target);
      if (!to) { unplaced.push(`${relative(SRC, target)} (imported by ${relative(SRC, file)})`); continue; }
      if (to.floor > from.floor) up.push(`src/${relative(SRC, file)} (${from.part}, floor ${from.floor}) → src/${relative(SRC, target)} (${to.part}, floor ${to.floor})`);
    }
  }
  assert.equal(unplaced, [], `files on no floor (add them to FLOORS in test/architecture.test.ts):\n  ${unplaced.join('\n  ')}`);
  assert.equal(up, [], `imports that run up a floor:\n  ${up.join('\n  ')}`);
});

test("the README's layout table lists the same floors", () => {
  const readme = readFileSync('README.md', 'utf8');
  const listed: Record<string, number> = {};
  for (const m of readme.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)) {
    for (const f of m[2].matchAll(/`src\/([\w./-]+?)\/?`/g)) listed[f[1]] = Number(m[1]);
  }
  const present = Object.fromEntries(Object.entries(FLOORS).filter(([k]) => existsSync(join(SRC, k))));
  assert.equal(listed, present);
});

test.run();
