// The package's "main" is CommonJS without named ESM exports; we import its ES module build,
// which has the same API as the typed entry point.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
