// A simulated Bambu Lab printer for the browser tests: the monitor crate's example
// `simulated_bambu --control` (a Mosquitto with a TLS listener playing the printer's broker, on
// loopback, and a P1 that publishes on it), driven line by line over its standard input.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { REPO_ROOT } from './harness.mjs';

/** SIMULATED_BAMBU_BIN, else the debug example of CARGO_TARGET_DIR (as `just test-browser` builds it), else target/. */
export function simulatorBinary() {
  if (process.env.SIMULATED_BAMBU_BIN) return path.resolve(process.env.SIMULATED_BAMBU_BIN);
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(REPO_ROOT, 'target');
  return path.join(targetDir, 'debug', 'examples', 'simulated_bambu');
}

/**
 * Starts the printer. Returns `{ host, port, serial, access_code, send, stop }`: `send('start
 * Benchy.gcode.3mf Benchy')` resolves once the report is published; `stop()` ends it and its
 * Mosquitto (closing its standard input; it also ends when this process does).
 */
export async function startSimulatedBambu() {
  const bin = simulatorBinary();
  if (!existsSync(bin)) {
    throw new Error(`simulated_bambu not found at ${bin}; build it (cargo build -p printdesk-monitor --features simulator --example simulated_bambu) or set SIMULATED_BAMBU_BIN`);
  }
  const child = spawn(bin, ['--control'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (d) => { errors += d; });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  const early = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line); else early.push(line);
  });
  let exited = null;
  const gone = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(); }));
  const nextLine = (what) => new Promise((resolve, reject) => {
    if (early.length) { resolve(early.shift()); return; }
    const timer = setTimeout(() => reject(new Error(`simulated_bambu: no answer to ${what} within 20 s\n${errors}`)), 20000);
    waiting.push((line) => { clearTimeout(timer); resolve(line); });
    gone.then(() => { clearTimeout(timer); reject(new Error(`simulated_bambu exited (${JSON.stringify(exited)}):\n${errors}`)); });
  });

  const ready = JSON.parse(await nextLine('start-up'));
  let queue = Promise.resolve();
  /** One command; resolves when the simulator says `ok`. Commands run one after another. */
  function send(command) {
    const done = queue.then(async () => {
      child.stdin.write(`${command}\n`);
      const answer = await nextLine(command);
      if (answer !== 'ok') throw new Error(`simulated_bambu: ${command}: ${answer}`);
    });
    queue = done.catch(() => {});
    return done;
  }
  async function stop() {
    if (exited) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  return { ...ready, send, stop };
}
