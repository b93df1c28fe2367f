import type { ServerWritableStream } from '@grpc/grpc-js';

/** Write with backpressure: a slow watcher holds its source back instead of growing our buffers. */
export async function send<T>(call: ServerWritableStream<unknown, T>, msg: T): Promise<void> {
  if (call.write(msg)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}
