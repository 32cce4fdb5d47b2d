// A package's `prepublishOnly`: only pnpm applies publishConfig (the exports, imports and bin of
// dist/); `npm publish` would ship manifests that point at src/, which the tarball lacks.
const agent = process.env.npm_config_user_agent ?? '';
if (!agent.startsWith('pnpm/')) {
  console.error(`publish with pnpm (pnpm -r --filter './packages/*' publish), not ${agent.split(' ')[0] || 'this tool'}: only pnpm rewrites exports to dist/ (publishConfig)`);
  process.exit(1);
}
