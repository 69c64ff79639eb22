// OpenAPI v3, as much as kubectl reads: an index of group-versions, and per group-version the
// kinds' schemas (for `kubectl explain`) and one operation per verb and path. Each PATCH operation
// declares the `fieldValidation` parameter, which tells kubectl to leave validation to the server
// (it then sends fieldValidation=Strict and Wharf refuses unknown fields). Strategic merge patch is
// deliberately not listed as a PATCH body: kubectl then builds strategic patches from its own
// compiled-in types rather than from these schemas.
import { createHash } from 'node:crypto';
import { RESOURCES, apiVersionOf, groupVersions, type ResourceInfo } from '../../shared/api/resources.ts';

export type SchemaLookup = (kind: string) => Record<string, unknown> | undefined;

function groupPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function definitionName(r: ResourceInfo): string {
  const pkg = r.group === '' ? 'core' : r.group.split('.')[0];
  const module = r.group === 'coordination.k8s.io' ? 'coordination' : pkg;
  return `io.k8s.api.${module}.${r.version}.${r.kind}`;
}

/** Draft-07 JSON Schema to the OpenAPI 3.0 dialect kube-openapi reads. */
function toOpenApi(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApi);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === '$schema' || k === '$id' || k === 'errorMessage') continue;
    if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((x) => x !== 'null');
      if (types.includes('integer') && types.includes('string')) {
        out['x-kubernetes-int-or-string'] = true;
        continue;
      }
      out.type = types[0];
      continue;
    }
    if ((k === 'oneOf' || k === 'anyOf') && Array.isArray(v)) {
      const types = v.map((x: any) => x?.type).filter(Boolean);
      if (types.includes('integer') && types.includes('string')) {
        out['x-kubernetes-int-or-string'] = true;
        continue;
      }
    }
    out[k] = toOpenApi(v);
  }
  return out;
}

function operation(r: ResourceInfo, action: string, verb: string, ref: string, extra: Record<string, unknown> = {}) {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  return {
    operationId: `${verb}${r.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    parameters: [
      { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
      ...(action === 'patch' || action === 'put' || action === 'post'
        ? [{ name: 'fieldValidation', in: 'query', description: 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields: Ignore, Warn or Strict.', schema: { type: 'string', uniqueItems: true } }]
        : []),
      ...(action === 'patch' ? [{ name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } }] : []),
    ],
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: ref } } } } },
    ...extra,
  };
}

export function groupVersionDocument(group: string, version: string, lookup: SchemaLookup) {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  const schemas: Record<string, unknown> = {
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
  };
  const paths: Record<string, unknown> = {};
  const patchRef = { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' };
  for (const r of resources) {
    const name = definitionName(r);
    const ref = `#/components/schemas/${name}`;
    const schema = (toOpenApi(lookup(r.kind) ?? { type: 'object' }) ?? {}) as Record<string, unknown>;
    schemas[name] = {
      description: `${r.kind} (served by Wharf)`,
      ...schema,
      'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }],
    };
    const base = `/${groupPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    const body = { required: true, content: { '*/*': { schema: { $ref: ref } } } };
    paths[base] = {
      get: operation(r, 'list', 'list', ref),
      post: operation(r, 'post', 'create', ref, { requestBody: body }),
    };
    paths[`${base}/{name}`] = {
      get: operation(r, 'get', 'read', ref),
      put: operation(r, 'put', 'replace', ref, { requestBody: body }),
      delete: operation(r, 'delete', 'delete', ref),
      patch: operation(r, 'patch', 'patch', ref, {
        requestBody: {
          required: true,
          content: {
            'application/json-patch+json': { schema: patchRef },
            'application/merge-patch+json': { schema: patchRef },
            'application/apply-patch+yaml': { schema: patchRef },
          },
        },
      }),
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-wharf' },
    paths,
    components: { schemas },
  };
}

export class OpenApiV3 {
  private readonly documents = new Map<string, { json: string; hash: string }>();

  constructor(lookup: SchemaLookup) {
    for (const gv of groupVersions()) {
      const json = JSON.stringify(groupVersionDocument(gv.group, gv.version, lookup));
      const hash = createHash('sha512').update(json).digest('hex').slice(0, 128).toUpperCase();
      this.documents.set(groupPath(gv.group, gv.version), { json, hash });
    }
  }

  index() {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [path, doc] of this.documents) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
    return { paths };
  }

  document(path: string): string | undefined {
    return this.documents.get(path)?.json;
  }
}

export { apiVersionOf };
