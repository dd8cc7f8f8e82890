/** DNS name helpers shared by the providers and the responder. */

/** lower case, without the trailing dot */
export const normalise = (name: string): string => name.trim().toLowerCase().replace(/\.+$/, "")

/** `name` is `zone` or below it */
export const isInZone = (name: string, zone: string): boolean => {
  const n = normalise(name)
  const z = normalise(zone)
  return z.length === 0 || n === z || n.endsWith(`.${z}`)
}

/** `a.b.example.org` → `a.b.example.org`, `b.example.org`, `example.org`, `org` */
export const suffixes = (name: string): ReadonlyArray<string> => {
  const labels = normalise(name).split(".")
  return labels.map((_, i) => labels.slice(i).join(".")).filter((s) => s.length > 0)
}

/** `host`, `host:port`, `[v6]` or `[v6]:port` */
export const parseHostPort = (
  server: string,
  defaultPort: number
): { readonly host: string; readonly port: number } | undefined => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(server.trim())
  if (match === null) return undefined
  const host = match[1] ?? match[2] ?? ""
  const port = match[3] === undefined ? defaultPort : Number(match[3])
  return host.length > 0 && port >= 1 && port <= 65535 ? { host, port } : undefined
}
