// The one place smol-toml is loaded. It ships only ESM type declarations, so
// under `module: node16` a CommonJS file cannot `import` it; its CommonJS
// build is loaded with require and typed from those declarations.

type SmolToml = typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

export const { parse, stringify, TomlError } = require('smol-toml') as SmolToml;
