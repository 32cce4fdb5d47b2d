// The stack of open `tidy` scopes, apart from `tidy` itself: the Tensor constructor registers
// every new tensor here, so this file must not need Tensor (scope.ts, which does, sits above both).

/** What a scope collects: anything it can dispose (in practice, tensors). */
export interface Scoped {
  dispose(): void;
}

const scopes: Set<Scoped>[] = [];

/** Adds a new tensor to the innermost open scope, if any. */
export function trackTensor(t: Scoped): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes a tensor from every open scope: it outlives them and its owner disposes it. */
export function untrackTensor(t: Scoped): void {
  for (const s of scopes) s.delete(t);
}

/** Opens a scope; what is tracked from now until `popScope` lands in the returned set. */
export function pushScope(): Set<Scoped> {
  const scope = new Set<Scoped>();
  scopes.push(scope);
  return scope;
}

export function popScope(): void {
  scopes.pop();
}
