/**
 * The status page at `/`: one server-rendered HTML page (no script) with a card per certificate:
 * its names, days left as a bar, the next renewal and why, and the last result and error. It needs
 * a `read` key unless `server.publicStatus: true`: a login form (`POST /login`) keeps the key in a
 * session cookie (`HttpOnly`, `SameSite=Strict`), `POST /logout` forgets it.
 *
 * @since 0.1.0
 */
import type { ServiceRecords, Status } from "@acme/sdk"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Auth from "./Auth.js"
import type { AuthThrottle } from "./AuthThrottle.js"
import { Current } from "./Environment.js"
import type * as Problem from "./Problem.js"
import * as Snapshot from "./Snapshot.js"

/**
 * Text made safe to put into HTML.
 *
 * @since 0.1.0
 * @category rendering
 */
export const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c] ?? c)

/**
 * What happened last to a certificate, from the stored tasks.
 *
 * @since 0.1.0
 * @category models
 */
export interface LastOutcome {
  readonly result?: { readonly action: string; readonly at: string } | undefined
  readonly error?: { readonly message: string; readonly at: string } | undefined
}

/**
 * The last renewal or revocation of each certificate (a skip is not one), and its last error.
 *
 * @since 0.1.0
 * @category combinators
 */
export const lastOutcomes = (tasks: ReadonlyArray<ServiceRecords.Task>): ReadonlyMap<string, LastOutcome> => {
  const outcomes = new Map<string, LastOutcome>()
  for (const task of tasks) {
    const at = task.finishedAt ?? task.createdAt
    for (const certificate of task.result?.certificates ?? []) {
      if (certificate.action === "skipped") continue
      const previous = outcomes.get(certificate.name) ?? {}
      outcomes.set(certificate.name, {
        result: { action: certificate.action, at },
        error: certificate.action === "failed" ? { message: certificate.reason, at } : previous.error
      })
    }
  }
  return outcomes
}

const style = `
*{box-sizing:border-box}body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1c1e21}
header{background:#1f2937;color:#fff;padding:12px 16px;display:flex;justify-content:space-between;align-items:center;gap:8px;flex-wrap:wrap}
header h1{font-size:18px;margin:0}header a,header button{color:#cbd5e1;font:inherit;background:none;border:0;cursor:pointer;padding:0}
main{max-width:960px;margin:0 auto;padding:12px;display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(280px,1fr))}
.card{background:#fff;border-radius:8px;padding:14px;box-shadow:0 1px 2px rgba(0,0,0,.12)}.card h2{font-size:17px;margin:0 0 2px}
.domains{color:#555;font-size:14px;word-break:break-all}.bar{height:10px;border-radius:5px;background:#e5e7eb;margin:10px 0 4px;overflow:hidden}
.bar span{display:block;height:100%}.ok{background:#16a34a}.soon{background:#f59e0b}.late{background:#dc2626}
dl{margin:8px 0 0;display:grid;grid-template-columns:auto 1fr;gap:2px 10px;font-size:14px}dt{color:#666}dd{margin:0;word-break:break-word}
.error{color:#b91c1c}.meta{grid-column:1/-1;color:#555;font-size:14px}form.login{max-width:360px;margin:40px auto;background:#fff;padding:20px;border-radius:8px}
form.login input{width:100%;font:inherit;padding:8px;margin:8px 0}form.login button{font:inherit;padding:8px 14px}`

const page = (title: string, header: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<title>${escape(title)}</title><style>${style}</style></head><body><header>${header}</header>${body}</body></html>`

const daysLeftClass = (days: number, revoked: boolean) => revoked || days < 7 ? "late" : days < 30 ? "soon" : "ok"

/** `2026-11-23 14:00 UTC` */
const short = (iso: string): string => `${iso.replace("T", " ").slice(0, 16)} UTC`

const card = (certificate: Status.CertificateStatus, outcome: LastOutcome | undefined): string => {
  const days = certificate.daysLeft
  const bar = days === undefined
    ? `<div class="bar"><span style="width:0"></span></div><div>no certificate yet</div>`
    : `<div class="bar" role="img" aria-label="${days} days left"><span class="${daysLeftClass(days, certificate.revokedAt !== undefined)}" style="width:${
      Math.max(2, Math.min(100, Math.round((days / 90) * 100)))
    }%"></span></div><div class="days"><strong>${days}</strong> days left${
      certificate.notAfter === undefined ? "" : ` (until ${escape(certificate.notAfter.slice(0, 10))})`
    }</div>`
  const next = certificate.next.action === "renew now"
    ? "now"
    : certificate.next.at === undefined
    ? "later"
    : escape(short(certificate.next.at))
  const rows = [
    ["Next renewal", `${next} <span class="meta">— ${escape(certificate.next.reason)}</span>`],
    ["Serial", certificate.serial === undefined ? "—" : `<code>${escape(certificate.serial)}</code>`],
    ...(certificate.revokedAt === undefined ? [] : [["Revoked", `<span class="error">${escape(short(certificate.revokedAt))}</span>`]]),
    ["Last result", outcome?.result === undefined ? "—" : `${escape(outcome.result.action)} (${escape(short(outcome.result.at))})`],
    ...(outcome?.error === undefined ? [] : [[
      "Last error",
      `<span class="error">${escape(outcome.error.message)}</span> (${escape(short(outcome.error.at))})`
    ]])
  ]
  return `<section class="card" data-certificate="${escape(certificate.name)}"><h2>${escape(certificate.name)}</h2>` +
    `<div class="domains">${certificate.domains.map(escape).join(", ")}</div>${bar}<dl>${
      rows.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join("")
    }</dl></section>`
}

/**
 * The page of a status report.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (
  report: Status.Report,
  outcomes: ReadonlyMap<string, LastOutcome>,
  options: { readonly now: string; readonly loggedIn: boolean }
): string =>
  page(
    "ACME certificates",
    `<h1>ACME certificates</h1><div>${
      report.caReachable ? "" : `<span class="error">CA not reachable</span> · `
    }<a href="/v1/docs">API</a>${
      options.loggedIn ? ` · <form method="post" action="/logout" style="display:inline"><button>Log out</button></form>` : ""
    }</div>`,
    `<main>${report.certificates.map((c) => card(c, outcomes.get(c.name))).join("")}<p class="meta">${
      report.certificates.length
    } certificates · CA ${escape(report.directoryUrl)} · as of ${escape(options.now)}</p></main>`
  )

const loginPage = (message: string | undefined): string =>
  page(
    "acme serve: log in",
    "<h1>ACME certificates</h1>",
    `<form class="login" method="post" action="/login"><label for="key">API key (read or write)</label>` +
      `<input id="key" name="key" type="password" autocomplete="current-password" required>` +
      (message === undefined ? "" : `<p class="error">${escape(message)}</p>`) +
      `<button type="submit">Show the certificates</button></form>`
  )

const html = (body: string, status = 200) => HttpServerResponse.html(body).pipe(HttpServerResponse.setStatus(status))

const login = (problem: Problem.Problem) =>
  html(loginPage(problem.detail), problem.status === 429 ? 429 : 401).pipe(
    HttpServerResponse.setHeaders(problem.retryAfter === undefined ? {} : { "retry-after": String(problem.retryAfter) })
  )

const cookieOptions = { httpOnly: true, sameSite: "strict", path: "/", maxAge: "12 hours" } as const

const show = Effect.gen(function*() {
  const current = yield* Current
  const active = yield* current.get
  const request = yield* HttpServerRequest.HttpServerRequest
  const key = Auth.presentedKey(request, { cookie: true })
  if (!active.server.publicStatus) {
    const caller = yield* Effect.either(Auth.authenticate(key, { scope: "read", from: Auth.address(request) }))
    if (caller._tag === "Left") {
      if (Option.isNone(key)) return html(loginPage(undefined), 401)
      return login(caller.left).pipe(HttpServerResponse.expireCookie(Auth.sessionCookie, { path: "/" }))
    }
  }
  const report = yield* Snapshot.status
  const tasks = yield* active.records.listTasks
  const now = DateTime.formatIso(yield* DateTime.now)
  return html(render(report, lastOutcomes(tasks), { now, loggedIn: Option.isSome(key) && !active.server.publicStatus }))
})

const submitLogin = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const form = yield* request.urlParamsBody.pipe(Effect.orElseSucceed(() => []))
  const key = form.find(([name]) => name === "key")?.[1]?.trim() ?? ""
  const presented = key.length > 0 ? Option.some(Redacted.make(key)) : Option.none()
  const caller = yield* Effect.either(Auth.authenticate(presented, { scope: "read", from: Auth.address(request) }))
  if (caller._tag === "Left") return login(caller.left)
  return HttpServerResponse.empty({ status: 303, headers: { location: "/" } }).pipe(
    HttpServerResponse.unsafeSetCookie(Auth.sessionCookie, key, cookieOptions)
  )
})

const logout = Effect.succeed(
  HttpServerResponse.empty({ status: 303, headers: { location: "/" } }).pipe(
    HttpServerResponse.expireCookie(Auth.sessionCookie, { path: "/" })
  )
)

/**
 * The routes `/`, `/login` and `/logout`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Current | AuthThrottle> = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<Current | AuthThrottle>()
    const failed = (error: { readonly message: string }) =>
      Effect.as(Effect.logError(`status page: ${error.message}`), html(page("error", "<h1>error</h1>", "<main>the status cannot be read; see the server log</main>"), 500))
    yield* router.get("/", show.pipe(Effect.catchAll(failed), Effect.provide(context)))
    yield* router.post("/login", submitLogin.pipe(Effect.provide(context)))
    yield* router.post("/logout", logout)
  })
)
