/**
 * The one error of the `Storage` service: what failed (`reason`), at which path, and why, with a
 * message that says how to fix it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category errors
 */
export class StorageError extends Schema.TaggedError<StorageError>("@acme/sdk/StorageError")("StorageError", {
  reason: Schema.Literal("Io", "ReadOnly", "Full", "Corrupt", "InvalidName"),
  path: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    switch (this.reason) {
      case "ReadOnly":
        return `cannot write ${this.path}: the storage is not writable (${this.description}); make the storage folder (storage.path) writable for the user running acme, and remount its file system read-write if it is mounted read-only`
      case "Full":
        return `cannot write ${this.path}: the storage is full (${this.description}); free space on the file system of the storage folder (storage.path), then run acme again`
      case "Corrupt":
        return `cannot read ${this.path}: ${this.description}; fix or remove the file`
      case "InvalidName":
        return `${this.description}`
      default:
        return `storage failed at ${this.path}: ${this.description}; check storage.path, its free space and its permissions`
    }
  }
}
