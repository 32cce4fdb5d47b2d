// The import rules of the workspace, checked by dependency-cruiser (`pnpm lint:deps`, and
// packages/core/test/layering.test.ts). docs/core.md ("Layers") explains the order.
// Paths are relative to the repository root; the data below generates the rules.
const { readFileSync, readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const CORE = 'packages/core/src';

/**
 * packages/core/src, bottom to top. Each folder may import the folders listed (its own
 * included) and nothing else of core: lower layers never learn about higher ones, so each can
 * be understood, tested and replaced without what sits above it.
 */
const CORE_LAYERS = [
  { folder: 'util', imports: ['util'], why: 'shapes, random numbers, number formatting: plain helpers every layer uses' },
  { folder: 'types', imports: ['types'], why: 'ambient declarations for untyped dependencies (wgsl_reflect)' },
  {
    folder: 'device',
    imports: ['util', 'device'],
    why: 'finds an adapter and opens a GPUDevice in each runtime; it knows nothing of backends, which take the device it returns',
  },
  {
    folder: 'backend',
    imports: ['util', 'device', 'backend'],
    why: 'the small Backend interface (alloc, write, read, free, run a program) and its CPU and WebGPU implementations, programs and reflection included; it knows nothing of tensors, gradients or ops',
  },
  { folder: 'kernels', imports: ['util', 'backend', 'kernels'], why: 'builders of GPU programs for one kernel family each, and the reduction plan, in the form the WebGPU backend runs' },
  {
    folder: 'reference',
    imports: ['util', 'reference'],
    typesFrom: ['backend', 'kernels'],
    why: 'the CPU reference: plain float64 TypeScript written independently of the kernels, so it can specify them; it reads only their types (host arrays, an op\'s geometry), never their code',
  },
  {
    folder: 'tensor',
    imports: ['util', 'device', 'backend', 'tensor'],
    why: 'Tensor, its storage handle, tidy scopes, grad mode, the current backend (init) and creation from host values; ops build on tensors, not the reverse',
  },
  {
    folder: 'distributed',
    imports: ['util', 'backend', 'tensor', 'distributed'],
    why: 'collectives and replica statistics; below ops because synchronised batch norm all-reduces through them',
  },
  {
    folder: 'ops',
    imports: ['util', 'backend', 'kernels', 'reference', 'tensor', 'distributed', 'ops'],
    why: 'each op declared once: shape rule, CPU reference, GPU programs and backward rule (written with other ops)',
  },
  {
    folder: 'autograd',
    imports: ['util', 'backend', 'tensor', 'ops', 'autograd'],
    why: 'the tape walk (backward()): above ops, because it seeds and sums gradients with them, as PyTorch\'s engine does',
  },
  {
    folder: 'optim',
    imports: ['util', 'device', 'backend', 'kernels', 'reference', 'tensor', 'distributed', 'ops', 'autograd', 'optim'],
    why: 'optimizers, schedules and gradient clipping: users of everything below',
  },
];

/**
 * Workspace packages and the packages each may import (DESIGN.md). cli and experiments sit on
 * top; playground/, e2e/ and bench/ use the packages and are imported by none of them.
 */
const PACKAGES = {
  core: [],
  layers: ['core'],
  data: ['core'],
  stats: ['core', 'layers'],
  experiments: ['core', 'layers', 'data', 'stats'],
  cli: ['core', 'layers', 'data', 'stats', 'experiments'],
};

/** What a package offers the others: the files its package.json `exports` map names. */
function entryPoints() {
  const entries = [];
  for (const name of readdirSync(join(__dirname, 'packages'))) {
    const manifest = join(__dirname, 'packages', name, 'package.json');
    if (!existsSync(manifest)) continue;
    const { exports = {} } = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const target of Object.values(typeof exports === 'string' ? { '.': exports } : exports)) {
      if (typeof target === 'string') entries.push(`packages/${name}/${target.replace(/^\.\//, '')}`);
    }
  }
  return entries;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anyOf = (names) => `(${names.join('|')})`;

/** Modules of core that have a place in the layers: the layer folders and the index on top. */
const LAYERED = [`^${CORE}/${anyOf(CORE_LAYERS.map((l) => l.folder))}/`, `^${CORE}/index\\.ts$`];

const coreLayerRules = CORE_LAYERS.flatMap(({ folder, imports, typesFrom = [], why }) => [
  {
    name: `core-layer-${folder}`,
    comment: `${folder}/ holds ${why}; it may import only ${[...imports, ...typesFrom.map((t) => `types of ${t}`)].join(', ')} of core.`,
    severity: 'error',
    from: { path: `^${CORE}/${folder}/` },
    to: { path: `^${CORE}/`, pathNot: `^${CORE}/${anyOf([...imports, ...typesFrom])}/` },
  },
  ...(typesFrom.length === 0
    ? []
    : [
        {
          name: `core-layer-${folder}-types-only`,
          comment: `${folder}/ may import only types (import type) from ${typesFrom.join(', ')}.`,
          severity: 'error',
          from: { path: `^${CORE}/${folder}/` },
          to: { path: `^${CORE}/${anyOf(typesFrom)}/`, dependencyTypesNot: ['type-only'] },
        },
      ]),
]);

const packageRules = Object.entries(PACKAGES).map(([name, imports]) => ({
  name: `package-${name}`,
  comment:
    imports.length === 0
      ? `@welford/${name} imports no other package of the workspace.`
      : `@welford/${name} may import only ${imports.map((p) => `@welford/${p}`).join(', ')} of the workspace.`,
  severity: 'error',
  from: { path: `^packages/${name}/` },
  to: { path: '^(packages/[^/]+|playground|e2e|bench)/', pathNot: `^packages/${anyOf([name, ...imports])}/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'Modules that import each other (type-only imports count) cannot be read, tested or moved one at a time, and a value import cycle depends on evaluation order. Move what both need into a lower module.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import the checker cannot resolve is an import it cannot check: fix the path, or teach the resolver (options below).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    ...coreLayerRules,
    {
      name: 'core-unlayered',
      comment: `Every folder of ${CORE} has a place in CORE_LAYERS (.dependency-cruiser.cjs); give a new one its place there and in docs/core.md.`,
      severity: 'error',
      from: { path: `^${CORE}/`, pathNot: LAYERED },
      to: {},
    },
    {
      name: 'core-unlayered-import',
      comment: `An import of a module of ${CORE} outside the layers: give its folder a place in CORE_LAYERS and docs/core.md.`,
      severity: 'error',
      from: {},
      to: { path: `^${CORE}/`, pathNot: LAYERED },
    },
    {
      name: 'core-index-is-the-top',
      comment: "src/index.ts is the package's public face: modules inside core import what they need directly, never the index.",
      severity: 'error',
      from: { path: `^${CORE}/` },
      to: { path: `^${CORE}/index\\.ts$` },
    },
    ...packageRules,
    {
      name: 'package-unlisted',
      comment: 'Every package under packages/ has its place in PACKAGES (.dependency-cruiser.cjs); a new one is reported by its first import.',
      severity: 'error',
      from: { path: '^packages/', pathNot: `^packages/${anyOf(Object.keys(PACKAGES))}/` },
      to: {},
    },
    {
      name: 'package-entry-points',
      comment: "A package reaches another only through what the other's package.json exports (import '@welford/x'), never its inner files.",
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/[^/]+/', pathNot: ['^packages/$1/', ...entryPoints().map((e) => `^${escape(e)}$`)] },
    },
  ],
  options: {
    // Sources only: what npm packages contain is theirs, builds are copies, and the fixture
    // tree of layering.test.ts breaks the rules on purpose.
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: ['(^|/)node_modules/', '(^|/)dist/', '^\\.tsbuild/', '^packages/core/test/fixtures/layering/'] },
    moduleSystems: ['es6'],
    // Type-only imports are dependencies too: they tie modules together as much as values do.
    tsPreCompilationDeps: true,
    // Compiler options (the project files under packages/ only list folders and references).
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      // '@welford/x' resolves through the workspace packages' `exports` to their src/ files, and
      // '#node-adapter' through @welford/core's `imports`; Node's loader is what the checker sees.
      exportsFields: ['exports'],
      conditionNames: ['types', 'node', 'import', 'default'],
      mainFields: ['module', 'main', 'types'],
    },
    skipAnalysisNotInRules: true,
    cache: false,
    progress: { type: 'none' },
  },
};
