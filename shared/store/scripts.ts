// The one loader of Wharf's Lua scripts, and the one place their error replies become errors.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const SCRIPTS = {
  writeObject: 'write-object.lua',
  listObjects: 'list-objects.lua',
  listPage: 'list-page.lua',
  indexObjects: 'index-objects.lua',
  readGroup: 'read-group.lua',
  advanceGroup: 'advance-group.lua',
  deleteIdleConsumer: 'delete-idle-consumer.lua',
  releaseLock: 'release-lock.lua',
  extendLock: 'extend-lock.lua',
  ensureCredentialPair: 'ensure-credential-pair.lua',
  allocatePodCidr: 'allocate-pod-cidr.lua',
  releasePodCidr: 'release-pod-cidr.lua',
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/**
 * The scripts that only read, run as EVALSHA_RO: Redis takes EVALSHA's keys as read and written,
 * so under ACLs a user allowed only to read a key could not run even a reading script on it.
 */
const READ_ONLY = new Set<ScriptName>(['listObjects', 'listPage']);

const sources = new Map<ScriptName, string>();

function source(name: ScriptName): string {
  let text = sources.get(name);
  if (!text) {
    text = readFileSync(new URL(`./lua/${SCRIPTS[name]}`, import.meta.url), 'utf8');
    sources.set(name, text);
  }
  return text;
}

export interface ScriptRunner {
  run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown>;
}

const digests = new Map<ScriptName, string>();

function digest(name: ScriptName): string {
  let sha = digests.get(name);
  if (!sha) {
    sha = createHash('sha1').update(source(name)).digest('hex');
    digests.set(name, sha);
  }
  return sha;
}

/**
 * Registers the scripts on a connection; ioredis sends EVALSHA and falls back to EVAL once. The
 * read-only scripts go as EVALSHA_RO, falling back to EVAL_RO when Redis does not have them yet.
 */
export function scriptsFor(redis: Redis): ScriptRunner {
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    if (!READ_ONLY.has(name) && !(name in redis)) redis.defineCommand(name, { lua: source(name) });
  }
  return {
    async run(name, keys, args) {
      if (READ_ONLY.has(name)) {
        try {
          return await redis.evalsha_ro(digest(name), keys.length, ...keys, ...args);
        } catch (err) {
          if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
          return redis.eval_ro(source(name), keys.length, ...keys, ...args);
        }
      }
      const command = (redis as any)[name] as (...a: unknown[]) => Promise<unknown>;
      return command.call(redis, keys.length, ...keys, ...args);
    },
  };
}

/** The error replies of write-object.lua, decoded. */
export type ScriptFailure =
  | { code: 'NOT_FOUND' }
  | { code: 'EXISTS' }
  | { code: 'CONFLICT'; currentRv: string }
  | { code: 'INSUFFICIENT'; detail: string }
  | { code: 'CLAIMED'; claim: string };

export function decodeScriptError(err: unknown): ScriptFailure | undefined {
  const message = err instanceof Error ? err.message : '';
  const m = /WHARF_([A-Z_]+)\s*(.*)$/.exec(message);
  if (!m) return undefined;
  switch (m[1]) {
    case 'NOT_FOUND':
      return { code: 'NOT_FOUND' };
    case 'EXISTS':
      return { code: 'EXISTS' };
    case 'CONFLICT':
      return { code: 'CONFLICT', currentRv: m[2] };
    case 'INSUFFICIENT':
      return { code: 'INSUFFICIENT', detail: m[2] };
    case 'CLAIMED':
      return { code: 'CLAIMED', claim: m[2] };
    default:
      return undefined;
  }
}
