// Native diagnostics out of the user's terminal. Dawn (the `webgpu` package), Mesa and the Vulkan
// loader print straight to the process's stderr from native code, where JavaScript cannot catch them:
// "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced…" on llvmpipe, and on a
// machine with libvulkan1 but no GPU a Vulkan warning with a native stack line and Mesa's
// "error: XDG_RUNTIME_DIR is invalid…". They are not failures, but read as such. So the CLI and the
// example run their work in a child process whose stderr passes through `NoiseFilter`, which drops
// exactly those messages and keeps everything else (real errors included); `npm test` runs vitest
// the same way (scripts/quiet.ts). VOXGPU_VERBOSE=1 runs in-process and shows everything.
import { spawn } from 'node:child_process';
import { isatty, WriteStream } from 'node:tty';

/** First lines of the native messages dropped; a dropped Dawn warning takes its continuation lines with it. */
const noise: readonly RegExp[] = [
  // Dawn on OpenGL (llvmpipe): limits it lowers for every adapter.
  /^Warning: max\w+ artificially reduced from \d+ to \d+/,
  // Dawn probing Vulkan for a GPU: no driver, or one Dawn cannot use (lavapipe, SwiftShader without features).
  /^Warning: Couldn't load Vulkan/,
  /^Warning: vkCreateInstance/,
  /^Warning: Vulkan .* required\.?$/,
  /^Warning: .*VK_ERROR_\w+/,
  // libwayland, loaded by Mesa's Vulkan driver on a machine without a session.
  /^error: XDG_RUNTIME_DIR (is invalid or )?not set in the environment\.?$/,
];

/**
 * Continuation lines of a Dawn warning: " - While initializing adapter …", "    at Func (file.cpp:12)", and the blank line
 * closing it.
 */
const continuation = /^( - |\s+at |\s*$)/;

/** Whether a line might still grow into one of the dropped messages (a partial line is held until it ends). */
const maybeNoise = (partial: string): boolean => ['Warning: ', 'error: XDG'].some((p) => partial.startsWith(p) || p.startsWith(partial));

/** A line filter over stderr text: push() returns what to print now; end() what is left. */
export class NoiseFilter {
  private partial = '';
  private dropping = false;

  push(chunk: string): string {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    let out = '';
    for (const line of lines) if (this.keep(line)) out += `${line}\n`;
    // A partial line that cannot be noise goes out at once (a prompt, a progress line).
    if (this.partial !== '' && !this.dropping && !maybeNoise(this.partial)) {
      out += this.partial;
      this.partial = '';
    }
    return out;
  }

  end(): string {
    const rest = this.partial;
    this.partial = '';
    return rest !== '' && this.keep(rest) ? rest : '';
  }

  private keep(line: string): boolean {
    if (this.dropping && continuation.test(line)) return false;
    this.dropping = noise.some((r) => r.test(line));
    return !this.dropping;
  }
}

/** VOXGPU_VERBOSE=1 (or true, yes): show the native diagnostics. */
export function isVerbose(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.VOXGPU_VERBOSE ?? '');
}

/** Set for the filtered child of runWithQuietStderr(): its fd 3 is the terminal's stderr, for output that wants a terminal. */
const childMark = 'VOXGPU_FILTERED_STDERR';
/** Whether this process is that child. Read once and removed, so that a process it starts (a CLI run by a test) filters its own stderr. */
const isFilteredChild = process.env[childMark] === '1';
delete process.env[childMark];

/**
 * Runs `command` with this process's stdin and stdout, its stderr through NoiseFilter, and ends this
 * process with its status. `terminalFd3`: hand the child the terminal's stderr as fd 3 (see terminalStderr()).
 */
export function runFiltered(command: string, args: readonly string[], terminalFd3 = false): void {
  const child = spawn(command, args, {
    stdio: terminalFd3 ? ['inherit', 'inherit', 'pipe', process.stderr] : ['inherit', 'inherit', 'pipe'],
    env: terminalFd3 ? { ...process.env, [childMark]: '1' } : process.env,
  });
  const filter = new NoiseFilter();
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => process.stderr.write(filter.push(chunk)));
  child.stderr!.on('end', () => process.stderr.write(filter.end()));
  // Ctrl-C reaches the child from the terminal; a signal sent to this process alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('close', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    process.exit(code ?? 1);
  });
  child.on('error', (e) => {
    process.stderr.write(`voxgpu: error: could not start ${command}: ${e.message}\n`);
    process.exit(1);
  });
}

/**
 * Runs this script again, in a child whose stderr goes through NoiseFilter, and ends this process
 * with the child's status; returns true then (the caller does nothing more). Returns false, and the
 * caller does its work here, when verbose or when this already is the child.
 */
export function runWithQuietStderr(): boolean {
  if (isVerbose() || isFilteredChild) return false;
  runFiltered(process.execPath, [...process.execArgv, ...process.argv.slice(1)], true);
  return true;
}

let terminal: NodeJS.WriteStream | undefined;

/**
 * Where a progress bar goes: the terminal's stderr, which the filtered child reaches on fd 3 (its own
 * stderr is a pipe, so a bar written there would lose its terminal), else this process's stderr.
 */
export function terminalStderr(): NodeJS.WriteStream {
  if (!terminal) terminal = isFilteredChild && isatty(3) ? new WriteStream(3) : process.stderr;
  return terminal;
}
