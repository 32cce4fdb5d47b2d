// Why the loss of a model without norms sits at ln(classes) (2.30 for ten) for its first steps:
// with PyTorch's default initialisation each layer shrinks the signal, so the output hardly
// depends on the image and the network can only guess; the gradients are shrunk alike, so it
// takes many steps to grow out of it. Shown in the loss card while that is what the loss does.

/** How close to ln(classes) a loss reading counts as "guessing". */
const NEAR = 0.05;
/** A shown note stays while the loss is within this of ln(classes): readings scatter on the plateau. */
const LEFT = 0.15;
/** Steps after which a loss still at ln(classes) is a plateau worth explaining, not the first readings. */
const FROM_STEP = 10;

/** The note for a loss reading, or null when none applies; `shown`: the note is up after the previous reading. */
export function plateauNote(p: { normLayers: number; segmentation: boolean; classes: number; step: number; loss: number }, shown: boolean): string | null {
  if (p.normLayers > 0 || p.segmentation || p.step < FROM_STEP || !Number.isFinite(p.loss)) return null;
  const guess = Math.log(p.classes);
  const onPlateau = Math.abs(p.loss - guess) < (shown ? LEFT : NEAR);
  if (!onPlateau) return null;
  return (
    `Why the loss sits at ${guess.toFixed(2)}: that is ln ${p.classes}, the loss of guessing each of the ${p.classes} classes with probability 1/${p.classes}. ` +
    'Without a norm, the default initialisation shrinks the signal at every layer, so the output hardly depends on the image yet, and the gradients that would change that are shrunk alike. ' +
    'It takes many steps for the weights to grow out of this plateau. A norm rescales every layer to a unit spread, so with one the image reaches the output from the first step.'
  );
}
