/**
 * Probes that prove a listener is the one we started: challtestsrv keeps running (its management API
 * answering) when it cannot bind its DNS or challenge ports, and a port picked as free may have been
 * taken by another harness in the meantime. So readiness registers a unique answer through the
 * management API and checks that this very answer comes back on each port.
 */
import * as Effect from "effect/Effect"
import * as Dns from "node:dns"
import * as Tls from "node:tls"

/** the IPv4 addresses `name` resolves to at 127.0.0.1:port (UDP) @internal */
export const resolve4 = (port: number, name: string): Effect.Effect<ReadonlyArray<string>, string> =>
  Effect.async<ReadonlyArray<string>, string>((resume) => {
    const resolver = new Dns.promises.Resolver({ timeout: 500, tries: 1 })
    resolver.setServers([`127.0.0.1:${port}`])
    resolver.resolve4(name).then(
      (addresses) => resume(Effect.succeed(addresses)),
      (error: unknown) => resume(Effect.fail(`DNS on port ${port}: ${error instanceof Error ? error.message : String(error)}`))
    )
    return Effect.sync(() => resolver.cancel())
  })

/** the subjectAltName of the certificate served for `host` with ALPN `acme-tls/1` at 127.0.0.1:port @internal */
export const tlsAlpnSubjectAltName = (port: number, host: string): Effect.Effect<string, string> =>
  Effect.async<string, string>((resume) => {
    const socket = Tls.connect({
      host: "127.0.0.1",
      port,
      servername: host,
      ALPNProtocols: ["acme-tls/1"],
      // the tls-alpn-01 certificate is self-signed by design: we only read it
      rejectUnauthorized: false
    })
    socket.setTimeout(1000, () => {
      socket.destroy()
      resume(Effect.fail(`tls-alpn-01 on port ${port}: no answer`))
    })
    socket.once("secureConnect", () => {
      const subjectAltName = socket.getPeerCertificate().subjectaltname ?? ""
      socket.destroy()
      resume(Effect.succeed(subjectAltName))
    })
    socket.once("error", (error) => resume(Effect.fail(`tls-alpn-01 on port ${port}: ${error.message}`)))
    return Effect.sync(() => socket.destroy())
  })
