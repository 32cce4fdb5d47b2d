import { Tensor } from '../tensor/tensor.ts';
import { runOp } from '../ops/dispatch.ts';
import { sameShape, shapeToString } from '../util/shape.ts';
import { noGrad } from '../tensor/grad_mode.ts';
import { tidy } from '../tensor/scope.ts';

/**
 * Reverse-mode differentiation from `root`: walks the tape once, in reverse topological
 * order, and accumulates into `.grad` of every leaf that requires grad (an input used twice
 * gets the sum; a second `backward()` adds to the first).
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(`backward: tensor of shape ${shapeToString(root.shape)} does not require grad (no input of its computation has requiresGrad set)`);
  }
  if (grad && !sameShape(grad.shape, root.shape)) {
    throw new Error(`backward: the gradient must have the output's shape ${shapeToString(root.shape)}, got ${shapeToString(grad.shape)}`);
  }
  if (!grad && root.size !== 1) {
    throw new Error(`backward: a gradient can be implied only for a one-element output, got shape ${shapeToString(root.shape)}; pass one`);
  }
  if (root.isDisposed) throw new Error(`backward: tensor #${root.id} of shape ${shapeToString(root.shape)} was disposed; call backward() before disposing it`);
  const order = topologicalOrder(root);
  noGrad(() =>
    tidy(() => {
      const grads = new Map<Tensor, Tensor>();
      grads.set(root, grad ? grad.view(grad.shape) : runOp('fill', [], { shape: root.shape, value: 1 }, root.backend));
      for (let k = order.length - 1; k >= 0; k--) {
        const t = order[k];
        const g = grads.get(t);
        if (!g) continue;
        grads.delete(t);
        const node = t.gradFn;
        if (!node) {
          accumulateLeaf(t, g);
          continue;
        }
        const inputGrads = node.backward(g);
        node.inputs.forEach((input, i) => {
          const ig = inputGrads[i];
          if (!input.requiresGrad || !ig) return;
          if (!sameShape(ig.shape, input.shape)) {
            throw new Error(`backward of ${node.op}: gradient for input ${i} has shape ${shapeToString(ig.shape)}, expected ${shapeToString(input.shape)}`);
          }
          const previous = grads.get(input);
          grads.set(input, previous ? runOp('add', [previous, ig], {}) : ig.view(ig.shape));
          previous?.dispose();
        });
        g.dispose();
      }
    }),
  );
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  const previous = leaf.grad;
  const next = previous ? runOp('add', [previous, g], {}) : g.view(g.shape);
  leaf.grad = Tensor.adopt(next);
  if (previous) {
    // The old gradient is replaced, not the leaf's: drop it without touching `leaf.grad`.
    previous.dispose();
  }
}

function disposedInGraph(t: Tensor, consumer: string): Error {
  const leaf = t.gradFn === null && t.disposedOp === null;
  const name = `tensor #${t.id} of shape ${shapeToString(t.shape)}`;
  const what = leaf ? `the leaf ${name}` : `the intermediate ${name} (made by ${t.disposedOp})`;
  return new Error(
    `backward: ${what}, an input of ${consumer}, was disposed before backward(), so gradients cannot reach what made it. ` +
      (leaf ? 'Keep parameters alive while they are trained' : 'Call backward() inside the tidy that made the loss (tidy frees every intermediate it did not return)'),
  );
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    const node = t.gradFn;
    for (const input of node?.inputs ?? []) {
      if (!input.requiresGrad || visited.has(input)) continue;
      // A freed intermediate has lost its own inputs: walking on would silently treat it as a
      // leaf and train nothing behind it.
      if (input.isDisposed) throw disposedInGraph(input, node!.op);
      stack.push([input, false]);
    }
  }
  return order;
}
