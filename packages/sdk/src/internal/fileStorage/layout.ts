/**
 * Where everything lives under the storage root:
 *
 * ```
 * <root>/live/<name> -> ../archive/<name>/<version>     a relative symlink, swapped atomically
 * <root>/archive/<name>/<version>/cert.pem chain.pem fullchain.pem privkey.pem (0600) metadata.json
 * <root>/accounts/<caFolder(directoryUrl)>/<account name>/account.key (0600) account.json
 * <root>/runs/<run id>.json <run id>.owner
 * <root>/pending/<name>.<run id>.key (0600)
 * <root>/leases/<certificate or @run.run id>.json .lock
 * ```
 */
import type * as Path from "@effect/platform/Path"
import type { CertificatePaths } from "../storage/service.js"

/** @internal */
export interface Layout {
  readonly root: string
  readonly liveRoot: string
  readonly archiveRoot: string
  readonly accountsRoot: string
  readonly runsRoot: string
  readonly pendingRoot: string
  readonly leasesRoot: string
  readonly liveDir: (name: string) => string
  readonly archiveDir: (name: string) => string
  readonly versionDir: (name: string, version: number) => string
  /** the target of `live/<name>` for a version, relative to `live/` */
  readonly linkTarget: (name: string, version: number) => string
  readonly certificatePaths: (name: string) => CertificatePaths
}

/** @internal */
export const makeLayout = (path: Path.Path, root: string): Layout => {
  const liveRoot = path.join(root, "live")
  const archiveRoot = path.join(root, "archive")
  const liveDir = (name: string) => path.join(liveRoot, name)
  return {
    root,
    liveRoot,
    archiveRoot,
    accountsRoot: path.join(root, "accounts"),
    runsRoot: path.join(root, "runs"),
    pendingRoot: path.join(root, "pending"),
    leasesRoot: path.join(root, "leases"),
    liveDir,
    archiveDir: (name) => path.join(archiveRoot, name),
    versionDir: (name, version) => path.join(archiveRoot, name, String(version)),
    linkTarget: (name, version) => `../archive/${name}/${version}`,
    certificatePaths: (name) => {
      const directory = liveDir(name)
      return {
        directory,
        cert: path.join(directory, "cert.pem"),
        chain: path.join(directory, "chain.pem"),
        fullchain: path.join(directory, "fullchain.pem"),
        privkey: path.join(directory, "privkey.pem"),
        metadata: path.join(directory, "metadata.json")
      }
    }
  }
}
