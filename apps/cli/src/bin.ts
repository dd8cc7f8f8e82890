/**
 * The `acme` executable: runs the command line, prints a failure as one line, exits with its code.
 *
 * `acme --version` is answered before anything else is loaded: the bundle evaluates the command tree,
 * Effect, the SDK and its crypto libraries only when a command runs (`Cli.js` is imported
 * dynamically, and apps/cli/build.mjs splits it into a chunk of its own that node loads then), so the
 * version costs about as much as starting node.
 *
 * @since 0.1.0
 */
import { version } from "./version.js"

const argv = process.argv

if (argv.length === 3 && argv[2] === "--version") {
  // the same bytes @effect/cli prints for --version
  process.stdout.write(`${version}\n\n`)
} else {
  // NO_COLOR wins over FORCE_COLOR (https://no-color.org). With both set, Node prints "Warning: The
  // 'NO_COLOR' env is ignored due to the 'FORCE_COLOR' env being set" on a terminal as soon as one of
  // its modules that colour (node:assert) loads, which loading the command tree does: so here, before
  if ((process.env["NO_COLOR"] ?? "").length > 0) delete process.env["FORCE_COLOR"]
  const Cli = await import("./Cli.js")
  Cli.main(argv)
}
