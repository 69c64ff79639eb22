// The files an API server may keep the administrator's credential in: the admin token's file
// (WHARF_ADMIN_TOKEN_FILE), made with a random token on the first start and read on every later
// one, and the admin kubeconfig (WHARF_API_WRITE_KUBECONFIG), as k3s writes k3s.yaml. Redis sees
// only the token's digest; the token itself stays in these files.
import { chownSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { newToken } from '../../shared/auth/cluster-credentials.ts';

/** A token file's content is unusable: the server refuses to start rather than guess. */
export class TokenFileError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'TokenFileError';
  }
}

/** The token kept in `path`, or a new random one written there (mode 0600) when the file does not exist. */
export function loadOrCreateTokenFile(path: string): { token: string; created: boolean } {
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, `${newToken()}\n`, { flag: 'wx', mode: 0o600 });
    ownLikeDirectory(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { token: readToken(path), created: false };
  }
  return { token: readToken(path), created: true };
}

function readToken(path: string): string {
  const token = readFileSync(path, 'utf8').trim();
  if (!token) throw new TokenFileError(path, 'the admin token file is empty');
  if (/\s/.test(token)) throw new TokenFileError(path, 'the admin token file holds more than one word');
  return token;
}

/** Writes a file holding a credential: whole or not at all (a temporary file renamed), readable by its owner only. */
export function writeCredentialFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  ownLikeDirectory(tmp);
  renameSync(tmp, path);
}

/**
 * A file written by a server running as root into a directory someone else owns (Compose's
 * bind-mounted directory of the user's) goes to that directory's owner, who is the one to read it.
 */
function ownLikeDirectory(path: string): void {
  if (process.getuid?.() !== 0) return;
  const dir = statSync(dirname(path));
  if (dir.uid !== 0 || dir.gid !== 0) chownSync(path, dir.uid, dir.gid);
}
