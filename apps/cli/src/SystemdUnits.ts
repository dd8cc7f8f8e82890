/**
 * The text of the systemd units that run `acme renew` (a hardened oneshot service and the timer that
 * starts it twice a day), and of the equivalent cron line. The one source of this text: `acme install`
 * writes it, and the Debian package (scripts/build-deb.mjs) ships it.
 *
 * Plain functions of their inputs, without Effect, so that the package build can load this module as
 * it is.
 *
 * @since 0.1.0
 */

/**
 * What the units run and may write.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the command that is `acme`: an executable, or node and the bundle (absolute paths) */
  readonly command: ReadonlyArray<string>
  /** the configuration file (an absolute path) */
  readonly config: string
  /** what `acme renew` writes: the storage folder, http-01 webroots (absolute paths) */
  readonly writable: ReadonlyArray<string>
  /** comment lines at the top of both units (without `# `) */
  readonly comment?: ReadonlyArray<string>
  /** a file of environment variables for secrets referenced as `{ env: NAME }` (may be missing) */
  readonly environmentFile?: string
}

/** a command line argument as systemd's ExecStart= and a shell both read it */
const quote = (argument: string): string =>
  /^[\w@%+=:,./-]+$/.test(argument) ? argument : `"${argument.replace(/(["\\$`])/g, "\\$1")}"`

/**
 * The command line of `acme renew` for this configuration.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renewCommand = (options: Pick<Options, "command" | "config">): string =>
  [...options.command, "renew", "--config", options.config].map(quote).join(" ")

const comments = (lines: ReadonlyArray<string> | undefined): ReadonlyArray<string> =>
  (lines ?? []).map((line) => (line.length === 0 ? "#" : `# ${line}`))

/**
 * `acme.service`: a oneshot `acme renew`, run as root (to bind ports 80/443 for its own challenge
 * servers and run deploy hooks such as `systemctl reload nginx`) with everything else taken away:
 * a read-only file system but for what it writes, a private /tmp, no new privileges.
 *
 * @since 0.1.0
 * @category rendering
 */
export const service = (options: Options): string =>
  [
    ...comments(options.comment),
    "[Unit]",
    "Description=Renew the ACME certificates that are due (acme renew)",
    "Wants=network-online.target",
    "After=network-online.target",
    `ConditionPathExists=${options.config}`,
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${renewCommand(options)}`,
    ...(options.environmentFile !== undefined
      ? ["# secrets referenced as { env: NAME } in the configuration", `EnvironmentFile=-${options.environmentFile}`]
      : []),
    "# root, so that it may bind ports 80/443 for its own challenge servers and run deploy hooks such as",
    "# `systemctl reload nginx`; everything else is taken away:",
    "ProtectSystem=strict",
    `ReadWritePaths=${options.writable.map(quote).join(" ")}`,
    "PrivateTmp=yes",
    "NoNewPrivileges=yes",
    "ProtectHome=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "UMask=0077",
    "# not MemoryDenyWriteExecute: V8's JIT compiler needs writable executable memory",
    ""
  ].join("\n")

/**
 * `acme.timer`: twice a day at a random time (Let's Encrypt asks clients to spread their checks);
 * `acme renew` renews only what is due, so running it often costs one directory request.
 *
 * @since 0.1.0
 * @category rendering
 */
export const timer = (options: Pick<Options, "comment">): string =>
  [
    ...comments(options.comment),
    "[Unit]",
    "Description=Run acme renew twice a day",
    "",
    "[Timer]",
    "OnCalendar=*-*-* 00,12:00:00",
    "RandomizedDelaySec=12h",
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    ""
  ].join("\n")

/**
 * The crontab line that does what the timer does: twice a day, at `minute` past `hour` and 12 hours
 * later (pick them at random, so that not every client asks the CA at once).
 *
 * @since 0.1.0
 * @category rendering
 */
export const cronLine = (options: Pick<Options, "command" | "config">, time: { readonly minute: number; readonly hour: number }): string =>
  `${time.minute} ${time.hour % 12},${(time.hour % 12) + 12} * * * ${renewCommand(options)}`
