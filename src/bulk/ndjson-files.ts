// NDJSON output files of one type, split at a line count: `Patient-1.ndjson`, `Patient-2.ndjson`…
// Lines are appended a page at a time and the writer waits for the disk (drain), so an
// export holds one page in memory whatever its size.
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';

export interface OutputFile {
  /** the resource type of its lines (OperationOutcome for the error file) */
  type: string;
  /** its name in the job's folder, also the last segment of its URL */
  name: string;
  count: number;
}

export class NdjsonFiles {
  private readonly dir: string;
  private readonly type: string;
  private readonly maxLines: number;
  /** files an earlier run of the same job wrote (a resumed import's error files) */
  private readonly before: number;
  private stream: WriteStream | undefined;
  private current: OutputFile | undefined;
  readonly files: OutputFile[] = [];

  constructor(dir: string, type: string, maxLines: number, before = 0) {
    this.dir = dir;
    this.type = type;
    this.maxLines = maxLines;
    this.before = before;
  }

  /** Appends lines (each one JSON text without a newline). */
  async write(lines: string[]): Promise<void> {
    let i = 0;
    while (i < lines.length) {
      if (!this.current || this.current.count >= this.maxLines) await this.next();
      const take = Math.min(lines.length - i, this.maxLines - this.current!.count);
      const text = `${lines.slice(i, i + take).join('\n')}\n`;
      this.current!.count += take;
      i += take;
      if (!this.stream!.write(text)) await once(this.stream!, 'drain');
    }
  }

  private async next(): Promise<void> {
    await this.closeStream();
    this.current = { type: this.type, name: `${this.type}-${this.before + this.files.length + 1}.ndjson`, count: 0 };
    this.files.push(this.current);
    this.stream = createWriteStream(join(this.dir, this.current.name), { flags: 'w' });
    await once(this.stream, 'open');
  }

  private async closeStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (!s) return;
    s.end();
    await once(s, 'finish');
  }

  /** Flushes and closes the last file; returns every file written. */
  async close(): Promise<OutputFile[]> {
    await this.closeStream();
    return this.files;
  }
}
