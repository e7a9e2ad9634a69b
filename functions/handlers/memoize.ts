// Handler dependencies (clients, config, adapters) are built once per Lambda container.

/**
 * Calls `factory` once and shares its promise; a failed build is forgotten, so the next invocation
 * retries it instead of failing forever on a cached rejection (a Secrets Manager blip at cold start).
 */
export function memoizeRetrying<T>(factory: () => Promise<T> | T): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= Promise.resolve()
      .then(factory)
      .catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
    return pending;
  };
}
