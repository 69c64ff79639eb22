// Label and field selectors: the string forms of the API's query parameters and the LabelSelector
// objects of Deployments and ReplicaSets, parsed once into predicates.
import type { KubeObject, LabelSelector } from '../types.ts';
import { BadRequestError } from '../errors.ts';

export type LabelRequirement =
  | { key: string; op: 'In' | 'NotIn'; values: string[] }
  | { key: string; op: 'Gt' | 'Lt'; values: string[] }
  | { key: string; op: 'Exists' | 'DoesNotExist' };

export type Labels = Record<string, string> | undefined;

const INTEGER = /^[+-]?\d+$/;

export function matchesRequirements(labels: Labels, reqs: LabelRequirement[]): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'In':
        if (!has || !r.values.includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      case 'Gt':
      case 'Lt': {
        // As Kubernetes: a label that is not an integer matches neither.
        if (!has || !INTEGER.test(l[r.key])) return false;
        const value = BigInt(l[r.key]);
        const bound = BigInt(r.values[0]);
        if (r.op === 'Gt' ? !(value > bound) : !(value < bound)) return false;
        break;
      }
    }
  }
  return true;
}

// ---- label keys and values, as apimachinery's IsQualifiedName and IsValidLabelValue word them ----

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME_RULE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** What is wrong with a label key (`[prefix/]name`), in Kubernetes' words; empty when nothing. */
export function labelKeyErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${QUALIFIED_NAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errors: string[] = [];
  const name = parts[parts.length - 1];
  if (parts.length === 2) {
    const prefix = parts[0];
    if (!prefix) errors.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errors.push('prefix part must be no more than 253 characters');
      if (!DNS1123_SUBDOMAIN.test(prefix)) {
        errors.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
      }
    }
  }
  if (!name) errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) errors.push(`name part ${QUALIFIED_NAME_RULE}`);
  return errors;
}

/** What is wrong with a label value, in Kubernetes' words; empty when nothing. */
export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    errors.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  }
  return errors;
}

// ---- the label selector syntax, parsed as apimachinery's labels.Parse does ----------------------

type Token = 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';

const SYMBOLS = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOL_TOKENS = new Set(['=', '!', '(', ')', ',', '>', '<', '==', '!=']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

/** The selector's tokens: identifiers run to whitespace or an operator character; operators are greedy. */
function lexSelector(input: string): { tok: Token; lit: string }[] {
  const items: { tok: Token; lit: string }[] = [];
  let i = 0;
  for (;;) {
    while (i < input.length && WHITESPACE.has(input[i])) i++;
    if (i >= input.length) {
      items.push({ tok: 'end', lit: '' });
      return items;
    }
    let j = i;
    if (SYMBOLS.has(input[i])) {
      while (j < input.length && SYMBOLS.has(input[j]) && SYMBOL_TOKENS.has(input.slice(i, j + 1))) j++;
      const lit = input.slice(i, j);
      items.push({ tok: lit as Token, lit });
    } else {
      while (j < input.length && !SYMBOLS.has(input[j]) && !WHITESPACE.has(input[j])) j++;
      const lit = input.slice(i, j);
      items.push({ tok: lit === 'in' || lit === 'notin' ? lit : 'id', lit });
    }
    i = j;
  }
}

class SelectorSyntaxError extends Error {}

/** Kubernetes' labels.Parser: a recursive-descent parser over the lexed tokens, with its messages. */
class SelectorParser {
  private position = 0;
  constructor(private readonly items: { tok: Token; lit: string }[]) {}

  /** Where values are expected, `in` and `notin` are plain identifiers (`a in (in)`). */
  private lookahead(values: boolean): { tok: Token; lit: string } {
    const item = this.items[this.position];
    return values && (item.tok === 'in' || item.tok === 'notin') ? { tok: 'id', lit: item.lit } : item;
  }

  private consume(values: boolean): { tok: Token; lit: string } {
    const item = this.lookahead(values);
    this.position++;
    return item;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(true);
      if (tok === 'end') return reqs;
      if (tok !== 'id' && tok !== '!') throw new SelectorSyntaxError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.requirement());
      } catch (err) {
        throw new SelectorSyntaxError(`unable to parse requirement: ${(err as Error).message}`);
      }
      const next = this.consume(true);
      if (next.tok === 'end') return reqs;
      if (next.tok !== ',') throw new SelectorSyntaxError(`found '${next.lit}', expected: ',' or 'end of string'`);
      const after = this.lookahead(true);
      if (after.tok !== 'id' && after.tok !== '!') throw new SelectorSyntaxError(`found '${after.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let negated = false;
    let { tok, lit } = this.consume(true);
    if (tok === '!') {
      negated = true;
      ({ tok, lit } = this.consume(true));
    }
    if (tok !== 'id') throw new Error(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErrors = labelKeyErrors(key);
    if (keyErrors.length) throw new Error(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrors.join('; ')}`);
    const next = this.lookahead(true).tok;
    if (negated) return { key, op: 'DoesNotExist' };
    if (next === 'end' || next === ',') return { key, op: 'Exists' };
    const operator = this.consume(false);
    let values: string[];
    let op: 'In' | 'NotIn' | 'Gt' | 'Lt';
    switch (operator.tok) {
      case 'in':
      case 'notin':
        op = operator.tok === 'in' ? 'In' : 'NotIn';
        values = this.valueSet();
        break;
      case '=':
      case '==':
      case '!=':
        op = operator.tok === '!=' ? 'NotIn' : 'In';
        values = this.exactValue();
        break;
      case '>':
      case '<':
        op = operator.tok === '>' ? 'Gt' : 'Lt';
        values = this.exactValue();
        break;
      default:
        throw new Error(`found '${operator.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    // As sets.String.List(): unique and sorted.
    values = [...new Set(values)].sort();
    const errors: string[] = [];
    values.forEach((v, i) => {
      if ((op === 'Gt' || op === 'Lt') && !INTEGER.test(v)) errors.push(`values[${i}]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      const valueErrors = labelValueErrors(v);
      if (valueErrors.length) errors.push(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${valueErrors.join('; ')}`);
    });
    if (errors.length) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
    return { key, op, values };
  }

  /** `(a,b)`; empty entries are the empty value, so `()` is the set of "" as in Kubernetes. */
  private valueSet(): string[] {
    const open = this.consume(true);
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead(true);
    if (tok === ')') {
      this.consume(true);
      return [''];
    }
    if (tok !== 'id' && tok !== ',') throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    const values = this.identifiers();
    if (this.consume(true).tok !== ')') throw new Error(`found '${lit}', expected: ')'`);
    return values;
  }

  private identifiers(): string[] {
    const values: string[] = [];
    for (;;) {
      const { tok, lit } = this.consume(true);
      if (tok === 'id') {
        values.push(lit);
        const next = this.lookahead(true);
        if (next.tok === ',') continue;
        if (next.tok === ')') return values;
        throw new Error(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok !== ',') throw new Error(`found '${lit}', expected: ',', or identifier`);
      if (!values.length) values.push('');
      const next = this.lookahead(true).tok;
      if (next === ')') {
        values.push('');
        return values;
      }
      if (next === ',') values.push('');
    }
  }

  private exactValue(): string[] {
    const next = this.lookahead(true).tok;
    if (next === 'end' || next === ',') return [''];
    const { tok, lit } = this.consume(true);
    if (tok !== 'id') throw new Error(`found '${lit}', expected: identifier`);
    return [lit];
  }
}

/**
 * Parses the labelSelector syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3`) as Kubernetes'
 * labels.Parse does; a malformed selector is a 400 with Kubernetes' message.
 */
export function parseLabelSelector(input: string | undefined): LabelRequirement[] {
  if (!input) return [];
  try {
    return new SelectorParser(lexSelector(input)).parse();
  } catch (err) {
    if (err instanceof SelectorSyntaxError) throw new BadRequestError(err.message);
    throw err;
  }
}

/** A LabelSelector object (matchLabels + matchExpressions) as requirements. */
export function selectorRequirements(selector: LabelSelector | undefined): LabelRequirement[] {
  if (!selector) return [];
  const reqs: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'In' as const, values: [v] }));
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In' || e.operator === 'NotIn') reqs.push({ key: e.key, op: e.operator, values: e.values ?? [] });
    else reqs.push({ key: e.key, op: e.operator });
  }
  return reqs;
}

/** True when the selector matches the labels. An empty selector matches everything (as in Kubernetes). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  return matchesRequirements(labels, selectorRequirements(selector));
}

/**
 * The selector as Kubernetes prints it (Scale.status.selector, `-o wide`, describe): requirements
 * sorted by key, matchLabels as `key=value`, expressions as sets with sorted values.
 */
export function formatSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const terms: [string, string][] = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text = e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : `!${e.key}`;
    terms.push([e.key, text]);
  }
  return terms.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, t]) => t).join(',');
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

// The fields each kind can be selected by (Kubernetes' field label conversion functions).
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELDS_BY_KIND: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
  Secret: ['type'],
  ReplicaSet: ['status.replicas'],
};

/** Splits at commas that no backslash escapes (fields.splitTerms). */
function splitFieldTerms(input: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] === '\\') i++;
    else if (input[i] === ',') {
      terms.push(input.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(input.slice(start));
  return terms;
}

/** A field selector value with its `\\`, `\,` and `\=` escapes undone (fields.UnescapeValue). */
function unescapeFieldValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      const next = value[i + 1];
      if (next !== '\\' && next !== ',' && next !== '=') throw new BadRequestError(`invalid field selector: invalid escape sequence: \\${next ?? ''}`);
      out += next;
      i++;
    } else if (c === ',' || c === '=') {
      throw new BadRequestError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  return out;
}

/**
 * Parses a fieldSelector (`a=b,c!=d`) as Kubernetes' fields.ParseSelector does, then checks each
 * field is one the kind can be selected by; errors are 400s with Kubernetes' messages.
 */
export function parseFieldSelector(input: string | undefined, kind: string, selectable: string[] = []): FieldRequirement[] {
  if (!input) return [];
  const allowed = [...COMMON_FIELDS, ...(FIELDS_BY_KIND[kind] ?? []), ...selectable];
  const reqs: FieldRequirement[] = [];
  for (const term of splitFieldTerms(input)) {
    if (!term) continue;
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw new BadRequestError(`invalid selector: '${input}'; can't understand '${term}'`);
    reqs.push({ field: m[1], value: unescapeFieldValue(m[3]), negate: m[2] === '!=' });
  }
  for (const r of reqs) if (!allowed.includes(r.field)) throw new BadRequestError(`field label not supported: ${r.field}`);
  return reqs;
}

// Values an absent field selects as (Go's zero values in Kubernetes' field label functions).
const ZERO_VALUES: Record<string, string> = { 'spec.unschedulable': 'false', 'status.replicas': '0' };

function fieldValue(obj: KubeObject, path: string): string {
  if (path === 'source') return String(obj.source?.component ?? obj.reportingComponent ?? '');
  let v: any = obj;
  for (const part of path.split('.')) v = v?.[part];
  return v === undefined || v === null ? ZERO_VALUES[path] ?? '' : String(v);
}

export function matchesFields(obj: KubeObject, reqs: FieldRequirement[]): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
