/**
 * Poll `condition` until it holds (or returns a truthy value), instead of
 * sleeping a guessed time. Fails with `message` after `timeoutMs`.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 10, message = 'condition' }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}` + (lastError ? `: ${String(lastError)}` : ''));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
