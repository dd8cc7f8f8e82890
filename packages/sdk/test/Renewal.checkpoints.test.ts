import { Pebble } from "@acme/testing"
import { Renewal, RenewalState, Storage } from "@acme/sdk"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { pipelineServices, settingsLayer } from "./support/pipeline.js"

// A checkpoint after a stage appends the buckets that changed to the whole state written before
// (internal/checkpointJournal.ts), so what a stage writes does not grow with the run's certificates.

interface Write {
  readonly append: boolean
  readonly length: number
}

/** runs `renew` for `count` new certificates named `<prefix>-<i>`, recording each checkpoint write */
const renewRecording = (prefix: string, count: number) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const writes: Array<Write> = []
    // after each write, what the storage gives back (the whole state and the changes after it)
    const stored: Array<string> = []
    const recording: Storage.Service = {
      ...storage,
      saveRunCheckpoint: (checkpoint) =>
        Effect.zipRight(
          Effect.sync(() => writes.push({ append: checkpoint.append === true, length: checkpoint.json.length })),
          storage.saveRunCheckpoint(checkpoint)
        ).pipe(
          Effect.zipLeft(Effect.flatMap(storage.loadCheckpoints, (all) =>
            Effect.sync(() => stored.push(all.find((c) => c.runId === checkpoint.holder.runId)?.json ?? ""))))
        )
    }
    const certificates = Array.from({ length: count }, (_, i) => ({
      name: `${prefix}-${i}`,
      domains: [`${prefix}-${i}.example.test`],
      challenge: "http-01" as const
    }))
    const report = yield* Renewal.renew().pipe(
      Effect.provide(settingsLayer(certificates)),
      Effect.provideService(Storage.Storage, recording)
    )
    expect(report.certificates.map((c) => c.action)).toEqual(certificates.map(() => "renewed"))
    return { writes, stored }
  })

const whole = (writes: ReadonlyArray<Write>) => writes.filter((w) => !w.append)
const appended = (writes: ReadonlyArray<Write>) => writes.filter((w) => w.append)
const largest = (writes: ReadonlyArray<Write>) => Math.max(...writes.map((w) => w.length))
const total = (writes: ReadonlyArray<Write>) => writes.reduce((sum, w) => sum + w.length, 0)

layer(pipelineServices().pipe(Layer.provideMerge(Pebble.layer())), { excludeTestServices: true })(
  "checkpoints as a whole state and the changes appended to it",
  (it) => {
    it.effect("a stage appends its certificate's bucket: the size of a write does not grow with the run", () =>
      Effect.gen(function*() {
        const two = yield* renewRecording("two", 2)
        const eight = yield* renewRecording("eight", 8)

        // the whole state grows with the run ...
        expect(largest(whole(eight.writes))).toBeGreaterThan(3 * largest(whole(two.writes)))
        // ... what a certificate's stage appends does not (its bucket and the state's other fields)
        expect(appended(eight.writes).length).toBeGreaterThan(8 * 6)
        expect(largest(appended(eight.writes))).toBeLessThan(1.2 * largest(appended(two.writes)))
        // the whole state is written first, again once the changes add up to its size (at least
        // 64 KiB), and last: not after each stage
        expect(whole(eight.writes).length).toBeLessThanOrEqual(4)
        // so the bytes written per certificate stay flat (rewriting the whole state after each
        // stage wrote about four times as much per certificate for eight as for two)
        expect(total(eight.writes) / 8).toBeLessThan(1.5 * (total(two.writes) / 2))

        // after each write the stored checkpoint is the last whole state and the changes after it,
        // one per line, and decodes; the run's last checkpoint is whole again: its final state
        for (const { stored, writes } of [two, eight]) {
          expect(stored).toHaveLength(writes.length)
          stored.forEach((text, index) => {
            const lastWhole = writes.slice(0, index + 1).map((w) => w.append).lastIndexOf(false)
            expect(text.split("\n")).toHaveLength(1 + index - lastWhole)
            expect(Option.isSome(RenewalState.decode(text))).toBe(true)
          })
          expect(Math.max(...stored.map((text) => text.split("\n").length))).toBeGreaterThan(10)
          const final = stored.at(-1) ?? ""
          expect(final.split("\n")).toHaveLength(1)
          const state = Option.getOrThrow(RenewalState.decode(final))
          expect(state.phase).toBe("done")
          expect(state.buckets.map((b) => b.stage)).toEqual(state.buckets.map(() => "done"))
          // the state before the last whole one, from the whole state and the changes after it
          const before = Option.getOrThrow(RenewalState.decode(stored.at(-2) ?? ""))
          expect(before.buckets.map((b) => b.stage)).toEqual(state.buckets.map(() => "done"))
        }
      }))
  }
)

describe("RenewalState.decode of a checkpoint with changes", () => {
  const state: RenewalState.State = {
    version: 1,
    runId: "2026-12-07T10-00-00.000Z-abcd",
    startedAt: "2026-12-07T10:00:00.000Z",
    directoryUrl: "https://ca.example/dir",
    options: { force: false, dryRun: false, only: [] },
    phase: "renew",
    resumptions: 0,
    buckets: []
  }
  const { buckets: _none, ...head } = state
  const base = JSON.stringify(state)
  const change = (phase: string) => JSON.stringify({ head: { ...head, phase }, buckets: [] })

  it("applies each change in order; a last line cut short by a crash is left out", () => {
    const text = `${base}\n${change("report")}\n${change("done")}`
    expect(Option.map(RenewalState.decode(text), (s) => s.phase)).toEqual(Option.some("done"))
    expect(Option.map(RenewalState.decode(`${text}\n${change("plan").slice(0, 30)}`), (s) => s.phase)).toEqual(
      Option.some("done")
    )
    // a field the change lacks is gone (the change holds all of the state's fields but its buckets)
    const stopped = `${JSON.stringify({ ...state, stopped: "out of time" })}\n${change("done")}`
    expect(Option.map(RenewalState.decode(stopped), (s) => s.stopped)).toEqual(Option.some(undefined))
  })

  it("a damaged line before the last, or a change to a bucket that is not there, is a damaged checkpoint", () => {
    expect(RenewalState.decode(`${base}\n${change("report").slice(0, 30)}\n${change("done")}`)).toEqual(Option.none())
    const outside = JSON.stringify({ head, buckets: [[0, {}]] })
    expect(RenewalState.decode(`${base}\n${outside}`)).toEqual(Option.none())
    expect(RenewalState.decode(`${base}\n{"not":"a change"}`)).toEqual(Option.none())
  })

  it("a whole state alone decodes, indented as RenewalState.encode writes it or compact", () => {
    expect(RenewalState.decode(RenewalState.encode(state))).toEqual(Option.some(state))
    expect(RenewalState.decode(base)).toEqual(Option.some(state))
  })
})
