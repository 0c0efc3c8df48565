// Run the shipped wasm module (dist/pkg/specstudio_frontend_bg.wasm) under node
// through its plain C-ABI exports (frontend/src/abi.rs), without the page.
// usage: node run.mjs <module.wasm> lint|graph <spec-file> [display-path]
import { readFileSync } from "node:fs";

const [wasmPath, command, specPath, displayPath] = process.argv.slice(2);
const module = await WebAssembly.compile(readFileSync(wasmPath));
// The editor's own imports (DOM, Monaco, dagre) are never reached by the C-ABI
// exports: stub each with a function that fails loudly if it ever is.
const stub = new Proxy({}, {
  get: (_, name) => () => { throw new Error(`import ${String(name)} called outside the page`); },
});
const imports = {};
for (const { module: name } of WebAssembly.Module.imports(module)) imports[name] = stub;
const instance = await WebAssembly.instantiate(module, imports);
const api = instance.exports;

function put(bytes) {
  const ptr = api.specstudio_alloc(bytes.length);
  new Uint8Array(api.memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

function take(packed) {
  const ptr = Number(packed >> 32n);
  const len = Number(packed & 0xffffffffn);
  const text = new TextDecoder().decode(new Uint8Array(api.memory.buffer, ptr, len));
  api.specstudio_free(ptr, len);
  return text;
}

const spec = readFileSync(specPath);
const [ptr, len] = put(spec);
let out;
if (command === "lint") {
  const [pathPtr, pathLen] = put(new TextEncoder().encode(displayPath ?? specPath));
  out = take(api.specstudio_lint_json(pathPtr, pathLen, ptr, len));
  api.specstudio_free(pathPtr, pathLen);
} else if (command === "graph") {
  out = take(api.specstudio_graph_json(ptr, len));
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
api.specstudio_free(ptr, len);
process.stdout.write(out + "\n");
