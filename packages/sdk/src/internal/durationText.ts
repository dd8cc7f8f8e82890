/**
 * Durations as people write them in a configuration file.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const unitMillis: { readonly [unit: string]: number } = {
  milli: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000
}

/**
 * A duration as people write it: `"90 seconds"`, `"1 hour"`, `"2 days"`, or a number of seconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DurationText = Schema.transformOrFail(
  Schema.Union(Schema.String, Schema.Number),
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (input, _, ast) => {
      const text = (typeof input === "number" ? `${input} seconds` : input.trim()).replace(/s$/, "")
      const match = /^(\d+(?:\.\d+)?)\s*(milli|second|minute|hour|day|week)$/.exec(text)
      const unit = match?.[2] !== undefined ? unitMillis[match[2]] : undefined
      return match !== null && unit !== undefined
        ? ParseResult.succeed(Duration.millis(Number(match[1]) * unit))
        : ParseResult.fail(
          new ParseResult.Type(ast, input, `"${input}" is not a duration; write e.g. "90 seconds", "10 minutes", "1 hour"`)
        )
    },
    encode: (duration) => ParseResult.succeed(`${Duration.toSeconds(duration)} seconds`)
  }
)
