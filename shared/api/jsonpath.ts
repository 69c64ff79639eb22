// The JSONPath subset CRDs use (additionalPrinterColumns, scale paths, selectableFields), as
// client-go's jsonpath reads `.spec.replicas`, `.status.conditions[?(@.type=="Ready")].status`,
// `.spec.items[0].name`, `.metadata.labels['app\.kubernetes\.io/name']`.

type Step = { key: string } | { index: number } | { filter: { path: string[]; value: string } } | { all: true };

function parse(path: string): Step[] {
  const steps: Step[] = [];
  let s = path.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.startsWith('$')) s = s.slice(1);
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      let j = i;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') {
        if (s[j] === '\\') j++;
        j++;
      }
      const key = s.slice(i, j).replace(/\\(.)/g, '$1');
      if (key) steps.push(key === '*' ? { all: true } : { key });
      i = j;
    } else if (s[i] === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) break;
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      const filter = /^\?\(@\.([\w.]+)\s*==\s*["']([^"']*)["']\)$/.exec(inner);
      if (filter) steps.push({ filter: { path: filter[1].split('.'), value: filter[2] } });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (inner === '*') steps.push({ all: true });
      else steps.push({ key: inner.replace(/^['"]|['"]$/g, '').replace(/\\(.)/g, '$1') });
    } else i++;
  }
  return steps;
}

/** Every value the path finds in obj (a filter may find several). */
export function evaluate(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const step of parse(path)) {
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || v === undefined) continue;
      if ('key' in step) {
        if (typeof v === 'object' && !Array.isArray(v) && step.key in (v as object)) next.push((v as any)[step.key]);
      } else if ('index' in step) {
        if (Array.isArray(v)) {
          const at = step.index < 0 ? v.length + step.index : step.index;
          if (at >= 0 && at < v.length) next.push(v[at]);
        }
      } else if ('all' in step) {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v as object));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          const found = step.filter.path.reduce<any>((x, k) => x?.[k], item);
          if (found !== undefined && String(found) === step.filter.value) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

/** The first value found, or undefined. */
export function first(obj: unknown, path: string): unknown {
  return evaluate(obj, path)[0];
}

/** Sets a simple dotted path (`.spec.replicas`), creating the objects on the way. */
export function setPath(obj: any, path: string, value: unknown): void {
  const keys = parse(path).map((s) => ('key' in s ? s.key : undefined));
  if (!keys.length || keys.some((k) => k === undefined)) return;
  let v = obj;
  for (const k of keys.slice(0, -1)) {
    if (!v[k!] || typeof v[k!] !== 'object') v[k!] = {};
    v = v[k!];
  }
  v[keys[keys.length - 1]!] = value;
}
