/**
 * DNS messages for RFC 2136 dynamic updates: encoding and decoding by `dns-packet`, TSIG (RFC 8945)
 * signing and verification with node:crypto's HMAC over `dns-packet`'s wire encoding, and the
 * exchange over UDP with a TCP fallback.
 *
 * Two things `dns-packet` lacks are filled in here, each narrowly:
 * - the class NONE (254), which an UPDATE uses to delete one record (RFC 2136 §2.5.4): the record
 *   is encoded by `dns-packet` as class IN and its 16-bit class field is then set to 254;
 * - TSIG, whose RDATA `dns-packet` only carries as bytes: the RDATA and the "TSIG variables" the
 *   MAC covers are laid out here (RFC 8945 §4.2, §4.3.3), names encoded by `dns-packet`.
 */
import * as Waits from "@acme/sdk/Waits"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import * as Dgram from "node:dgram"
import * as Net from "node:net"
import * as dnsPacket from "dns-packet"

// `dns-packet` exports its name / question / answer codecs, but @types/dns-packet does not declare
// them: declared here, as far as they are used.
declare module "dns-packet" {
  interface Codec<T> {
    encode(value: T, buf?: Buffer, offset?: number): Buffer
    decode(buf: Buffer, offset?: number): T
    encodingLength(value: T): number
  }
  interface Walker<T> extends Codec<T> {
    decode: ((buf: Buffer, offset?: number) => T) & { bytes: number }
  }
  export const name: Codec<string>
  export const question: Walker<Question>
  export const answer: Walker<Answer>
}

/** @internal */
export type TsigAlgorithm = "hmac-sha256" | "hmac-sha512"

/** @internal */
export interface TsigKey {
  /** the key's name, fully qualified (a trailing dot or not) */
  readonly name: string
  readonly algorithm: TsigAlgorithm
  /** the shared secret (decoded from named.conf's base64) */
  readonly secret: Uint8Array
}

const hashOf: Record<TsigAlgorithm, string> = { "hmac-sha256": "sha256", "hmac-sha512": "sha512" }

/** RFC 8945 §6: TSIG error codes in the TSIG record of an answer */
const tsigErrors: Record<number, string> = { 16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 22: "BADTRUNC" }

const OPCODE_UPDATE = 5
const CLASS_NONE = 254
const CLASS_ANY = 255
const FUDGE_SECONDS = 300

const canonical = (name: string): string => name.toLowerCase().replace(/\.+$/, "")
const encodeName = (name: string): Buffer => dnsPacket.name.encode(canonical(name))

/** @internal */
export interface Change {
  readonly action: "add" | "delete"
  readonly name: string
  readonly value: string
  readonly ttl: number
}

/**
 * An UPDATE message (RFC 2136 §2): zone section = the zone's SOA, no prerequisites, the changes in
 * the update section (add: class IN; delete one record: class NONE, TTL 0).
 *
 * @internal
 */
export const updateMessage = (id: number, zone: string, changes: ReadonlyArray<Change>): Buffer => {
  const questions: Array<dnsPacket.Question> = [{ name: canonical(zone), type: "SOA", class: "IN" }]
  const authorities: Array<dnsPacket.Answer> = changes.map((change) => ({
    name: canonical(change.name),
    type: "TXT",
    class: "IN",
    ttl: change.action === "add" ? change.ttl : 0,
    data: [change.value]
  }))
  const message = dnsPacket.encode({
    type: "query",
    id,
    flags: OPCODE_UPDATE << 11,
    questions,
    answers: [],
    authorities,
    additionals: []
  })
  // class NONE for deletions: dns-packet writes no compression, so each record starts where the
  // previous one's encoding ends; its class field follows the owner name and the type
  let offset = 12 + questions.reduce((sum, q) => sum + dnsPacket.question.encodingLength(q), 0)
  authorities.forEach((record, index) => {
    if (changes[index]?.action === "delete") {
      message.writeUInt16BE(CLASS_NONE, offset + dnsPacket.name.encodingLength(record.name) + 2)
    }
    offset += dnsPacket.answer.encodingLength(record)
  })
  return message
}

/**
 * A query (RD off: an authoritative server answers from its zones).
 *
 * @internal
 */
export const queryMessage = (id: number, name: string, type: dnsPacket.RecordType): Buffer =>
  dnsPacket.encode({ type: "query", id, flags: 0, questions: [{ name: canonical(name), type, class: "IN" }] })

const uint48 = (value: number): Buffer => {
  const buffer = Buffer.alloc(6)
  buffer.writeUIntBE(value, 0, 6)
  return buffer
}
const uint16 = (value: number): Buffer => {
  const buffer = Buffer.alloc(2)
  buffer.writeUInt16BE(value, 0)
  return buffer
}

/** RFC 8945 §4.3.3: the TSIG variables the MAC covers after the message */
const tsigVariables = (key: TsigKey, timeSigned: number, error: number, other: Buffer): Buffer =>
  Buffer.concat([
    encodeName(key.name),
    uint16(CLASS_ANY),
    Buffer.alloc(4), // TTL 0
    encodeName(key.algorithm),
    uint48(timeSigned),
    uint16(FUDGE_SECONDS),
    uint16(error),
    uint16(other.length),
    other
  ])

const hmac = (key: TsigKey, parts: ReadonlyArray<Buffer>): Buffer => {
  const mac = Crypto.createHmac(hashOf[key.algorithm], key.secret)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

/**
 * Signs a message: appends the TSIG record (RFC 8945 §4.2) and counts it in ARCOUNT. Returns the
 * signed message and the MAC (the answer's MAC covers it).
 *
 * @internal
 */
export const sign = (message: Buffer, key: TsigKey, timeSigned: number): { readonly wire: Buffer; readonly mac: Buffer } => {
  const mac = hmac(key, [message, tsigVariables(key, timeSigned, 0, Buffer.alloc(0))])
  const rdata = Buffer.concat([
    encodeName(key.algorithm),
    uint48(timeSigned),
    uint16(FUDGE_SECONDS),
    uint16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    uint16(0), // error
    uint16(0) // other len
  ])
  const record = dnsPacket.answer.encode({ name: canonical(key.name), type: "TSIG", class: "ANY", ttl: 0, data: rdata })
  const wire = Buffer.concat([message, record])
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10)
  return { wire, mac }
}

interface TsigRecord {
  readonly algorithm: string
  readonly timeSigned: number
  readonly mac: Buffer
  readonly originalId: number
  readonly error: number
  readonly other: Buffer
}

const parseTsigRdata = (rdata: Buffer): TsigRecord => {
  const algorithm = dnsPacket.name.decode(rdata, 0)
  let offset = dnsPacket.name.encodingLength(algorithm)
  const timeSigned = rdata.readUIntBE(offset, 6)
  offset += 8 // time signed, fudge
  const macSize = rdata.readUInt16BE(offset)
  const mac = rdata.subarray(offset + 2, offset + 2 + macSize)
  offset += 2 + macSize
  const originalId = rdata.readUInt16BE(offset)
  const error = rdata.readUInt16BE(offset + 2)
  const otherLength = rdata.readUInt16BE(offset + 4)
  return { algorithm, timeSigned, mac, originalId, error, other: rdata.subarray(offset + 6, offset + 6 + otherLength) }
}

/** @internal */
export interface Answer {
  readonly id: number
  readonly rcode: string
  readonly truncated: boolean
  readonly answers: ReadonlyArray<dnsPacket.Answer>
  readonly authorities: ReadonlyArray<dnsPacket.Answer>
  /** the TSIG record's error (BADSIG, BADKEY, BADTIME), when it carries one */
  readonly tsigError: string | undefined
  /**
   * whether the answer's TSIG verifies against the request's MAC (RFC 8945 §5.3); `undefined` when
   * the answer is unsigned (a server answering BADSIG/BADKEY, or a request that was not signed)
   */
  readonly tsigValid: boolean | undefined
}

/**
 * Decodes an answer; with `key` and the request's MAC, checks the answer's TSIG.
 *
 * @internal
 */
export const decodeAnswer = (wire: Buffer, signed?: { readonly key: TsigKey; readonly requestMac: Buffer }): Answer => {
  const packet = dnsPacket.decode(wire)
  // walk the records to find where the last one (a TSIG, if any) starts
  let offset = 12
  for (let i = 0; i < (packet.questions?.length ?? 0); i++) {
    dnsPacket.question.decode(wire, offset)
    offset += dnsPacket.question.decode.bytes
  }
  const total = (packet.answers?.length ?? 0) + (packet.authorities?.length ?? 0) + (packet.additionals?.length ?? 0)
  let lastStart = offset
  for (let i = 0; i < total; i++) {
    lastStart = offset
    dnsPacket.answer.decode(wire, offset)
    offset += dnsPacket.answer.decode.bytes
  }
  const last = packet.additionals?.at(-1)
  const tsig = last !== undefined && last.type === "TSIG" ? parseTsigRdata(last.data) : undefined
  let tsigValid: boolean | undefined = undefined
  if (tsig !== undefined && signed !== undefined && tsig.mac.length > 0) {
    // RFC 8945 §4.3.2: MAC over the request MAC (length-prefixed), the answer without its TSIG
    // record (ARCOUNT one less, the original ID), and the TSIG variables
    const unsigned = Buffer.from(wire.subarray(0, lastStart))
    unsigned.writeUInt16BE(tsig.originalId, 0)
    unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10)
    const expected = hmac(signed.key, [
      uint16(signed.requestMac.length),
      signed.requestMac,
      unsigned,
      tsigVariables(signed.key, tsig.timeSigned, tsig.error, tsig.other)
    ])
    tsigValid = canonical(tsig.algorithm) === signed.key.algorithm && expected.length === tsig.mac.length &&
      Crypto.timingSafeEqual(expected, tsig.mac)
  }
  return {
    id: packet.id ?? 0,
    // dns-packet decodes the RCODE, but @types/dns-packet does not declare the field
    rcode: (packet as { readonly rcode?: string }).rcode ?? "NOERROR",
    truncated: packet.flag_tc,
    answers: packet.answers ?? [],
    authorities: packet.authorities ?? [],
    tsigError: tsig === undefined || tsig.error === 0 ? undefined : (tsigErrors[tsig.error] ?? `error ${tsig.error}`),
    tsigValid
  }
}

/** @internal */
export type Transport = "udp" | "tcp"

const udpExchange = (host: string, port: number, message: Buffer): Effect.Effect<Buffer, Error> =>
  Effect.async<Buffer, Error>((resume) => {
    const socket = Dgram.createSocket(Net.isIPv6(host) ? "udp6" : "udp4")
    const id = message.readUInt16BE(0)
    const done = (effect: Effect.Effect<Buffer, Error>) => {
      socket.removeAllListeners()
      socket.close()
      resume(effect)
    }
    socket.on("error", (error) => done(Effect.fail(error)))
    socket.on("message", (answer) => {
      // ignore stray datagrams: only the answer to this ID counts
      if (answer.length >= 12 && answer.readUInt16BE(0) === id) done(Effect.succeed(answer))
    })
    socket.send(message, port, host, (error) => {
      if (error !== null) done(Effect.fail(error))
    })
    return Effect.sync(() => {
      socket.removeAllListeners()
      socket.close()
    })
  })

const tcpExchange = (host: string, port: number, message: Buffer): Effect.Effect<Buffer, Error> =>
  Effect.async<Buffer, Error>((resume) => {
    const socket = Net.connect({ host, port })
    let received = Buffer.alloc(0)
    const done = (effect: Effect.Effect<Buffer, Error>) => {
      socket.removeAllListeners()
      socket.destroy()
      resume(effect)
    }
    socket.on("error", (error) => done(Effect.fail(error)))
    socket.on("connect", () => socket.write(Buffer.concat([uint16(message.length), message])))
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        done(Effect.succeed(received.subarray(2, 2 + received.readUInt16BE(0))))
      }
    })
    socket.on("end", () => done(Effect.fail(new Error("the server closed the connection without an answer"))))
    return Effect.sync(() => {
      socket.removeAllListeners()
      socket.destroy()
    })
  })

/**
 * Sends `message` and returns the answer's wire. UDP first (two tries), then TCP when the answer
 * is truncated or UDP got none; `"tcp"` uses TCP only.
 *
 * @internal
 */
export const exchange = (
  server: { readonly host: string; readonly port: number },
  message: Buffer,
  options: { readonly transport: Transport; readonly timeout: Duration.Duration }
): Effect.Effect<Buffer, string> => {
  const where = `${server.host}:${server.port}`
  const overTcp = tcpExchange(server.host, server.port, message).pipe(
    Effect.timeoutFail({
      duration: options.timeout,
      onTimeout: () => new Error(`no answer over TCP within ${Duration.format(options.timeout)}`)
    }),
    Effect.mapError((error) => `${where} (TCP): ${error.message}`)
  )
  if (options.transport === "tcp") return overTcp
  return udpExchange(server.host, server.port, message).pipe(
    Effect.timeout(Duration.unsafeDivide(options.timeout, 2)),
    Effect.retry(Waits.dnsUdpRetry),
    Effect.matchEffect({
      onFailure: () => overTcp,
      onSuccess: (answer) => answer.length >= 12 && (answer.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0
        ? overTcp
        : Effect.succeed(answer)
    })
  )
}
