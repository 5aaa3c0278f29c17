/** Runs `attempt` until `done` holds for its result (every 100 ms, for at most `timeoutMs`). */
export async function eventually<T>(attempt: () => Promise<T>, done: (result: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (done(result) || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
