/** What a call path needs of a module: its type's name and its named descendants. */
interface PathModule {
  readonly typeName: string;
  namedModules(): [string, PathModule][];
}

// The modules whose `call` is running, outermost first. When a layer throws, the innermost
// frame records this chain on the error; the outermost frame turns it into a dotted path,
// so "expected 3 channels" says which of a model's convolutions was wrong.
const active: PathModule[] = [];

interface TaggedError extends Error {
  welfordModules?: PathModule[];
}

export function enterModule(m: PathModule): void {
  active.push(m);
}

export function leaveModule(m: PathModule): void {
  if (active[active.length - 1] === m) active.pop();
}

/** Records the module chain on the error (innermost frame) and prefixes the message with the path (outermost frame). */
export function annotateModuleError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const tagged = e as TaggedError;
  tagged.welfordModules ??= [...active];
  if (active.length === 1 && tagged.welfordModules.length > 1) {
    const chain = tagged.welfordModules;
    const failing = chain[chain.length - 1];
    tagged.message = `${pathOf(chain)} (${failing.typeName}): ${tagged.message}`;
  }
  return e;
}

/** The dotted path from the outermost module to the innermost, through registered children. */
function pathOf(chain: PathModule[]): string {
  const parts: string[] = [];
  for (let i = 1; i < chain.length; i++) {
    const parent = chain[i - 1];
    const found = parent.namedModules().find(([, m]) => m === chain[i]);
    parts.push(found ? found[0] : `<${chain[i].typeName}>`);
  }
  return parts.filter((p) => p !== '').join('.');
}
