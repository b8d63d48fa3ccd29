/* Generated from media-schema/disc-project.schema.json by `npm run gen:types`. Do not edit by hand. */

/**
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "FileSystem".
 */
export type FileSystem = 'iso9660' | 'joliet' | 'rockridge';
/**
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "FileEntry".
 */
export type FileEntry = SourceEntry | DirectoryEntry;
/**
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "MediaType".
 */
export type MediaType =
  | 'cd-r'
  | 'cd-r-74'
  | 'cd-r-80'
  | 'cd-r-90'
  | 'cd-r-99'
  | 'cd-rw'
  | 'dvd+r'
  | 'dvd-r'
  | 'dvd+rw'
  | 'dvd-rw'
  | 'dvd+r-dl'
  | 'dvd-r-dl'
  | 'dvd-ram'
  | 'bd-r'
  | 'bd-r-dl'
  | 'bd-r-tl'
  | 'bd-r-ql'
  | 'bd-re'
  | 'bd-re-dl'
  | 'bd-re-tl';

/**
 * A DiscForge disc project (*.disc.json, JSON with comments): what goes on the disc and how it is mastered.
 */
export interface DiscProject {
  /**
   * URI of this JSON Schema (for editors).
   */
  $schema?: string;
  /**
   * What sort of disc this project makes. `data`: a file-system image (ISO 9660 and friends).
   */
  kind: 'data';
  volume?: Volume;
  /**
   * Target media, used for capacity checks. The planned image must fit on it.
   */
  media?:
    | 'cd-r'
    | 'cd-r-74'
    | 'cd-r-80'
    | 'cd-r-90'
    | 'cd-r-99'
    | 'cd-rw'
    | 'dvd+r'
    | 'dvd-r'
    | 'dvd+rw'
    | 'dvd-rw'
    | 'dvd+r-dl'
    | 'dvd-r-dl'
    | 'dvd-ram'
    | 'bd-r'
    | 'bd-r-dl'
    | 'bd-r-tl'
    | 'bd-r-ql'
    | 'bd-re'
    | 'bd-re-dl'
    | 'bd-re-tl';
  /**
   * File systems written into the image; they share one copy of each file's data. Default: iso9660, joliet, rockridge.
   *
   * @minItems 1
   */
  fileSystems?: [FileSystem, ...FileSystem[]];
  iso9660?: Iso9660Options;
  joliet?: JolietOptions;
  /**
   * What goes on the disc, in order. Later entries may add to folders created by earlier ones, but never replace a file.
   */
  files: FileEntry[];
  /**
   * Where `discforge build` writes the image, relative to this manifest (overridden by --output).
   */
  output?: string;
}
/**
 * Volume identification, written to the volume descriptors.
 *
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "Volume".
 */
export interface Volume {
  /**
   * Volume label (ISO 9660: up to 32 d-characters A-Z 0-9 _, mapped; Joliet: up to 16 characters).
   */
  label?: string;
  /**
   * Publisher identifier (ECMA-119 8.4.20).
   */
  publisher?: string;
  /**
   * Data preparer identifier (ECMA-119 8.4.21).
   */
  preparer?: string;
  /**
   * Application identifier (ECMA-119 8.4.22). Default: DISCFORGE.
   */
  application?: string;
  /**
   * System identifier (ECMA-119 8.4.5).
   */
  system?: string;
  /**
   * Volume set identifier (ECMA-119 8.4.19).
   */
  volumeSet?: string;
  /**
   * Creation time (RFC 3339). When set, every timestamp in the image is this time, so that the same manifest and inputs give a byte-identical image.
   */
  created?: string;
}
/**
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "Iso9660Options".
 */
export interface Iso9660Options {
  /**
   * Interchange level: 1 (8.3 names), 2 (31-character names), 3 (files of 4 GiB and more as several extents), 4 (ISO 9660:1999: 207-character names, no depth limit). Default 3.
   */
  level?: 1 | 2 | 3 | 4;
}
/**
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "JolietOptions".
 */
export interface JolietOptions {
  /**
   * Allow Joliet names of up to 103 characters (as Windows reads them) instead of the specified 64.
   */
  longNames?: boolean;
}
/**
 * Files from the computer: a file, a folder (recursively) or a glob, relative to the manifest.
 *
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "SourceEntry".
 */
export interface SourceEntry {
  /**
   * A file, a folder or a glob (*, **, ?, [..], {a,b}), relative to this manifest.
   */
  source: string;
  /**
   * Where it goes on the disc. Ends with / to put it into that folder. Default: the source's name in the root (globs: the root).
   */
  target?: string;
  /**
   * Glob patterns, matched against paths relative to the folder or glob base; a pattern without / also matches any base name.
   */
  exclude?: string[];
  /**
   * Store what symbolic links point to instead of the links (Rock Ridge keeps links by default).
   */
  followSymlinks?: boolean;
}
/**
 * An (empty) folder on the disc.
 *
 * This interface was referenced by `DiscProject`'s JSON-Schema
 * via the `definition` "DirectoryEntry".
 */
export interface DirectoryEntry {
  /**
   * Absolute path of the folder on the disc.
   */
  directory: string;
}
