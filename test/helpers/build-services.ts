// Bundles every services/<name>/main.ts into the directory given (see service-bundle.ts for why).
// A module that finds files beside its source through import.meta.url (shared/store/scripts.ts
// reads its Lua scripts so) keeps its own URL in the bundle, as it has under tsx.
import { build, type Plugin } from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..');
const outdir = process.argv[2];
if (!outdir) throw new Error('usage: build-services.ts <outdir>');

const ownImportMetaUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source.includes('import.meta.') ? source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)).replaceAll('import.meta.dirname', JSON.stringify(resolve(args.path, '..'))).replaceAll('import.meta.filename', JSON.stringify(args.path)) : source;
      return { contents, loader: 'ts' };
    });
  },
};

const services = readdirSync(join(ROOT, 'services')).filter((name) => existsSync(join(ROOT, 'services', name, 'main.ts')));
await build({
  entryPoints: services.map((name) => ({ in: join(ROOT, 'services', name, 'main.ts'), out: name })),
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
  plugins: [ownImportMetaUrl],
});
