import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Another process may
 * grab it before the caller binds it, so callers that spawn servers retry on
 * "address already in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/**
 * Start a server on a free port, retrying on a fresh port when another
 * process took the one picked before the server bound it. `launch` starts
 * the server on the port and settles when it is up; on failure `cleanup`
 * kills what was started, and `lostThePort` tells a taken port (retried, up
 * to five times) from any other failure (thrown).
 */
export async function onFreePort(launch: (port: number) => Promise<void>, cleanup: () => Promise<void>, lostThePort: (err: unknown) => boolean): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      await launch(port);
      return port;
    } catch (err) {
      await cleanup();
      if (lostThePort(err) && attempt < 5) continue;
      throw err;
    }
  }
}
