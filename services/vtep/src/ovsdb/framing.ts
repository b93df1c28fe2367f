/**
 * OVSDB's wire format (RFC 7047 §4): JSON-RPC 1.0 messages written back to
 * back on a stream, with no length prefix or delimiter. `JsonSplitter` cuts
 * the byte stream into whole top-level JSON texts by tracking nesting and
 * strings, so a message split across reads (or several in one read) parses.
 */

/** Refuse a message larger than this: a peer that never closes its object must not grow our memory without bound. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export class OvsdbFramingError extends Error {
  override readonly name = 'OvsdbFramingError';
}

export class JsonSplitter {
  private buf = '';
  /** Where scanning resumes in `buf` (everything before it is scanned). */
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;

  /** Feed one chunk; returns the complete JSON texts it finished, parsed. */
  push(chunk: string): unknown[] {
    this.buf += chunk;
    const out: unknown[] = [];
    for (; this.pos < this.buf.length; this.pos++) {
      const c = this.buf[this.pos];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') {
        if (this.depth === 0) this.start = this.pos;
        this.depth++;
      } else if (c === '}' || c === ']') {
        if (this.depth === 0) throw new OvsdbFramingError(`unexpected '${c}' outside a message`);
        if (--this.depth === 0) {
          out.push(JSON.parse(this.buf.slice(this.start, this.pos + 1)));
          this.buf = this.buf.slice(this.pos + 1);
          this.pos = -1;
          this.start = -1;
        }
      } else if (this.depth === 0 && !/\s/.test(c ?? '')) {
        throw new OvsdbFramingError(`unexpected '${c}' outside a message`);
      }
    }
    if (this.buf.length > MAX_MESSAGE_BYTES) throw new OvsdbFramingError(`message larger than ${MAX_MESSAGE_BYTES} bytes`);
    return out;
  }
}
