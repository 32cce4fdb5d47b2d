// The package's ESM build is imported by file so Node and bundlers load the same module;
// its typings are the package's own.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
