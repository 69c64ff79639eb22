// The services as integration tests run them: each services/<name>/main.ts bundled once by esbuild
// (the same transform tsx applies) into one ES module whose packages stay imports from node_modules.
// A service started through tsx spends one to two CPU seconds resolving and loading its few hundred
// modules through tsx's loader thread; the suite starts about 250 service processes on two cores, so
// that was minutes of the suite. Compose, `npm start` and the Docker-in-Docker hosts still run the
// sources through tsx, so that path stays covered.
//
// The bundles live in .test-build/<hash of the sources>/: a change to any file under services/ or
// shared/ makes a new build, and test files running side by side share one (each builds into a
// directory of its own and renames it into place; the first rename wins).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BUILD_ROOT = join(ROOT, '.test-build');
const BUILD_SCRIPT = join(import.meta.dirname, 'build-services.ts');

function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js|mjs|json)$/.test(entry.name)) hash.update(path).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(join(ROOT, 'services'));
  walk(join(ROOT, 'shared'));
  hash.update(readFileSync(BUILD_SCRIPT));
  return hash.digest('hex').slice(0, 16);
}

let built: string | undefined;

/** The directory of this source tree's bundles, built now unless a test file already built them. */
function bundleDir(): string {
  if (built) return built;
  const dir = join(BUILD_ROOT, sourceHash());
  if (!existsSync(dir)) {
    mkdirSync(BUILD_ROOT, { recursive: true });
    const own = join(BUILD_ROOT, `building-${process.pid}-${Date.now()}`);
    execFileSync(process.execPath, ['--import', 'tsx', BUILD_SCRIPT, own], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      renameSync(own, dir);
    } catch {
      rmSync(own, { recursive: true, force: true }); // another test file's build won the rename
    }
    // Builds of sources since changed, and half-done ones of killed runs: nothing reads them after an hour.
    for (const old of readdirSync(BUILD_ROOT)) {
      const path = join(BUILD_ROOT, old);
      if (path !== dir && Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
    }
  }
  return (built = dir);
}

/** node's arguments to run services/<name>/main.ts: its bundle, with stack traces pointing into the sources. */
export function serviceCommand(name: string): string[] {
  if (process.env.WHARF_TEST_TSX === '1') return ['--import', 'tsx', join(ROOT, 'services', name, 'main.ts')];
  return ['--enable-source-maps', join(bundleDir(), `${name}.js`)];
}
