/**
 * Local HTTP servers that speak the vendors' wire formats: Anthropic's Messages API
 * (`POST /v1/messages`) and OpenAI's Responses API (`POST /v1/responses`, which is what
 * `@effect/ai-openai` calls for `generateText` / `generateObject`, without streaming). Each request is
 * recorded (method, path, headers, parsed JSON body) and answered by a script.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Ref } from "effect"

export interface Recorded {
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly raw: string
  readonly body: unknown
}

export type Reply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body: unknown }
  | { readonly status: number; readonly headers?: Record<string, string>; readonly text: string }
  | "hang"

export interface Server {
  readonly url: string
  readonly requests: Effect.Effect<ReadonlyArray<Recorded>>
}

/** A server on a free loopback port, closed (with every connection, hanging ones too) with the scope. */
export const start = (script: (request: Recorded, index: number) => Reply) =>
  Effect.gen(function*() {
    const log = yield* Ref.make<ReadonlyArray<Recorded>>([])
    const runSync = Effect.runSync
    const server = http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8")
        let body: unknown = undefined
        try {
          body = raw.length > 0 ? JSON.parse(raw) : undefined
        } catch {
          body = undefined
        }
        const recorded: Recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, raw, body }
        const index = runSync(Ref.modify(log, (all) => [all.length, [...all, recorded]]))
        const reply = script(recorded, index)
        if (reply === "hang") return
        const payload = "text" in reply ? reply.text : JSON.stringify(reply.body)
        res.writeHead(reply.status, {
          "content-type": "text" in reply ? "text/html" : "application/json",
          ...reply.headers
        })
        res.end(payload)
      })
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    // a server listening on a TCP port has an AddressInfo address (a string only for pipes)
    const { port } = server.address() as AddressInfo
    return { url: `http://127.0.0.1:${port}`, requests: Ref.get(log) } satisfies Server
  })

// -- OpenAI Responses API ---------------------------------------------------------------------------

/** A JSON object's members (a non-object is taken as none); the cast is checked by the typeof. */
export const asRecord = (u: unknown): Record<string, unknown> =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : {}

/** A completed response whose only output is an assistant message with `text`, echoing the request's settings. */
export const openAiResponse = (request: Recorded, text: string): Reply => {
  const body = asRecord(request.body)
  return {
    status: 200,
    headers: { "openai-processing-ms": "412", "x-request-id": "req_6f1c0d2e9a" },
    body: {
      id: "resp_68a1c3f2d0b48190a5e7f3c1b2d4e6f8",
      object: "response",
      created_at: 1763899200,
      status: "completed",
      background: false,
      error: null,
      incomplete_details: null,
      instructions: null,
      max_output_tokens: null,
      max_tool_calls: null,
      model: `${String(body.model)}-2025-04-14`,
      output: [
        {
          id: "msg_68a1c3f3a1e08190b7c2d9e4f1a3b5c7",
          type: "message",
          status: "completed",
          content: [{ type: "output_text", annotations: [], logprobs: [], text }],
          role: "assistant"
        }
      ],
      parallel_tool_calls: true,
      previous_response_id: null,
      prompt_cache_key: null,
      reasoning: { effort: null, summary: null },
      safety_identifier: null,
      service_tier: "default",
      store: true,
      temperature: 1,
      text: body.text ?? { format: { type: "text" }, verbosity: "medium" },
      tool_choice: "auto",
      tools: [],
      top_logprobs: 0,
      top_p: 1,
      truncation: "disabled",
      usage: {
        input_tokens: 812,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 96,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 908
      },
      user: null,
      metadata: {}
    }
  }
}

export const openAiRateLimited: Reply = {
  status: 429,
  headers: { "retry-after": "20", "x-ratelimit-remaining-requests": "0", "x-request-id": "req_1b2c3d" },
  body: {
    error: {
      message: "Rate limit reached for gpt-4.1-mini in organization org-abc on requests per min (RPM): Limit 3, Used 3.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded"
    }
  }
}

/** The user message's text of a Responses API request. */
export const openAiUserText = (request: Recorded): string => {
  const input = asRecord(request.body).input
  const messages = Array.isArray(input) ? input.map(asRecord) : []
  const user = messages.find((message) => message.role === "user")
  const content = user?.content
  if (typeof content === "string") return content
  const parts = Array.isArray(content) ? content.map(asRecord) : []
  return parts.map((part) => String(part.text ?? "")).join("")
}

// -- Anthropic Messages API -------------------------------------------------------------------------

const anthropicMessage = (request: Recorded, content: ReadonlyArray<unknown>, stopReason: string): Reply => ({
  status: 200,
  headers: { "request-id": "req_011CTk8u2Z7Q9w3e", "anthropic-organization-id": "2b6a4d1e-0c3f-4e5a-9b7d-8f1e2a3c4b5d" },
  body: {
    id: "msg_01XFDUDYJgAACzvnptvVoYEL",
    type: "message",
    role: "assistant",
    model: String(asRecord(request.body).model),
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: 1024,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 118,
      service_tier: "standard"
    }
  }
})

/** The forced tool call `@effect/ai-anthropic` asks for with `generateObject`, carrying `input`. */
export const anthropicToolUse = (request: Recorded, input: unknown): Reply => {
  const choice = asRecord(asRecord(request.body).tool_choice)
  return anthropicMessage(request, [
    { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: String(choice.name ?? "renewal_plan"), input }
  ], "tool_use")
}

export const anthropicText = (request: Recorded, text: string): Reply =>
  anthropicMessage(request, [{ type: "text", text }], "end_turn")

export const anthropicRateLimited: Reply = {
  status: 429,
  headers: { "retry-after": "20", "anthropic-ratelimit-requests-remaining": "0", "request-id": "req_011CTk9" },
  body: {
    type: "error",
    error: { type: "rate_limit_error", message: "This request would exceed the rate limit for your organization." }
  }
}

/** The user message's text of a Messages API request. */
export const anthropicUserText = (request: Recorded): string => {
  const messages = asRecord(request.body).messages
  const user = (Array.isArray(messages) ? messages.map(asRecord) : []).find((message) => message.role === "user")
  const content = user?.content
  if (typeof content === "string") return content
  return (Array.isArray(content) ? content.map(asRecord) : []).map((part) => String(part.text ?? "")).join("")
}
