// Files of native/ that the library embeds as text (`import … with { type: "text" }`), so a compiled
// a3s binary carries them.

declare module "*/kernel/a3s.config" {
  const text: string;
  export default text;
}

declare module "*/kernel/build.sh" {
  const text: string;
  export default text;
}
