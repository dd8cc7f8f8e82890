/**
 * What a Schema found wrong in a body, as one line in plain words: the field, what was expected and
 * what came (`status: expected one of "pending", "valid", got 42`), never the schema's own text
 * (`(parseJson <-> (Struct (Encoded side) <-> ...`).
 */
import * as ParseResult from "effect/ParseResult"

const expectedActual = /^Expected ([\s\S]+), actual ([\s\S]+)$/

/** `["challenges", 0, "type"]` as `challenges[0].type` */
const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (text, segment) =>
      typeof segment === "number" ? `${text}[${segment}]` : text.length === 0 ? String(segment) : `${text}.${String(segment)}`,
    ""
  )

/** A type as Schema describes it, in plain words. */
const plain = (expected: string): string => {
  if (expected === "string") return "a string"
  if (expected === "number") return "a number"
  if (expected === "boolean") return "true or false"
  if (/^"[^"]*"$/.test(expected)) return expected
  if (expected.startsWith("{") || expected.startsWith("Struct")) return "an object"
  if (/^(ReadonlyArray|Array)<|^readonly \[/.test(expected)) return "a list"
  return "a value of another kind"
}

const shorten = (text: string): string => (text.length > 40 ? `${text.slice(0, 37)}...` : text)

/**
 * One line for a ParseError: the first field that was wrong and what was wrong with it.
 *
 * @internal
 */
export const describeParseError = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (first === undefined) return "the body does not have the expected form"
  const at = formatPath(first.path)
  const where = at.length > 0 ? `${at}: ` : ""
  if (first._tag === "Missing") return `${where}is missing`
  if (first._tag === "Unexpected") return `${where}is not expected here`
  const same = issues.filter((issue) => formatPath(issue.path) === at)
  const parsed = same.flatMap((issue) => {
    const match = expectedActual.exec(issue.message)
    return match?.[1] !== undefined && match[2] !== undefined ? [{ expected: match[1], actual: match[2] }] : []
  })
  if (parsed.length === 0) {
    // a transformation's own message: JSON.parse's ("Unexpected token ...") or one of our filters'
    const message = first.message.replace(/\s*\n\s*/g, " ")
    return at.length === 0 && first._tag === "Transformation" ? `not JSON (${shorten(message)})` : `${where}${message}`
  }
  const all = [...new Set(parsed.flatMap(({ expected }) => expected.split(" | ")).map(plain))]
  // a union of objects tried member by member: the kind of value is what was wrong
  const kinds = all.filter((kind) => kind === "an object" || kind === "a list")
  const known = all.filter((kind) => kind !== "a value of another kind")
  const expected = kinds.length > 0 ? kinds : known.length > 0 ? known : all
  const wanted = expected.length === 1 ? expected[0] : `one of ${expected.join(", ")}`
  return `${where}expected ${wanted}, got ${shorten(parsed[0]?.actual ?? "something else")}`
}
