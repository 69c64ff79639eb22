// OpenAPI v3, as much as kubectl reads: an index of group-versions, and per group-version the
// kinds' schemas (for `kubectl explain`) and one operation per verb and path. Each PATCH operation
// declares the `fieldValidation` parameter, which tells kubectl to leave validation to the server
// (it then sends fieldValidation=Strict and Wharf refuses unknown fields). Strategic merge patch is
// deliberately not listed as a PATCH body: kubectl then builds strategic patches from its own
// compiled-in types rather than from these schemas.
import { createHash } from 'node:crypto';
import { RESOURCES, apiVersionOf, groupVersions, type ResourceInfo } from '../../shared/api/resources.ts';
import { OPENAPI, type OpenApiFacts } from '../../shared/api/schemas.ts';
import { isCustomResource, onKindsChanged, servedSchema } from '../../shared/registry/registry.ts';
import { objectMeta } from '../../shared/api/schemas.ts';


function groupPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function definitionName(r: ResourceInfo): string {
  // A custom resource's, as Kubernetes names it: the group reversed (com.example.stable.v1.CronTab).
  if (isCustomResource(r.plural)) return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`;
  const pkg = r.group === '' ? 'core' : r.group.split('.')[0];
  const module = r.group === 'coordination.k8s.io' ? 'coordination' : pkg;
  return `io.k8s.api.${module}.${r.version}.${r.kind}`;
}

/**
 * Draft-07 JSON Schema to the OpenAPI 3.0 dialect kube-openapi reads. A schema naming one of
 * Kubernetes' types (ObjectMeta, PodSpec, Quantity...) goes into `definitions` once and is referred
 * to, so `kubectl explain` prints its name as the field's type, as it does against Kubernetes.
 */
function toOpenApi(schema: unknown, definitions: Map<string, unknown>, inline = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toOpenApi(s, definitions));
  if (!schema || typeof schema !== 'object') return schema;
  const { [OPENAPI]: facts = {}, ...rest } = schema as Record<string, unknown> & { [OPENAPI]?: OpenApiFacts };
  if (facts.definition && !inline) {
    const { description, ...definition } = schema as Record<string, unknown>;
    if (!definitions.has(facts.definition)) definitions.set(facts.definition, toOpenApi(definition, definitions, true));
    const ref = { $ref: `#/components/schemas/${facts.definition}` };
    // OpenAPI 3.0 ignores siblings of a $ref: a field's own description goes beside an allOf.
    return description ? { description, allOf: [ref] } : ref;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (k === '$schema' || k === '$id' || k === 'errorMessage') continue;
    if (k === 'type' && Array.isArray(v)) {
      // null is how Kubernetes writes a zero time or an empty list; the document leaves it out.
      const types = v.filter((x) => x !== 'null');
      if (types.length === 1) out.type = types[0];
      else out.oneOf = types.map((type) => ({ type }));
      if (types.includes('integer') && types.includes('string')) out['x-kubernetes-int-or-string'] = true;
      continue;
    }
    out[k] = k === 'properties'
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([name, s]) => [name, toOpenApi(s, definitions)]))
      : toOpenApi(v, definitions);
  }
  if (facts.format) out.format = facts.format;
  if (facts.required) out.required = facts.required;
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

/**
 * The schema a resource is published with: a custom resource's openAPIV3Schema gets apiVersion,
 * kind and ObjectMeta, as Kubernetes' CRD OpenAPI builder adds them.
 */
function publishedSchema(r: ResourceInfo): Record<string, any> {
  const schema = servedSchema(r) ?? { type: 'object' };
  if (!isCustomResource(r.plural)) return schema;
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = schema.properties ?? {};
  return {
    ...schema,
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { ...objectMeta, description: 'Standard object\'s metadata.' },
      ...rest,
    },
  };
}

export function groupVersionDocument(group: string, version: string) {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  const schemas: Record<string, unknown> = {
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
  };
  const definitions = new Map<string, unknown>();
  const paths: Record<string, unknown> = {};
  const patchRef = { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' };
  for (const r of resources) {
    const name = definitionName(r);
    const ref = `#/components/schemas/${name}`;
    const schema = toOpenApi(publishedSchema(r), definitions, true) as Record<string, unknown>;
    schemas[name] = {
      description: `${r.kind} (served by Wharf)`,
      ...schema,
      'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }],
    };
    const base = `/${groupPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    const body = { required: true, content: { '*/*': { schema: { $ref: ref } } } };
    // Only the verbs the kind serves: a create-only kind (TokenReview) has a POST and nothing else.
    const serves = (verb: string) => r.verbs.includes(verb);
    paths[base] = {
      ...(serves('list') && { get: operation(r, 'list', 'list', ref) }),
      ...(serves('create') && { post: operation(r, 'post', 'create', ref, { requestBody: body }) }),
      // kubectl learns that the server validates fields (and so sends fieldValidation=Strict
      // instead of validating against /openapi/v2, which Wharf does not serve) only from a PATCH
      // operation of the kind that declares the parameter. A create-only kind has none: this one
      // says so, and PATCH on the path is answered 405.
      ...(!serves('patch') && {
        patch: operation(r, 'patch', 'patch', ref, { description: 'Not served (405): declares the fieldValidation parameter the server honours on create, for kubectl.' }),
      }),
    };
    if (!serves('get')) continue;
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
  for (const [name, schema] of definitions) schemas[name] = schema;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-wharf' },
    paths,
    components: { schemas },
  };
}

export class OpenApiV3 {
  private documents?: Map<string, { json: string; hash: string }>;

  constructor() {
    this.build();
    // CRDs come and go: the documents are built again on the next read after a change.
    onKindsChanged(() => {
      this.documents = undefined;
    });
  }

  private build(): Map<string, { json: string; hash: string }> {
    const documents = new Map<string, { json: string; hash: string }>();
    for (const gv of groupVersions()) {
      const json = JSON.stringify(groupVersionDocument(gv.group, gv.version));
      const hash = createHash('sha512').update(json).digest('hex').slice(0, 128).toUpperCase();
      documents.set(groupPath(gv.group, gv.version), { json, hash });
    }
    this.documents = documents;
    return documents;
  }

  index() {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [path, doc] of this.documents ?? this.build()) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
    return { paths };
  }

  document(path: string): string | undefined {
    return (this.documents ?? this.build()).get(path)?.json;
  }
}

export { apiVersionOf };
