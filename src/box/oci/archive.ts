/**
 * Image archives, as `docker save`, `docker load` and `docker import` know them; the parts live in
 * archive/: save.ts writes one tar that is an OCI image layout and a Docker archive at once, load.ts
 * reads either format (and the older Docker layout) as untrusted input, and import.ts turns a rootfs
 * tarball into a one-layer image.
 */
export { parseChanges } from "./archive/changes.ts";
export type { ArchiveInput } from "./archive/files.ts";
export { type ImportOptions, type ImportResult, importRootfs } from "./archive/import.ts";
export { type LoadedImage, type LoadOptions, loadImages } from "./archive/load.ts";
export { type ManifestBlob, ociManifest } from "./archive/oci-manifest.ts";
export { type SavedImage, type SaveOptions, saveImages } from "./archive/save.ts";
