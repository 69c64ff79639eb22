// Tests that run containers need images that no registry can give us here: test/images/build.sh
// makes busybox:latest, node:20 and redis:7 from the host's binaries. Call requireImages from a
// before hook so a missing image fails the file at once with a message that says what to run,
// instead of as an image-pull timeout deep inside a test:
//
//   import { requireImages } from '../helpers/images.ts';
//   test.before(() => requireImages(['busybox:latest']));
import Docker from 'dockerode';

export const BUILD_COMMAND = 'bash test/images/build.sh';

/** The images test/images/build.sh makes (under their official names). */
export const LOCAL_IMAGES = ['busybox:latest', 'node:20', 'redis:7'] as const;

/** The label build.sh puts on every image it makes. */
export const LOCAL_BUILD_LABEL = 'io.wharf.local-build';

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err
    ? (err as { statusCode?: number }).statusCode
    : undefined;
}

/**
 * Resolves when every named image exists in the local Docker engine; otherwise throws an Error
 * naming the missing ones and telling the developer to run test/images/build.sh (or that no
 * engine answers at all). Never pulls.
 */
export async function requireImages(names: string[], docker: Docker = new Docker()): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `No Docker engine answers (${(err as Error).message}). Start one (e.g. \`dockerd >/tmp/dockerd.log 2>&1 &\`, ` +
        `or check DOCKER_HOST), then run \`${BUILD_COMMAND}\` to build the test images.`,
    );
  }
  const missing: string[] = [];
  for (const name of names) {
    try {
      await docker.getImage(name).inspect();
    } catch (err) {
      if (statusCode(err) !== 404) {
        throw new Error(`Could not inspect image ${name}: ${(err as Error).message}`);
      }
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `Missing Docker image${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: ` +
        `run \`${BUILD_COMMAND}\` (it builds ${LOCAL_IMAGES.join(', ')} from this machine's binaries; no registry needed).`,
    );
  }
}
