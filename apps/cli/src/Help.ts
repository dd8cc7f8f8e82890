/**
 * `acme [command] --help`: the help of a command, written by us from what the commands declare
 * (@effect/cli's `getHelp` and `getUsage`), so that it
 *
 * - is plain text unless stdout is a terminal and `NO_COLOR` is unset (then only headings are bold);
 * - fits the terminal (80 columns when stdout is not one): paragraphs are wrapped, usage lines too;
 * - names the whole command (`$ acme account show ...`, not `$ show ...`);
 * - gives each option its own description, without @effect/cli's generic sentences ("A
 *   user-defined piece of text.", "A true or false value.", "This setting is optional.").
 *
 * @since 0.1.0
 */
import { type Command, type HelpDoc, Span, Usage } from "@effect/cli"
import * as CliConfig from "@effect/cli/CliConfig"
import * as CommandModule from "@effect/cli/Command"
import { Option } from "effect"

/**
 * A command in the tree help walks: its name, the command, its subcommands.
 *
 * @since 0.1.0
 * @category models
 */
export interface Node {
  readonly name: string
  /** what @effect/cli knows of the command: its description and options */
  readonly help: HelpDoc.HelpDoc
  readonly usage: Usage.Usage
  readonly children: ReadonlyArray<Node>
}

const config = CliConfig.make({ showBuiltIns: false })

/**
 * @since 0.1.0
 * @category constructors
 */
export const node = <Name extends string, R, E, A>(
  name: string,
  command: Command.Command<Name, R, E, A>,
  children: ReadonlyArray<Node> = []
): Node => ({ name, help: CommandModule.getHelp(command, config), usage: CommandModule.getUsage(command), children })

/**
 * How help is printed: colour (bold headings) or not, and the width to wrap at.
 *
 * @since 0.1.0
 * @category models
 */
export interface Style {
  readonly color: boolean
  readonly width: number
}

/**
 * The style for a stream: colour only on a terminal and without `NO_COLOR` (https://no-color.org:
 * set and not empty); the terminal's width, else 80.
 *
 * @since 0.1.0
 * @category constructors
 */
export const styleFor = (
  stream: { readonly isTTY?: boolean | undefined; readonly columns?: number | undefined },
  env: Readonly<Record<string, string | undefined>>
): Style => {
  const tty = stream.isTTY === true
  const noColor = (env["NO_COLOR"] ?? "").length > 0
  const columns = tty && stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80
  return { color: tty && !noColor, width: Math.max(40, Math.min(columns, 120)) }
}

/**
 * Whether the command line asks for help (`--help` or `-h` before a `--`).
 *
 * @since 0.1.0
 * @category parsing
 */
export const requested = (args: ReadonlyArray<string>): boolean => {
  const end = args.indexOf("--")
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h")
}

/**
 * Where a command line puts options before the command (`acme -c f status`): the same line with
 * the command first (`status -c f`), or undefined when it does not.
 *
 * @since 0.1.0
 * @category parsing
 */
export const optionsFirst = (root: Node, args: ReadonlyArray<string>): ReadonlyArray<string> | undefined => {
  if (!(args[0]?.startsWith("-") ?? false)) return undefined
  const at = args.findIndex((arg) => root.children.some((child) => child.name === arg))
  if (at <= 0) return undefined
  let end = at + 1
  // a group's subcommand goes with it: `acme -c f account show`
  const group = root.children.find((child) => child.name === args[at])
  if (group !== undefined && group.children.some((child) => child.name === args[end])) end++
  return [...args.slice(at, end), ...args.slice(0, at), ...args.slice(end)]
}

/**
 * Whether the command line names a group of commands and nothing else (`acme`, `acme account`):
 * its help is the answer.
 *
 * @since 0.1.0
 * @category parsing
 */
export const namesGroupOnly = (root: Node, args: ReadonlyArray<string>): boolean => {
  const path = resolve(root, args)
  const last = path[path.length - 1]
  return last !== undefined && last.children.length > 0 && args.length === path.length - 1
}

/**
 * The commands a command line names, from the root: `["account", "show", "--help"]` gives
 * `[acme, account, show]`. Words that name no subcommand end the walk.
 *
 * @since 0.1.0
 * @category parsing
 */
export const resolve = (root: Node, args: ReadonlyArray<string>): ReadonlyArray<Node> => {
  const path: Array<Node> = [root]
  for (const arg of args) {
    if (arg.startsWith("-")) continue
    const current = path[path.length - 1] ?? root
    const child = current.children.find((c) => c.name === arg)
    if (child === undefined) break
    path.push(child)
  }
  return path
}

// -- text -------------------------------------------------------------------------------------------

const spanText = (span: Span.Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    case "Highlight":
    case "Strong":
    case "Weak":
      return spanText(span.value)
  }
}

/** Words of `text` in lines of at most `width`, each starting with `indent` (a longer word stays whole). */
const wrap = (text: string, indent: string, width: number, hanging = indent): Array<string> => {
  const lines: Array<string> = []
  let line = indent
  let fresh = true
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (!fresh && line.length + 1 + word.length > width) {
      lines.push(line)
      line = hanging + word
    } else {
      line = fresh ? line + word : `${line} ${word}`
    }
    fresh = false
  }
  if (!fresh) lines.push(line)
  return lines
}

/** A paragraph; lines with an indentation of their own keep it (the examples: `  $ acme renew` / `      what`). */
const paragraph = (text: string, indent: string, width: number): Array<string> =>
  text.split("\n").flatMap((raw) => {
    const own = /^\s*/.exec(raw)?.[0] ?? ""
    return wrap(raw, own.length > 0 ? own : indent, width)
  })

/** @effect/cli's sentences that every option of a type gets: no description of this option. */
const generic = [
  /^A user-defined piece of text( that is confidential)?\.$/,
  /^A true or false value\.$/,
  /^An integer\.$/,
  /^This setting is optional\.$/,
  /^This option may be repeated zero or more times\.$/,
  /^This option must be repeated at least \d+ times\.$/
]

/** `--reason a | b | c` as `--reason REASON` (the values are listed below it) */
const choiceAsName = (text: string): string =>
  text.replace(/(--([\w-]+)) [\w-]+(?: \| [\w-]+)+/g, (_, flag: string, name: string) => `${flag} ${name.toUpperCase()}`)

/** `(-c, --config FILE)` as `-c, --config FILE`, `--name NAME 1+` as `--name NAME...` */
const optionTerm = (term: string): string =>
  choiceAsName(term.replace(/^\((.*)\)$/, "$1").replace(/ \d+\+$/, "..."))

/** `[(-c, --config FILE)]` in a usage line as `[--config FILE]`: the long name says more. */
const usageText = (text: string): string =>
  choiceAsName(text.replace(/\(-\w, (--[\w-]+)((?: [^()[\]]+)?)\)/g, "$1$2").replace(/ \d+\+/g, "..."))

const heading = (title: string, style: Style): string => style.color ? `\u001b[1m${title}\u001b[0m` : title

interface Section {
  readonly title: string
  readonly lines: Array<string>
}

/** The sections of a command's HelpDoc (DESCRIPTION, EXAMPLES, OPTIONS, ...), each rendered. */
const sections = (doc: HelpDoc.HelpDoc, style: Style): Array<Section> => {
  const out: Array<Section> = []
  const current = (): Section => {
    const last = out[out.length - 1]
    if (last !== undefined) return last
    const section = { title: "DESCRIPTION", lines: [] }
    out.push(section)
    return section
  }
  const block = (lines: Array<string>) => {
    const section = current()
    if (section.lines.length > 0) section.lines.push("")
    section.lines.push(...lines)
  }
  const walk = (doc: HelpDoc.HelpDoc): void => {
    switch (doc._tag) {
      case "Empty":
        return
      case "Header":
        out.push({ title: spanText(doc.value).trim(), lines: [] })
        return
      case "Paragraph":
        block(paragraph(spanText(doc.value), "  ", style.width))
        return
      case "Sequence":
        walk(doc.left)
        walk(doc.right)
        return
      case "Enumeration":
        for (const element of doc.elements) walk(element)
        return
      case "DescriptionList": {
        for (const [term, description] of doc.definitions) {
          const texts = paragraphs(description).filter((text) => !generic.some((pattern) => pattern.test(text)))
          // the option's own description first, then what @effect/cli derives (its values, its default)
          const derived = (text: string) => /^(One of the following|This setting is optional\. Defaults to): /.test(text)
          const ordered = [...texts.filter((text) => !derived(text)), ...texts.filter(derived)].map((text) =>
            text.replace(/^One of the following: /, "One of: ").replace(/^This setting is optional\. Defaults to: /, "Default: ")
          )
          block([
            ...wrap(optionTerm(spanText(term)), "  ", style.width, "      "),
            ...ordered.flatMap((text) => wrap(text, "      ", style.width))
          ])
        }
        return
      }
    }
  }
  walk(doc)
  return out
}

const paragraphs = (doc: HelpDoc.HelpDoc): Array<string> => {
  switch (doc._tag) {
    case "Paragraph":
      return [spanText(doc.value).trim()]
    case "Sequence":
      return [...paragraphs(doc.left), ...paragraphs(doc.right)]
    case "Enumeration":
      return doc.elements.flatMap(paragraphs)
    default:
      return []
  }
}

/** The first paragraph of a command's description: its line in a list of commands. */
const summaryOf = (node: Node): string => {
  const [first] = sections(node.help, { color: false, width: 10_000 })
    .filter((section) => section.title === "DESCRIPTION")
  return (first?.lines[0] ?? "").trim()
}

/**
 * The help text of the last command of `path` (from {@link resolve}).
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (path: ReadonlyArray<Node>, version: string, style: Style): string => {
  const target = path[path.length - 1]
  if (target === undefined) return ""
  const prefix = path.slice(0, -1).map((n) => n.name).join(" ")
  const own = Option.getOrElse(
    Option.fromNullable(Usage.enumerate(target.usage, config)[0]),
    () => Span.text(target.name)
  )
  const usage = target.children.length > 0
    ? `${[prefix, target.name].filter((s) => s.length > 0).join(" ")} COMMAND [options]`
    : `${prefix.length > 0 ? `${prefix} ` : ""}${usageText(spanText(own))}`
  const parts = sections(target.help, style)
    // a group's own list of commands is written below, one line each
    .filter((section) => section.title !== "COMMANDS")
  if (target.children.length > 0) {
    const nameWidth = Math.max(...target.children.map((child) => child.name.length)) + 2
    parts.push({
      title: "COMMANDS",
      lines: target.children.flatMap((child) => {
        const [first = "", ...rest] = wrap(summaryOf(child), " ".repeat(2 + nameWidth), style.width)
        return [`  ${child.name.padEnd(nameWidth)}${first.trimStart()}`, ...rest]
      })
    })
  }
  const text = [
    `${path.map((n) => n.name).join(" ")} ${version}`,
    "",
    heading("USAGE", style),
    ...wrap(`$ ${usage}`, "  ", style.width, "      "),
    ...parts.flatMap((section) => ["", heading(section.title, style), ...section.lines])
  ]
  return `${text.join("\n")}\n`
}
