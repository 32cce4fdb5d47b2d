// Two small conformance cases the command-line tests run in Node and in the browsers: ReLU, and a
// linear layer whose expected output is given (so a test can make it wrong on purpose).

export const relu = {
  id: 'relu-small',
  op: 'relu',
  inputs: { input: { shape: [2, 3], data: [-1, 0, 2, -3, 4, 0.5] } },
  grad_output: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
  expect: { output: { shape: [2, 3], data: [0, 0, 2, 0, 4, 0.5] }, 'grad.input': { shape: [2, 3], data: [0, 0, 3, 0, 5, 6] } },
  tol: { atol: 0, rtol: 0 },
};

/** x·Wᵀ + b of a 2×3 input; the right `output` is [8, -6, 8, 3]. */
export const linear = (id: string, output: number[]) => ({
  id,
  op: 'linear',
  inputs: {
    input: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
    weight: { shape: [2, 3], data: [1, 0, -1, 2, 1, 0] },
    bias: { shape: [2], data: [10, -10] },
  },
  attrs: {},
  grad_output: { shape: [2, 2], data: [1, 0, 0, 1] },
  expect: { output: { shape: [2, 2], data: output }, 'grad.weight': { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] } },
  tol: { atol: 1e-5, rtol: 1e-5 },
});
