// Loopback ports for the local stack: a free one from the kernel, or a preferred one when nobody holds it.
import { createServer } from 'node:net';

/** Binds 127.0.0.1:`port` (0 = any) for a moment and returns the bound port, or undefined when it is taken. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const bound = addr !== null && typeof addr !== 'string' ? addr.port : undefined;
      srv.close(() => resolve(bound));
    });
  });
}

/** A port the kernel says is free on 127.0.0.1 (released for the caller to bind). */
export async function freePort(): Promise<number> {
  const port = await probe(0);
  if (port === undefined) throw new Error('no free loopback port');
  return port;
}

/** `preferred` when it is free, else a free port. */
export async function preferredOrFreePort(preferred: number | undefined): Promise<number> {
  if (preferred !== undefined && (await probe(preferred)) !== undefined) return preferred;
  return freePort();
}
