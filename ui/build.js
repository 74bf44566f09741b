// Bundles ui/src into OUT_DIR with esbuild: index.html (copied), app.js (one ES module with
// Preact, htm and Chart.js inside) and app.css. Run by CMake (cmake/UiBundle.cmake):
//   node ui/build.js <node_modules dir> <out dir>
// CommonJS on purpose: require() honours the node_modules path given, which lives in the build
// tree (npm ci there), not beside the sources.
'use strict';
const path = require('path');
const fs = require('fs');

const [nodeModules, outDir] = process.argv.slice(2);
if (!nodeModules || !outDir) {
  console.error('usage: node ui/build.js <node_modules dir> <out dir>');
  process.exit(2);
}
const esbuild = require(path.join(path.resolve(nodeModules), 'esbuild'));
const src = path.join(__dirname, 'src');
fs.mkdirSync(outDir, { recursive: true });

esbuild.buildSync({
  entryPoints: { app: path.join(src, 'main.js') },
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['es2020'],
  nodePaths: [path.resolve(nodeModules)],
  outdir: outDir,
  legalComments: 'none',
  logLevel: 'warning',
});
fs.copyFileSync(path.join(src, 'app.css'), path.join(outDir, 'app.css'));
fs.copyFileSync(path.join(src, 'index.html'), path.join(outDir, 'index.html'));
