// Builds console/agent/agent.js, the one script of the agent workspace page,
// from src/agent.js and the pinned SDK packages (package-lock.json).
// Deterministic on purpose: CI rebuilds it and fails on any difference from
// the committed file (scripts/check-agent-bundle.sh), so `cargo build` can
// embed the committed bundle without Node. No source map (it would carry
// paths of the machine that built it), no timestamp, one IIFE: the page's
// CSP allows scripts from its own origin only, and no module loader.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

await build({
  absWorkingDir: here,
  entryPoints: ["src/agent.js"],
  outfile: resolve(here, "../console/agent/agent.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  sourcemap: false,
  charset: "utf8",
  // The SDK's licence comments (Apache-2.0) stay, gathered at the end.
  legalComments: "eof",
  banner: {
    js: "/* connect-blocklist agent workspace app. Built from agent-app/ by `npm run build` (esbuild, pinned in agent-app/package-lock.json); do not edit. */",
  },
  logLevel: "warning",
});
