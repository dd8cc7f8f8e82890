/**
 * `@peculiar/x509` and the ASN.1 schemas (internal/asn1.ts), imported on first use: about half a
 * megabyte of JavaScript that a run with nothing due, `acme status`, or a command that reads only
 * metadata never needs. Node (and a bundle's chunk) evaluates the module once; later `load`s get
 * the same module.
 */
import * as Effect from "effect/Effect"
import type * as Asn1 from "./asn1.js"

/** What internal/asn1.ts exports. */
export type Module = typeof Asn1

/** The X.509 / ASN.1 module, loaded when first asked for. */
export const load: Effect.Effect<Module> = Effect.promise(() => import("./asn1.js"))
