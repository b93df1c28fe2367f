import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, context, type Context, type ContextManager } from '@opentelemetry/api';

/**
 * Without a registered context manager the OTel API's `context.active()` is
 * always the root context, so the trace of an incoming request would be lost
 * across awaits. The OTel SDK ships one (context-async-hooks), but services
 * run without the SDK by default; this is the same idea in a few lines.
 */
class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (self: unknown, args: unknown[]): unknown =>
      this.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(self, args));
    return function bound(this: unknown, ...args: unknown[]) {
      return run(this, args);
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

/**
 * Make `context.active()` follow async calls. Returns false when a manager
 * is already registered (e.g. by the OTel SDK, which must load first), and
 * then leaves it in place.
 */
export function installContextManager(): boolean {
  return context.setGlobalContextManager(new AsyncLocalStorageContextManager());
}
