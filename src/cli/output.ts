import { once } from 'node:events';

/**
 * Buffers output lines into large writes and waits for `drain` when the stream is full, so printing millions of
 * rows neither floods memory nor makes one syscall per line. A closed pipe (`gridstream … | head`) ends output
 * quietly instead of crashing.
 */
export class LineWriter {
  readonly #stream: NodeJS.WritableStream;
  #buffer: string[] = [];
  #size = 0;
  #closed = false;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.#closed = true;
    });
  }

  /** False once the reader has gone away; stop producing output. */
  get open(): boolean {
    return !this.#closed;
  }

  async line(text: string): Promise<void> {
    if (this.#closed) return;
    this.#buffer.push(text);
    this.#size += text.length + 1;
    if (this.#size >= 64 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#buffer.length === 0 || this.#closed) return;
    const chunk = `${this.#buffer.join('\n')}\n`;
    this.#buffer = [];
    this.#size = 0;
    try {
      if (!this.#stream.write(chunk)) {
        await Promise.race([once(this.#stream, 'drain'), once(this.#stream, 'close')]);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      this.#closed = true;
    }
  }
}
