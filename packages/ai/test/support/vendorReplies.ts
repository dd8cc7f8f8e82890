/**
 * The vendors' wire formats, as replies of an `HttpStub` (`@acme/testing`): Anthropic's Messages API
 * (`POST /v1/messages`) and OpenAI's Responses API (`POST /v1/responses`, which is what
 * `@effect/ai-openai` calls for `generateText` / `generateObject`, without streaming).
 */
import { HttpStub } from "@acme/testing"

type Request = HttpStub.Request
type Reply = HttpStub.Reply

// -- OpenAI Responses API ---------------------------------------------------------------------------

const asRecord = HttpStub.record

/** A completed response whose only output is an assistant message with `text`, echoing the request's settings. */
export const openAiResponse = (request: Request, text: string): Reply => {
  const body = asRecord(request.json)
  return {
    status: 200,
    headers: { "openai-processing-ms": "412", "x-request-id": "req_6f1c0d2e9a" },
    json: {
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
  json: {
    error: {
      message: "Rate limit reached for gpt-4.1-mini in organization org-abc on requests per min (RPM): Limit 3, Used 3.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded"
    }
  }
}

/** The user message's text of a Responses API request. */
export const openAiUserText = (request: Request): string => {
  const input = asRecord(request.json).input
  const messages = Array.isArray(input) ? input.map(asRecord) : []
  const user = messages.find((message) => message.role === "user")
  const content = user?.content
  if (typeof content === "string") return content
  const parts = Array.isArray(content) ? content.map(asRecord) : []
  return parts.map((part) => String(part.text ?? "")).join("")
}

// -- Anthropic Messages API -------------------------------------------------------------------------

const anthropicMessage = (request: Request, content: ReadonlyArray<unknown>, stopReason: string): Reply => ({
  status: 200,
  headers: { "request-id": "req_011CTk8u2Z7Q9w3e", "anthropic-organization-id": "2b6a4d1e-0c3f-4e5a-9b7d-8f1e2a3c4b5d" },
  json: {
    id: "msg_01XFDUDYJgAACzvnptvVoYEL",
    type: "message",
    role: "assistant",
    model: String(asRecord(request.json).model),
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
export const anthropicToolUse = (request: Request, input: unknown): Reply => {
  const choice = asRecord(asRecord(request.json).tool_choice)
  return anthropicMessage(request, [
    { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: String(choice.name ?? "renewal_plan"), input }
  ], "tool_use")
}

export const anthropicText = (request: Request, text: string): Reply =>
  anthropicMessage(request, [{ type: "text", text }], "end_turn")

export const anthropicRateLimited: Reply = {
  status: 429,
  headers: { "retry-after": "20", "anthropic-ratelimit-requests-remaining": "0", "request-id": "req_011CTk9" },
  json: {
    type: "error",
    error: { type: "rate_limit_error", message: "This request would exceed the rate limit for your organization." }
  }
}

/** The user message's text of a Messages API request. */
export const anthropicUserText = (request: Request): string => {
  const messages = asRecord(request.json).messages
  const user = (Array.isArray(messages) ? messages.map(asRecord) : []).find((message) => message.role === "user")
  const content = user?.content
  if (typeof content === "string") return content
  return (Array.isArray(content) ? content.map(asRecord) : []).map((part) => String(part.text ?? "")).join("")
}
