// How the page names a layer: the module's own name (as in its state dict and hooks) with a tag
// for what the module is, so that "bn1" of a group-norm model reads "bn1 (GN)" and its captions
// say "group norm (GroupNorm, 4 groups)" rather than the batch norm the name suggests.
import { GroupNorm, type AnyModule } from '@welford/layers';

/** What a module is, for a visitor: a short tag for legends and words for captions. */
export interface LayerDescription {
  /** For legends: 'BN', 'GN', 'LN', 'IN', 'BRN', or '' for modules that need none (ReLU). */
  tag: string;
  /** For captions and titles, e.g. 'layer norm (GroupNorm, 1 group)'. */
  words: string;
}

/** Describes `module` by its class (and, for GroupNorm, its groups: one group is a layer norm). */
export function describeModule(module: AnyModule | undefined): LayerDescription {
  if (!module) return { tag: '', words: 'layer' };
  if (module instanceof GroupNorm) {
    const g = module.numGroups;
    return g === 1 ? { tag: 'LN', words: 'layer norm (GroupNorm, 1 group)' } : { tag: 'GN', words: `group norm (GroupNorm, ${g} groups)` };
  }
  switch (module.typeName) {
    case 'BatchNorm2d':
      return { tag: 'BN', words: 'batch norm (BatchNorm2d)' };
    case 'InstanceNorm2d':
      return { tag: 'IN', words: 'instance norm (InstanceNorm2d)' };
    case 'BatchRenorm2d':
      return { tag: 'BRN', words: 'batch renorm (BatchRenorm2d)' };
    default:
      return { tag: '', words: module.typeName };
  }
}

/** The label of layer `name` in legends and menus: 'bn1 (GN)', or the bare name where the module needs no tag. */
export function layerLabel(name: string, description: LayerDescription): string {
  return description.tag ? `${name} (${description.tag})` : name;
}

/** "bn1–bn3" for a run of names, "bn1" for one, "" for none. */
export function nameRange(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names[0]}–${names.at(-1)}`;
}

/** Words with their first letter capitalised (a caption's start). */
export function capitalize(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}
