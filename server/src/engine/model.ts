/**
 * The resolved disc tree: what the manifest asks to put where, independent of any file system's naming
 * rules. Every node remembers the manifest entry that produced it, so later checks (name mapping, depth,
 * capacity) can point at the right place in the manifest.
 */
import type { JsonPath } from './manifest/load';
import type { Sink } from './image/sink';

interface NodeBase {
  /** The name as the user wrote it / as it is on disk (any Unicode). */
  name: string;
  parent: DirNode | undefined;
  /** POSIX permission bits (and setuid/setgid/sticky), without the file type. */
  mode: number;
  /** Modification time in ms since the epoch (the source's, or the directory entry's creation). */
  mtimeMs: number;
  /** The manifest node responsible for this node (for diagnostics). */
  origin: JsonPath;
}

export interface DirNode extends NodeBase {
  kind: 'dir';
  children: Map<string, TreeNode>;
}

export interface FileNode extends NodeBase {
  kind: 'file';
  /** Absolute path of the source file; its data is streamed from there at write time. */
  source: string;
  size: number;
  /**
   * Data already recorded on the disc (a file imported from an earlier session of a multisession disc): the
   * new session's directory records point at these absolute extents and nothing is written for the file.
   */
  recorded?: { lba: number; length: number }[];
  /**
   * Data made by DiscForge instead of read from `source` (an El Torito boot catalog, a generated EFI system
   * partition): writes exactly `size` bytes when the image is written, after planning (every address known).
   */
  generate?: (sink: Sink) => Promise<void> | void;
  /**
   * Changes made to the source's bytes as they are written (the boot info table of an El Torito boot image):
   * the file is read whole (boot images are small), patched in memory, then written. Runs after planning.
   */
  patch?: (data: Buffer) => void;
}

export interface SymlinkNode extends NodeBase {
  kind: 'symlink';
  /** The link's target, as stored (Rock Ridge SL). */
  target: string;
}

export type TreeNode = DirNode | FileNode | SymlinkNode;

export function pathOf(node: TreeNode): string {
  const parts: string[] = [];
  for (let n: TreeNode | undefined = node; n?.parent; n = n.parent) parts.push(n.name);
  return '/' + parts.reverse().join('/');
}

/** Children in a stable order (UTF-16 code unit order of names), independent of readdir order. */
export function sortedChildren(dir: DirNode): TreeNode[] {
  return [...dir.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface TreeStats {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

export function treeStats(root: DirNode): TreeStats {
  const s: TreeStats = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  const stack: DirNode[] = [root];
  while (stack.length) {
    const d = stack.pop()!;
    s.directories++;
    for (const c of d.children.values()) {
      if (c.kind === 'dir') stack.push(c);
      else if (c.kind === 'file') {
        s.files++;
        s.bytes += c.size;
      } else s.symlinks++;
    }
  }
  return s;
}
