/** A throwaway project folder for the LSP tests: a few source files, deep folders, a sparse big file. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Project {
  dir: string;
  /** Writes `name` (a manifest) into the project and returns its path. */
  manifest(name: string, text: string): string;
  cleanup(): void;
}

export function makeProject(): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'df-lsp-'));
  const write = (rel: string, content: string | Buffer) => {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  };
  write('content/README.md', '# hello\n'); // 8 bytes
  write('content/photos/one.jpg', Buffer.alloc(1000, 1));
  write('content/photos/two.jpg', Buffer.alloc(2000, 2));
  write('content/photos/more/three.jpg', Buffer.alloc(3000, 3));
  write('content/docs/a.txt', 'a\n');
  write('content/docs/b.txt', 'bb\n');
  write('content/.hidden', 'secret\n');
  write('deep/a/b/c/d/e/f/g/h/i/leaf.txt', 'leaf\n');
  // 800 MiB, sparse: planning only stats it; more than a CD-R holds.
  fs.mkdirSync(path.join(dir, 'big'), { recursive: true });
  const fd = fs.openSync(path.join(dir, 'big', 'huge.bin'), 'w');
  fs.ftruncateSync(fd, 800 * 1024 * 1024);
  fs.closeSync(fd);
  return {
    dir,
    manifest(name, text) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
