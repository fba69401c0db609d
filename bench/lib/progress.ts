/**
 * A progress bar on one line of stderr, redrawn in place (`\r`), while rows run: rows done of all,
 * time elapsed, the current row and its run. Only when stderr is a terminal; otherwise silent (the
 * runner prints one line per row on stdout anyway). No dependency.
 */

const WIDTH = 24;

export class Progress {
  readonly #enabled: boolean;
  readonly #total: number;
  readonly #start = Date.now();
  #done = 0;
  #label = '';
  #detail = '';
  #timer: NodeJS.Timeout | undefined;
  #shown = false;

  constructor(totalRows: number, enabled = process.stderr.isTTY === true) {
    this.#total = totalRows;
    this.#enabled = enabled;
    if (enabled) {
      this.#timer = setInterval(() => this.#draw(), 500);
      this.#timer.unref();
    }
  }

  /** A row starts. */
  row(label: string): void {
    this.#label = label;
    this.#detail = 'warm-up';
    this.#draw();
  }

  /** Where the row is (e.g. `run 2/5`). */
  detail(text: string): void {
    this.#detail = text;
    this.#draw();
  }

  /** The row is done. */
  rowDone(): void {
    this.#done++;
    this.#draw();
  }

  /** Clears the bar so a normal line can be printed; the next update draws it again. */
  clear(): void {
    if (this.#enabled && this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }

  stop(): void {
    this.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  #draw(): void {
    if (!this.#enabled) return;
    const fraction = this.#total === 0 ? 1 : this.#done / this.#total;
    const filled = Math.round(fraction * WIDTH);
    const seconds = Math.floor((Date.now() - this.#start) / 1000);
    const elapsed = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
    const bar = `[${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}] ${this.#done}/${this.#total} rows ${elapsed}`;
    const columns = process.stderr.columns > 20 ? process.stderr.columns : 120;
    let line = `${bar}  ${this.#label} · ${this.#detail}`;
    if (line.length > columns - 1) line = `${line.slice(0, Math.max(0, columns - 2))}…`;
    process.stderr.write(`\r\x1b[K${line}`);
    this.#shown = true;
  }
}
